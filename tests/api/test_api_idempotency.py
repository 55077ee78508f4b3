"""Idempotency keys: a POST /api/posts or POST /api/messages retried with the same
`Idempotency-Key` answers the first response and creates nothing more, for 24 hours."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from microblog.api.idempotency import IdempotentRequest
from microblog.db import utcnow
from tests.api.api_helpers import ApiUser, assert_json_error
from tests.api.timeline_helpers import run_together, set_time


@dataclass(frozen=True)
class Route:
    """A route that takes idempotency keys, and how to see what it created."""

    path: str
    # What `sender` sends to the other user.
    payload: Callable[[ApiUser, ApiUser], dict[str, Any]]
    # A bad request the route refuses with 400.
    bad: Callable[[ApiUser, ApiUser], dict[str, Any]]
    # The list that shows what `sender` created.
    created_list: str

    def created(self, client: FlaskClient, sender: ApiUser) -> list[int]:
        url = self.created_list.format(id=sender.id)
        response = client.get(url, headers=sender.headers)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]


POSTS = Route(
    "/api/posts",
    payload=lambda sender, other: {"body": f"by {sender.username}"},
    bad=lambda sender, other: {"body": "   "},
    created_list="/api/users/{id}/posts",
)
MESSAGES = Route(
    "/api/messages",
    payload=lambda sender, other: {"recipient_id": other.id, "body": f"to {other.username}"},
    bad=lambda sender, other: {"recipient_id": other.id, "body": ""},
    created_list="/api/messages/sent",
)
ROUTES = [pytest.param(POSTS, id="posts"), pytest.param(MESSAGES, id="messages")]


def post(
    client: FlaskClient,
    route: Route,
    sender: ApiUser,
    other: ApiUser,
    key: str | None,
    payload: dict[str, Any] | None = None,
) -> TestResponse:
    headers = dict(sender.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    sent = route.payload(sender, other) if payload is None else payload
    return client.post(route.path, json=sent, headers=headers)


def post_count(client: FlaskClient, user: ApiUser) -> int:
    return client.get("/api/me", headers=user.headers).json["post_count"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_retry_with_the_same_key_replays_the_first_answer(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, route: Route
) -> None:
    first = post(client, route, susan, bob, "key-1")

    retry = post(client, route, susan, bob, "key-1")

    assert first.status_code == 201, first.json
    assert "Idempotent-Replayed" not in first.headers
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json == first.json
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.mimetype == "application/json"
    assert route.created(client, susan) == [first.json["id"]]


@pytest.mark.parametrize("route", ROUTES)
def test_many_retries_create_one_thing(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, route: Route
) -> None:
    answers = [post(client, route, susan, bob, "same") for _ in range(4)]

    assert {answer.json["id"] for answer in answers} == {answers[0].json["id"]}
    assert route.created(client, susan) == [answers[0].json["id"]]
    assert post_count(client, susan) == (1 if route is POSTS else 0)


def test_a_replayed_post_leaves_the_post_count_alone(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    post(client, POSTS, susan, bob, "k")
    assert post_count(client, susan) == 1

    post(client, POSTS, susan, bob, "k")

    assert post_count(client, susan) == 1
    assert client.get("/api/posts", headers=bob.headers).json["_meta"]["total_items"] == 1


def test_a_replayed_message_is_received_once(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    post(client, MESSAGES, susan, bob, "k")

    post(client, MESSAGES, susan, bob, "k")

    inbox = client.get("/api/messages", headers=bob.headers).json
    assert inbox["_meta"]["total_items"] == 1
    assert client.get("/api/me", headers=bob.headers).json["unread_message_count"] == 0


@pytest.mark.parametrize("route", ROUTES)
def test_without_a_key_every_request_creates(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, route: Route
) -> None:
    first = post(client, route, susan, bob, None)
    second = post(client, route, susan, bob, None)

    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second.headers
    assert route.created(client, susan) == [second.json["id"], first.json["id"]]


@pytest.mark.parametrize("route", ROUTES)
def test_different_keys_are_different_requests(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, route: Route
) -> None:
    first = post(client, route, susan, bob, "key-a")
    second = post(client, route, susan, bob, "key-b")

    assert "Idempotent-Replayed" not in second.headers
    assert route.created(client, susan) == [second.json["id"], first.json["id"]]


@pytest.mark.parametrize("route", ROUTES)
def test_the_same_key_by_another_user_is_independent(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, route: Route
) -> None:
    susans = post(client, route, susan, bob, "shared-key")

    bobs = post(client, route, bob, susan, "shared-key")

    assert bobs.status_code == 201, bobs.json
    assert "Idempotent-Replayed" not in bobs.headers
    assert bobs.json["id"] != susans.json["id"]
    assert route.created(client, bob) == [bobs.json["id"]]
    assert route.created(client, susan) == [susans.json["id"]]


@pytest.mark.parametrize("route", ROUTES)
def test_the_same_key_with_a_different_body_is_422_and_creates_nothing(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, route: Route
) -> None:
    first = post(client, route, susan, bob, "reused")
    changed = {**route.payload(susan, bob), "body": "something else entirely"}

    response = post(client, route, susan, bob, "reused", payload=changed)

    message = assert_json_error(response, 422, "Idempotency-Key")
    assert "different request" in message
    assert route.created(client, susan) == [first.json["id"]]


@pytest.mark.parametrize(
    ("first_route", "second_route"),
    [(POSTS, MESSAGES), (MESSAGES, POSTS)],
    ids=["posts-then-messages", "messages-then-posts"],
)
def test_the_same_key_on_the_other_route_is_422(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, first_route: Route, second_route: Route
) -> None:
    post(client, first_route, susan, bob, "one-use")

    response = post(client, second_route, susan, bob, "one-use")

    assert_json_error(response, 422, "Idempotency-Key")
    assert second_route.created(client, susan) == []


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("key", "status"),
    [
        pytest.param("k" * 255, 201, id="255-characters"),
        pytest.param("k", 201, id="1-character"),
        pytest.param("8f14e45f-ceea-467f-a0e6-4f8b3c1d2e9a", 201, id="uuid"),
        pytest.param("k" * 256, 400, id="256-characters"),
        pytest.param("k" * 5000, 400, id="5000-characters"),
    ],
)
def test_key_length_is_1_to_255(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, route: Route, key: str, status: int
) -> None:
    response = post(client, route, susan, bob, key)

    if status == 400:
        assert_json_error(response, 400, "Idempotency-Key")
        assert route.created(client, susan) == []
    else:
        assert response.status_code == 201, response.json
        replay = post(client, route, susan, bob, key)
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert route.created(client, susan) == [response.json["id"]]


@pytest.mark.parametrize("route", ROUTES)
def test_a_failed_request_can_be_retried_with_the_same_key(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, route: Route
) -> None:
    failed = post(client, route, susan, bob, "retry-me", payload=route.bad(susan, bob))
    assert_json_error(failed, 400, "body")

    retried = post(client, route, susan, bob, "retry-me")

    assert retried.status_code == 201, retried.json
    assert "Idempotent-Replayed" not in retried.headers
    assert route.created(client, susan) == [retried.json["id"]]
    replay = post(client, route, susan, bob, "retry-me")
    assert replay.json == retried.json
    assert replay.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("age", "replayed"),
    [
        pytest.param(timedelta(hours=23, minutes=59), True, id="23h59m"),
        pytest.param(timedelta(hours=24, minutes=1), False, id="24h01m"),
        pytest.param(timedelta(days=30), False, id="30-days"),
    ],
)
def test_a_key_is_remembered_for_24_hours(
    app: Flask,
    client: FlaskClient,
    susan: ApiUser,
    bob: ApiUser,
    route: Route,
    age: timedelta,
    replayed: bool,
) -> None:
    first = post(client, route, susan, bob, "daily")
    set_time(
        app,
        IdempotentRequest,
        "created_at",
        (IdempotentRequest.user_id == susan.id) & (IdempotentRequest.key == "daily"),
        utcnow() - age,
    )

    again = post(client, route, susan, bob, "daily")

    assert again.status_code == 201, again.json
    if replayed:
        assert again.headers["Idempotent-Replayed"] == "true"
        assert route.created(client, susan) == [first.json["id"]]
    else:
        assert "Idempotent-Replayed" not in again.headers
        assert again.json["id"] != first.json["id"]
        assert route.created(client, susan) == [again.json["id"], first.json["id"]]
        # The key is claimed afresh: a retry now replays the new answer.
        assert post(client, route, susan, bob, "daily").json == again.json


@pytest.mark.parametrize("route", ROUTES)
def test_simultaneous_retries_create_one_thing(
    app: Flask, susan: ApiUser, bob: ApiUser, route: Route
) -> None:
    """The same key sent by several connections at once: one creates, the others replay."""

    def work(_n: int) -> TestResponse:
        return post(app.test_client(), route, susan, bob, "at-once")

    answers = run_together(6, work)

    assert [answer.status_code for answer in answers] == [201] * 6
    assert len({answer.get_data() for answer in answers}) == 1
    replayed = [answer.headers.get("Idempotent-Replayed") for answer in answers]
    assert sorted(replayed, key=str) == [None] + ["true"] * 5
    assert route.created(app.test_client(), susan) == [answers[0].json["id"]]


def test_a_stored_answer_naming_an_erased_recipient_is_never_replayed(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    first = post(client, MESSAGES, susan, bob, "to-bob")
    assert first.json["recipient"]["username"] == "bob"

    erased = client.delete("/api/me", json={"password": bob.password}, headers=bob.headers)
    retry = post(client, MESSAGES, susan, bob, "to-bob")

    assert erased.status_code == 204
    assert "Idempotent-Replayed" not in retry.headers
    assert_json_error(retry, 400, "recipient_id", "is not a user")
    assert "bob" not in retry.get_data(as_text=True)
    assert MESSAGES.created(client, susan) == []
