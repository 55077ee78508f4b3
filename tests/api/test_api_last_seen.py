"""last_seen: refreshed by authenticated requests, written at most once a minute."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.api.api_helpers import ApiUser, assert_close_to_now, parse_timestamp, set_last_seen


def last_seen(client: FlaskClient, viewer: ApiUser, user: ApiUser) -> datetime:
    shown = client.get(f"/api/users/{user.id}", headers=viewer.headers).json
    return parse_timestamp(shown["last_seen"])


def test_an_authenticated_request_refreshes_a_stale_last_seen(
    app: Flask, client: FlaskClient, susan: ApiUser, make_user: Callable[..., ApiUser]
) -> None:
    bob = make_user("bob")
    set_last_seen(app, susan.id, datetime.now(UTC) - timedelta(hours=2))

    me = client.get("/api/me", headers=susan.headers)

    assert_close_to_now(parse_timestamp(me.json["last_seen"]), timedelta(seconds=10))
    # Stored, not only shown: another user sees it too.
    assert_close_to_now(last_seen(client, bob, susan), timedelta(seconds=10))


def test_last_seen_is_not_rewritten_within_the_minute(
    app: Flask, client: FlaskClient, susan: ApiUser, count_queries: Callable[[], Any]
) -> None:
    set_last_seen(app, susan.id, datetime.now(UTC) - timedelta(hours=2))
    first = client.get("/api/me", headers=susan.headers).json["last_seen"]

    with count_queries() as counted:
        second = client.get("/api/me", headers=susan.headers).json["last_seen"]

    updates = [s for s in counted.statements if s.lstrip().upper().startswith("UPDATE")]
    assert updates == [], counted.statements
    assert second == first


def test_a_recent_last_seen_is_left_alone(app: Flask, client: FlaskClient, susan: ApiUser) -> None:
    thirty_seconds_ago = datetime.now(UTC) - timedelta(seconds=30)
    set_last_seen(app, susan.id, thirty_seconds_ago)

    shown = client.get("/api/me", headers=susan.headers).json["last_seen"]

    assert parse_timestamp(shown) == thirty_seconds_ago
