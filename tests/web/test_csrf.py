"""Every form of the site is refused (400) without its CSRF token, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from microblog.accounts.services import get_by_username
from microblog.extensions import db
from microblog.tasks.models import Task
from microblog.web.auth import reset_token
from tests.web.web_support import SITE_POSTS, Browser, post_bodies, text

POSTS = SITE_POSTS


def test_the_list_above_is_every_post_of_the_site(app: Flask) -> None:
    urls = app.url_map.bind("localhost")
    listed = {urls.match(path, method="POST")[0] for path in POSTS}
    every = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.rule.startswith("/api")
    }
    assert listed == every


# Every form without a token; a few with a bad one, or with a real one from another session
# (the attacker's own, fetched from the site). The views of the buttons (follow, unfollow,
# export) check no token of their own: CSRFProtect refuses before they run.
CASES = [(path, "missing") for path in POSTS] + [
    (path, token)
    for path in ("/login", "/", "/follow/carol", "/export", "/reset_password/{token}")
    for token in ("wrong", "someone else's")
]


@pytest.mark.parametrize(("path", "token"), CASES)
def test_a_post_without_its_token_is_refused_and_changes_nothing(
    app: Flask, signed_in: Callable[..., Browser], path: str, token: str
) -> None:
    john = signed_in("john")
    john.write("john's post")
    signed_in("carol")
    susan = signed_in("susan")
    susan.follow("john")
    susan.get("/user/john")  # its flash is read
    anonymous = Browser(app.test_client())
    mallory = Browser(app.test_client())  # a page of the site, in the attacker's own browser
    with app.app_context():
        link_token = reset_token(get_by_username(db.session, "susan"))
    target = path.format(token=link_token)
    person = anonymous if "reset_password" in path or path in ("/register", "/login") else susan
    data = dict(POSTS[path])
    if token == "wrong":
        data["csrf_token"] = "not-the-token"
    elif token == "someone else's":
        data["csrf_token"] = mallory.csrf_token("/login")

    response = person.post(target, data, token_from=None)

    assert response.status_code == 400
    assert "CSRF" in text(response)
    # Nothing changed: susan is still signed in, follows john and not carol, wrote nothing,
    # sent no message; no one else registered; her password and profile are as they were.
    assert susan.signed_in_as() == "susan"
    assert anonymous.signed_in_as() is None
    assert post_bodies(susan.get("/explore")) == ["john's post"]
    assert 'action="/unfollow/john"' in text(susan.get("/user/john"))
    assert 'action="/follow/carol"' in text(susan.get("/user/carol"))
    assert john.get("/fragments/unread").json == {"count": 0}
    assert "<h1>susan</h1>" in text(susan.get("/user/susan"))
    assert susan.get("/user/mallory").status_code == 404
    assert anonymous.login("susan").location == "/"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 0
