"""Avatars: drawn by this server from the user id, never from the email address; Gravatar only
where the operator opts in (AVATARS=gravatar), with the pages' CSP following the choice."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from microblog.accounts import avatars
from microblog.config import avatars_from_environment
from tests.support import ApiUser
from tests.web.web_support import Browser


def avatar_of(client: FlaskClient, who: ApiUser, whose: ApiUser) -> str:
    response = client.get(f"/api/users/{whose.id}", headers=who.headers)
    assert response.status_code == 200
    return str(response.json["_links"]["avatar"])


def test_every_account_gets_a_picture_drawn_here_from_its_id(
    client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan, bob = make_user("susan"), make_user("bob")

    avatars = {avatar_of(client, susan, whose) for whose in (susan, bob)}

    assert avatars == {f"/avatars/{susan.id}.svg", f"/avatars/{bob.id}.svg"}
    pictures = [client.get(url) for url in sorted(avatars)]
    for picture in pictures:
        assert picture.status_code == 200
        assert picture.mimetype == "image/svg+xml"
        assert picture.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Accept-Language" not in picture.headers.get("Vary", "")
        assert picture.get_data(as_text=True).startswith("<svg ")
    assert pictures[0].get_data() != pictures[1].get_data()


def test_an_avatar_says_nothing_of_the_email_and_stays_when_it_changes(
    client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    before = avatar_of(client, susan, susan)
    picture = client.get(before).get_data()

    changed = client.put(
        f"/api/users/{susan.id}",
        json={"email": "elsewhere@example.org", "old_password": susan.password},
        headers=susan.headers,
    )

    assert changed.status_code == 200, changed.json
    assert avatar_of(client, susan, susan) == before
    assert client.get(before).get_data() == picture
    for email in (susan.email, "elsewhere@example.org"):
        for digest in (hashlib.md5, hashlib.sha256):
            hashed = digest(email.lower().encode()).hexdigest()
            assert hashed not in before and hashed.encode() not in picture


@pytest.mark.parametrize("path", ["/avatars/0.svg", "/avatars/2147483648.svg", "/avatars/x.svg"])
def test_an_avatar_of_no_possible_id_is_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_no_page_loads_an_image_from_another_host_by_default(
    client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    browser = Browser(client)
    assert browser.login("susan", susan.password).status_code == 302

    page = browser.get("/user/susan")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'src="/avatars/{susan.id}.svg"' in html
    assert "gravatar" not in html
    img_src = _img_src(page.headers["Content-Security-Policy"])
    assert img_src == ["'self'", "data:"]
    # The same picture for everyone, signed in or not: it sets no cookie.
    picture = browser.get(f"/avatars/{susan.id}.svg")
    assert picture.status_code == 200
    assert "Set-Cookie" not in picture.headers


@pytest.fixture
def gravatar_app(app: Flask, make_other_app: Callable[..., Flask]) -> Iterator[Flask]:
    """A server set to AVATARS=gravatar. The choice is the process's (`avatars.configure`):
    the test's own app gets its own back afterwards."""
    yield make_other_app(AVATARS="gravatar")
    avatars.configure(app.config["AVATARS"])


def test_gravatar_is_shown_only_where_the_operator_opts_in(
    gravatar_app: Flask, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")
    client = gravatar_app.test_client()

    avatar = urlsplit(avatar_of(client, susan, susan))
    page = client.get("/login")

    digest = hashlib.md5(susan.email.lower().encode(), usedforsecurity=False).hexdigest()
    assert (avatar.hostname, avatar.path) == ("www.gravatar.com", f"/avatar/{digest}")
    assert "https://www.gravatar.com" in _img_src(page.headers["Content-Security-Policy"])


def test_an_unknown_avatar_setting_stops_the_server_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AVATARS", "libravatar")
    with pytest.raises(ValueError, match="AVATARS must be one of identicon, gravatar"):
        avatars_from_environment()
    monkeypatch.setenv("AVATARS", "Gravatar ")
    assert avatars_from_environment() == "gravatar"


def _img_src(policy: str) -> list[str]:
    found = re.search(r"img-src ([^;]*)", policy)
    assert found, policy
    return found.group(1).split()
