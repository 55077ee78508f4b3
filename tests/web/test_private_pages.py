"""No answer of the site is kept by a cache: every page depends on who asks (their feed, their
messages, their export) or at least on the session (a CSRF token, a flashed message). Every
GET route of the site is tried, so a new page is covered; static files keep their own policy."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask
from werkzeug.routing import Rule

from microblog.accounts.services import get_by_username
from microblog.extensions import db
from microblog.posts.models import Post
from microblog.web.auth import reset_token
from tests.web.web_support import SITE_POSTS, Browser, text

PRIVATE = "private, no-store"
# Files the same for everyone, each with a cache policy of its own (avatars: a year).
STATIC = ("static", "bootstrap.static", "avatars.identicon")


def site_pages(app: Flask) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and not rule.rule.startswith("/api")
        and rule.endpoint not in STATIC
    ]


def finished_export(person: Browser, timeout: float = 60) -> str:
    """The id of an export `person` started and saw finish, as the progress page does."""
    started = person.post("/export", token_from="/")
    task_id = started.location.rsplit("/", 1)[-1]
    deadline = time.monotonic() + timeout
    while not person.get(f"/export/{task_id}/status").json["complete"]:  # type: ignore[index]
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.05)
    return task_id


@pytest.fixture
def arguments(app: Flask, signed_in: Callable[..., Browser]) -> tuple[Browser, dict[str, str]]:
    """susan, signed in, who wrote a post and exported her posts; a value for each argument of
    the site's routes. A route with an argument not named here fails the test below."""
    susan = signed_in("susan")
    signed_in("john")
    susan.write("susan's post")
    with app.app_context():
        user = get_by_username(db.session, "susan")
        post_id = db.session.query(Post.id).filter_by(user_id=user.id).scalar()
        token = reset_token(user)
    values = {
        "username": "john",
        "recipient": "john",
        "task_id": finished_export(susan),
        "post_id": str(post_id),
        "token": token,
    }
    return susan, values


def test_no_page_of_the_site_may_be_kept_by_a_cache(
    app: Flask, arguments: tuple[Browser, dict[str, str]]
) -> None:
    susan, values = arguments
    anonymous = Browser(app.test_client())
    pages = site_pages(app)
    assert {"/messages", "/export/<task_id>/download", "/fragments/unread"} <= {
        rule.rule for rule in pages
    }
    for rule in pages:
        path = rule.build({name: values[name] for name in rule.arguments})[1]  # type: ignore[index]
        for person in (susan, anonymous):
            response = person.get(path)
            assert response.status_code < 500, (path, text(response))
            assert "no-store" in response.headers.get("Cache-Control", ""), (path, response)
    download = susan.get(f"/export/{values['task_id']}/download")
    assert download.status_code == 200 and "susan's post" in text(download)
    assert download.headers["Cache-Control"] == PRIVATE
    assert susan.get("/messages").headers["Cache-Control"] == PRIVATE


@pytest.mark.parametrize("path", SITE_POSTS)
def test_no_answer_to_a_form_may_be_kept_by_a_cache(
    app: Flask, signed_in: Callable[..., Browser], path: str
) -> None:
    susan = signed_in("susan")
    signed_in("john")
    signed_in("carol")
    susan.follow("john")

    response = susan.post(path.format(token="expired"), SITE_POSTS[path])

    assert response.status_code < 500
    assert response.headers["Cache-Control"] == PRIVATE


def test_static_files_keep_their_own_cache_policy(app: Flask) -> None:
    with Browser(app.test_client()).get("/static/app.js") as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")
        assert "ETag" in response.headers
