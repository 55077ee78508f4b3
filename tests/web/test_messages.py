"""Private messages: writing one, the inbox (which marks them read), the unread badge."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from microblog.db import utcnow, write_intent
from microblog.extensions import db
from microblog.messaging.models import MESSAGE_MAX, Message
from tests.web.web_support import Browser, field_errors, flashes, labels, text

MESSAGE_BODY = re.compile(r'<p class="mb-1 message-body">(.*?)</p>', re.S)


@pytest.fixture
def susan(signed_in: Callable[..., Browser]) -> Browser:
    return signed_in("susan")


@pytest.fixture
def john(signed_in: Callable[..., Browser]) -> Browser:
    return signed_in("john")


def badge(person: Browser) -> str:
    page = text(person.get("/explore"))
    match = re.search(r'<span id="unread-badge" class="([^"]*)"[^>]*>([^<]*)</span>', page)
    assert match
    classes, count = match.groups()
    return "hidden" if "d-none" in classes.split() else count


def test_a_message_is_sent_counted_as_unread_and_read_in_the_inbox(
    susan: Browser, john: Browser
) -> None:
    form = susan.get("/send_message/john")
    assert "Send a message to john" in text(form)
    assert labels(form) == ["Message"]
    sent = susan.send_message("john", "first")
    assert (sent.status_code, sent.location) == (302, "/user/john")
    assert flashes(susan.get("/user/john")) == ["Your message has been sent."]
    susan.send_message("john", "second")

    assert badge(john) == "2"
    assert john.get("/fragments/unread").json == {"count": 2}
    assert badge(susan) == "hidden"
    assert susan.get("/fragments/unread").json == {"count": 0}

    inbox = john.get("/messages")
    assert inbox.status_code == 200
    assert MESSAGE_BODY.findall(text(inbox)) == ["second", "first"]
    assert 'href="/user/susan"' in text(inbox) and 'data-popup="/user/susan/popup"' in text(inbox)
    assert re.search(r'<span id="unread-badge" class="badge bg-danger d-none"', text(inbox))

    assert badge(john) == "hidden"
    assert john.get("/fragments/unread").json == {"count": 0}
    susan.send_message("john", "third")
    assert john.get("/fragments/unread").json == {"count": 1}
    assert "No messages yet." in text(susan.get("/messages"))


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("", "This field is required."),
        ("x" * (MESSAGE_MAX + 1), f"body must be at most {MESSAGE_MAX} characters"),
        ("a\x00b", "body must not contain NUL characters"),
    ],
)
def test_an_empty_or_too_long_message_is_refused_on_the_form(
    susan: Browser, john: Browser, body: str, error: str
) -> None:
    page = susan.send_message("john", body)
    assert page.status_code == 200
    assert field_errors(page) == [error]
    assert john.get("/fragments/unread").json == {"count": 0}


def test_a_message_to_yourself_is_a_flashed_error(susan: Browser) -> None:
    page = susan.send_message("susan", "talking to myself")
    assert page.status_code == 200
    assert flashes(page) == ["you cannot send a message to yourself"]
    assert "No messages yet." in text(susan.get("/messages"))


def test_a_message_to_nobody_is_a_404_page(susan: Browser) -> None:
    page = susan.post("/send_message/nobody", {"message": "hello?"})
    assert page.status_code == 404
    assert "<h1>404 Not Found</h1>" in text(page)


def test_the_inbox_goes_back_twenty_messages_at_a_time(
    app: Flask, susan: Browser, john: Browser
) -> None:
    rows = [
        {"sender_id": 1, "recipient_id": 2, "body": f"message {n}", "timestamp": utcnow()}
        for n in range(25)
    ]
    with app.app_context(), write_intent():
        db.session.execute(sa.insert(Message), rows)
        db.session.commit()
    first = text(john.get("/messages"))
    assert MESSAGE_BODY.findall(first) == [f"message {n}" for n in range(24, 4, -1)]
    older = re.search(r'href="(/messages\?max_id=\d+)">Older messages', first)
    assert older
    second = text(john.get(older.group(1)))
    assert MESSAGE_BODY.findall(second) == [f"message {n}" for n in range(4, -1, -1)]
    assert "Older messages" not in second
