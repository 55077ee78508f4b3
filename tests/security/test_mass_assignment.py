"""API6-style mass assignment (OWASP folds it into API3:2023): fields a client may not set —
ids, counters, owners, times, hashes — are ignored when sent, never applied."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from microblog.accounts.models import User
from microblog.extensions import db
from microblog.posts.models import Post
from tests.support import ApiUser

FORGED_HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"
LONG_AGO = "2001-01-01T00:00:00+00:00"


def _account(app: Flask, user_id: int) -> dict[str, object]:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        row = {
            name: getattr(user, name)
            for name in (
                "id",
                "username",
                "email",
                "password_hash",
                "created_at",
                "post_count",
                "follower_count",
                "following_count",
                "last_read_message_id",
            )
        }
        db.session.rollback()
    return row


def test_read_only_fields_of_an_account_are_ignored(
    app: Flask, client: FlaskClient, victim: ApiUser, attacker: ApiUser
) -> None:
    before = _account(app, attacker.id)

    response = client.put(
        f"/api/users/{attacker.id}",
        json={
            "about_me": "only this changes",
            "id": victim.id,
            "post_count": 1000,
            "follower_count": 1000,
            "following_count": 1000,
            "email_verified": True,
            "is_admin": True,
            "password_hash": FORGED_HASH,
            "created_at": LONG_AGO,
            "last_seen": LONG_AGO,
            "last_read_message_id": 10**6,
            "_links": {"self": f"/api/users/{victim.id}"},
        },
        headers=attacker.headers,
    )

    assert response.status_code == 200, response.json
    assert response.json["id"] == attacker.id
    assert response.json["about_me"] == "only this changes"
    assert _account(app, attacker.id) == before
    assert "email_verified" not in response.json and "is_admin" not in response.json


def test_read_only_fields_of_a_post_are_ignored(
    app: Flask, client: FlaskClient, victim: ApiUser, attacker: ApiUser
) -> None:
    existing = client.post("/api/posts", json={"body": "victim's"}, headers=victim.headers)
    started = datetime.now(UTC)

    response = client.post(
        "/api/posts",
        json={
            "body": "mine",
            "id": existing.json["id"],
            "user_id": victim.id,
            "author": {"id": victim.id, "username": "victim"},
            "timestamp": LONG_AGO,
            "language": "xx",
            "_links": {"self": "/api/posts/1"},
        },
        headers=attacker.headers,
    )

    assert response.status_code == 201, response.json
    assert response.json["id"] != existing.json["id"]
    assert response.json["author"]["id"] == attacker.id
    with app.app_context():
        posts = db.session.scalars(sa.select(Post).order_by(Post.id)).all()
        assert [(post.user_id, post.body) for post in posts] == [
            (victim.id, "victim's"),
            (attacker.id, "mine"),
        ]
        assert posts[1].timestamp >= started.replace(microsecond=0)
        assert posts[1].language != "xx"
        db.session.rollback()
