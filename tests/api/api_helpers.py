"""Helpers shared by the API tests: the shapes the contract promises, and fast bulk setup.

Bulk setup writes rows straight into the database (one precomputed password hash for everyone),
so tests that need a hundred users do not pay for a hundred registrations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.test import TestResponse

from microblog import totals
from microblog.accounts.models import User
from microblog.accounts.passwords import hash_password
from microblog.extensions import db
from microblog.social.models import Follow
from tests.support import ApiUser, basic_auth, make_app

__all__ = ["ApiUser", "basic_auth", "make_app"]

PASSWORD = "correct-horse"

# What a client without a valid bearer token might send instead.
BAD_CREDENTIALS = [
    pytest.param({}, id="none"),
    pytest.param({"Authorization": "Bearer not-a-real-token"}, id="garbage-bearer"),
    pytest.param(basic_auth("susan", PASSWORD), id="basic-instead-of-bearer"),
]

USER_FIELDS = {
    "id",
    "username",
    "last_seen",
    "about_me",
    "post_count",
    "follower_count",
    "following_count",
    "_links",
}
USER_LINKS = {"self", "followers", "following", "posts", "avatar"}
# No key in any user representation may contain one of these.
SECRET_WORDS = ("password", "hash", "token")


def assert_json_error(response: TestResponse, status: int, *words: str) -> str:
    """The contract's error: `{"error": reason, "message": ...}`; returns the message.

    Each of `words` must appear in the message (case-insensitively), e.g. the field at fault.
    """
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert isinstance(body, dict)
    assert set(body) == {"error", "message"}, body
    assert body["error"] == HTTP_STATUS_CODES[status]
    message = body["message"]
    assert isinstance(message, str)
    for word in words:
        assert word.lower() in message.lower(), message
    return message


def assert_no_secrets(response: TestResponse, password: str) -> None:
    """No password, hash or token field anywhere in the body, nor the password's text."""

    def walk(value: Any) -> Iterable[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                yield key
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    keys = list(walk(response.json))
    for key in keys:
        assert not any(word in key.lower() for word in SECRET_WORDS), key
    text = response.get_data(as_text=True)
    assert password not in text
    assert "$argon2" not in text


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp that states its UTC offset."""
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def assert_close_to_now(value: datetime, slack: timedelta = timedelta(seconds=30)) -> None:
    assert abs(value - datetime.now(UTC)) < slack, value


def page_of(url: str | None) -> tuple[int, int] | None:
    """(page, per_page) from a collection link."""
    if url is None:
        return None
    query = parse_qs(urlsplit(url).query)
    return int(query["page"][0]), int(query["per_page"][0])


LINK_VALUE = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]*)"')


def link_header(response: TestResponse) -> dict[str, str]:
    """The RFC 8288 Link header as {rel: url}; empty when there is none."""
    return {rel: url for url, rel in LINK_VALUE.findall(response.headers.get("Link", ""))}


def token_for(client: FlaskClient, login: str, password: str = PASSWORD) -> dict[str, str]:
    """Bearer headers for an existing user, obtained through the API."""
    response = client.post("/api/tokens", headers=basic_auth(login, password))
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def insert_users(app: Flask, usernames: Sequence[str], password: str = PASSWORD) -> list[int]:
    """Users written straight into the database, in order; returns their ids."""
    with app.app_context():
        password_hash = hash_password(password)
        ids = db.session.scalars(
            sa.insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "username": name,
                    "email": f"{name.lower()}@example.com",
                    "password_hash": password_hash,
                }
                for name in usernames
            ],
        ).all()
        totals.recount(
            db.session, totals.USERS, db.session.scalar(sa.select(sa.func.count(User.id))) or 0
        )
        db.session.commit()
    return list(ids)


def insert_follows(app: Flask, follower_ids: Sequence[int], followed_id: int) -> None:
    """Follow rows written straight into the database, with the counters moved to match."""
    with app.app_context():
        db.session.execute(
            sa.insert(Follow),
            [{"follower_id": fid, "followed_id": followed_id} for fid in follower_ids],
        )
        db.session.execute(
            sa.update(User)
            .where(User.id.in_(follower_ids))
            .values(following_count=User.following_count + 1)
        )
        db.session.execute(
            sa.update(User)
            .where(User.id == followed_id)
            .values(follower_count=User.follower_count + len(follower_ids))
        )
        db.session.commit()


def set_last_seen(app: Flask, user_id: int, when: datetime) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user_id).values(last_seen=when))
        db.session.commit()
