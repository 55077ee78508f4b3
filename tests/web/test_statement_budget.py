"""Each page costs a small, fixed number of SQL statements, however many rows it shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask

from microblog.db import utcnow, write_intent
from microblog.extensions import db
from microblog.messaging.models import Message
from tests.tasks.task_support import insert_posts
from tests.web.web_support import Browser, post_bodies

BUDGET = 6
PAGES = {
    "home": "/",
    "explore": "/explore",
    "profile": "/user/john",
    "messages": "/messages",
    "search posts": "/search?q=post",
    "search people": "/search?q=john&type=users",
    "hover card": "/user/john/popup",
    "unread": "/fragments/unread",
}


def add_rows(app: Flask, count: int) -> None:
    """`count` more posts by john (1) and by susan (2), and messages from john to susan."""
    insert_posts(app, 1, count)
    insert_posts(app, 2, count)
    rows = [
        {"sender_id": 1, "recipient_id": 2, "body": f"message {n}", "timestamp": utcnow()}
        for n in range(count)
    ]
    with app.app_context(), write_intent():
        db.session.execute(sa.insert(Message), rows)
        db.session.commit()


def measure(person: Browser, count_queries: Callable[[], Any]) -> dict[str, list[str]]:
    measured = {}
    for name, path in PAGES.items():
        with count_queries() as counted:
            response = person.get(path)
        assert response.status_code == 200, name
        measured[name] = counted.statements
    return measured


def test_pages_cost_a_fixed_small_number_of_statements(
    app: Flask,
    backend: str,
    signed_in: Callable[..., Browser],
    count_queries: Callable[[], Any],
) -> None:
    signed_in("john")
    susan = signed_in("susan")
    susan.follow("john")

    add_rows(app, 1)
    assert len(post_bodies(susan.get("/"))) == 2
    few = measure(susan, count_queries)
    add_rows(app, 30)
    assert len(post_bodies(susan.get("/"))) == 20
    many = measure(susan, count_queries)

    print(f"\nSQL statements per page on {backend} (2 posts on the home page / 20):")
    for name in PAGES:
        print(f"  {name:14} {len(few[name])} / {len(many[name])}")
    assert {name: len(s) for name, s in many.items()} == {
        name: len(s) for name, s in few.items()
    }, many
    over = {name: statements for name, statements in many.items() if len(statements) > BUDGET}
    assert not over, over
