"""Helpers for the security tests: a world with something of everyone's, and the database's
contents to compare before and after an attack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from microblog.db import Base
from microblog.extensions import db
from tests.support import ApiUser
from tests.tasks.task_support import start_export, wait_for_task

# Every table, and the columns an attacker's own requests may move (their `last_seen`).
TABLES = (
    "users",
    "tokens",
    "posts",
    "follows",
    "messages",
    "notifications",
    "tasks",
    "task_results",
    "idempotent_requests",
)
VOLATILE = {"users": {"last_seen"}}


@dataclass(frozen=True)
class World:
    """What the victim owns: a post, a message to a third person, an export, a follow, a
    token."""

    post_id: int
    message_id: int
    task_id: str
    message_body: str
    token_id: int


def build_world(client: FlaskClient, victim: ApiUser, third: ApiUser) -> World:
    post = client.post("/api/posts", json={"body": "the victim's post"}, headers=victim.headers)
    assert post.status_code == 201, post.json
    body = "the victim's private words to third"
    message = client.post(
        "/api/messages", json={"recipient_id": third.id, "body": body}, headers=victim.headers
    )
    assert message.status_code == 201, message.json
    follow = client.post(f"/api/me/following/{third.id}", headers=victim.headers)
    assert follow.status_code == 204
    task = start_export(client, victim.headers)
    wait_for_task(client, victim.headers, task["id"])
    [token] = client.get("/api/tokens", headers=victim.headers).json["items"]
    return World(post.json["id"], message.json["id"], task["id"], body, token["id"])


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order, without the volatile columns."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with app.app_context():
        for name in TABLES:
            table = Base.metadata.tables[name]
            columns = [c for c in table.columns if c.name not in VOLATILE.get(name, set())]
            ordered = db.session.execute(sa.select(*columns)).all()
            rows[name] = sorted((tuple(row) for row in ordered), key=repr)
        db.session.rollback()
    return rows


def owned_by(app: Flask, user_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """What belongs to one user: their account (but counters that others move), posts,
    messages sent and received, tasks, tokens, and whom they follow."""
    queries = {
        "account": "SELECT username, email, password_hash, about_me FROM users WHERE id = :u",
        "posts": "SELECT id, body, timestamp, language FROM posts WHERE user_id = :u",
        "messages": "SELECT id, sender_id, recipient_id, body FROM messages "
        "WHERE sender_id = :u OR recipient_id = :u",
        "tasks": "SELECT id, name, body, error FROM tasks "
        "LEFT JOIN task_results ON task_results.task_id = tasks.id WHERE user_id = :u",
        "tokens": "SELECT hash, revoked_at FROM tokens WHERE user_id = :u",
        "following": "SELECT followed_id FROM follows WHERE follower_id = :u",
    }
    with app.app_context():
        owned = {
            name: sorted(
                (tuple(row) for row in db.session.execute(sa.text(sql), {"u": user_id})), key=repr
            )
            for name, sql in queries.items()
        }
        db.session.rollback()
    return owned
