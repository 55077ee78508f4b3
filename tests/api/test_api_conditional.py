"""Conditional requests: every GET under /api has an ETag and `Cache-Control: private,
no-cache`; If-None-Match answers 304 while nothing changed; a PUT with a stale If-Match is 412
and changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.api_helpers import ApiUser, assert_json_error, parse_timestamp, set_last_seen

# How often last_seen may be rewritten (the server's LAST_SEEN_RESOLUTION default).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass
class World:
    """Two users who follow each other, a post each, a message each way, notifications."""

    susan: ApiUser
    bob: ApiUser
    post_id: int
    message_id: int


@pytest.fixture
def world(client: FlaskClient, make_user: Callable[..., ApiUser]) -> World:
    susan, bob = make_user("susan"), make_user("bob")
    for actor, target in ((susan, bob), (bob, susan)):
        assert (
            client.post(f"/api/me/following/{target.id}", headers=actor.headers).status_code == 204
        )
    posts = [
        client.post("/api/posts", json={"body": f"by {user.username}"}, headers=user.headers)
        for user in (susan, bob)
    ]
    messages = [
        client.post(
            "/api/messages", json={"recipient_id": target.id, "body": "hi"}, headers=actor.headers
        )
        for actor, target in ((susan, bob), (bob, susan))
    ]
    assert all(response.status_code == 201 for response in posts + messages)
    return World(susan, bob, posts[0].json["id"], messages[0].json["id"])


def url_of(template: str, world: World) -> str:
    return template.format(
        susan=world.susan.id, bob=world.bob.id, post=world.post_id, message=world.message_id
    )


GETS = [
    "/api/me",
    "/api/users",
    "/api/users/{susan}",
    "/api/users/{bob}",
    "/api/users/{bob}/followers",
    "/api/users/{bob}/following",
    "/api/posts",
    "/api/posts/{post}",
    "/api/users/{bob}/posts",
    "/api/feed",
    "/api/feed?per_page=1",
    "/api/feed?max_id=1000",
    "/api/messages",
    "/api/messages/sent",
    "/api/messages/{message}",
    "/api/notifications",
    "/api/notifications?since=1",
]


@pytest.mark.parametrize("template", GETS)
def test_every_get_has_an_etag_and_must_be_revalidated(
    client: FlaskClient, world: World, template: str
) -> None:
    url = url_of(template, world)

    response = client.get(url, headers=world.susan.headers)

    assert response.status_code == 200, response.json
    assert response.headers.get("ETag"), url
    assert response.headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize("template", GETS)
def test_matching_if_none_match_is_304_with_no_body(
    client: FlaskClient, world: World, template: str
) -> None:
    url = url_of(template, world)
    # Reading the inbox marks it read; read it once so the state is settled.
    client.get(url, headers=world.susan.headers)
    etag = client.get(url, headers=world.susan.headers).headers["ETag"]

    response = client.get(url, headers={**world.susan.headers, "If-None-Match": etag})

    assert response.status_code == 304, response.get_data(as_text=True)
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize("template", ["/api/posts/{post}", "/api/users", "/api/feed"])
def test_an_etag_that_does_not_match_gets_the_full_answer(
    client: FlaskClient, world: World, template: str
) -> None:
    url = url_of(template, world)
    etag = client.get(url, headers=world.susan.headers).headers["ETag"]

    response = client.get(url, headers={**world.susan.headers, "If-None-Match": '"not-it"'})

    assert response.status_code == 200
    assert response.headers["ETag"] == etag
    assert response.json


def test_the_etag_is_the_same_for_the_same_answer(client: FlaskClient, world: World) -> None:
    url = f"/api/posts/{world.post_id}"

    first = client.get(url, headers=world.susan.headers)
    second = client.get(url, headers=world.bob.headers)

    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]


def edit_post(client: FlaskClient, world: World) -> None:
    response = client.put(
        f"/api/posts/{world.post_id}", json={"body": "edited"}, headers=world.susan.headers
    )
    assert response.status_code == 200, response.json


def write_post(client: FlaskClient, world: World) -> None:
    response = client.post("/api/posts", json={"body": "news"}, headers=world.bob.headers)
    assert response.status_code == 201, response.json


def edit_about_me(client: FlaskClient, world: World) -> None:
    response = client.put(
        f"/api/users/{world.bob.id}", json={"about_me": "changed"}, headers=world.bob.headers
    )
    assert response.status_code == 200, response.json


def receive_message(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/messages",
        json={"recipient_id": world.susan.id, "body": "new"},
        headers=world.bob.headers,
    )
    assert response.status_code == 201, response.json


def send_message(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/messages",
        json={"recipient_id": world.bob.id, "body": "new"},
        headers=world.susan.headers,
    )
    assert response.status_code == 201, response.json


def unfollow(client: FlaskClient, world: World) -> None:
    response = client.delete(f"/api/me/following/{world.bob.id}", headers=world.susan.headers)
    assert response.status_code == 204, response.json


CHANGES = [
    ("/api/posts/{post}", edit_post),
    ("/api/posts", write_post),
    ("/api/posts", edit_post),
    ("/api/users/{bob}/posts", write_post),
    ("/api/feed", write_post),
    ("/api/feed", unfollow),
    ("/api/users/{bob}", edit_about_me),
    ("/api/users/{bob}", write_post),
    ("/api/users", edit_about_me),
    ("/api/users/{bob}/followers", unfollow),
    ("/api/me", receive_message),
    ("/api/messages", receive_message),
    ("/api/messages/sent", send_message),
    ("/api/notifications", receive_message),
]


@pytest.mark.parametrize(
    ("template", "change"), [pytest.param(t, c, id=f"{t}-{c.__name__}") for t, c in CHANGES]
)
def test_after_a_change_the_etag_differs_and_the_get_is_200_again(
    client: FlaskClient,
    world: World,
    template: str,
    change: Callable[[FlaskClient, World], None],
) -> None:
    url = url_of(template, world)
    client.get(url, headers=world.susan.headers)
    before = client.get(url, headers=world.susan.headers)

    change(client, world)

    after = client.get(
        url, headers={**world.susan.headers, "If-None-Match": before.headers["ETag"]}
    )
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.json != before.json


# ---------------------------------------------------------------------------------------------
# If-Match on PUT.


@dataclass
class Editable:
    url: str
    field: str
    new_value: str


EDITABLES = [
    pytest.param(Editable("/api/posts/{post}", "body", "edited body"), id="post"),
    pytest.param(Editable("/api/users/{susan}", "about_me", "edited about me"), id="user"),
]


def stale_etag(client: FlaskClient, world: World, editable: Editable) -> tuple[str, dict]:
    """An ETag read before another change: (the stale ETag, the resource as it is now)."""
    url = url_of(editable.url, world)
    stale = client.get(url, headers=world.susan.headers).headers["ETag"]
    changed = client.put(
        url, json={editable.field: "changed meanwhile"}, headers=world.susan.headers
    )
    assert changed.status_code == 200, changed.json
    return stale, changed.json


@pytest.mark.parametrize("editable", EDITABLES)
def test_put_with_a_stale_if_match_is_412_and_changes_nothing(
    client: FlaskClient, world: World, editable: Editable
) -> None:
    url = url_of(editable.url, world)
    stale, current = stale_etag(client, world, editable)

    response = client.put(
        url,
        json={editable.field: editable.new_value},
        headers={**world.susan.headers, "If-Match": stale},
    )

    assert_json_error(response, 412)
    shown = client.get(url, headers=world.susan.headers).json
    assert shown[editable.field] == "changed meanwhile"
    assert shown == current


@pytest.mark.parametrize("editable", EDITABLES)
def test_put_with_the_current_etag_is_200(
    client: FlaskClient, world: World, editable: Editable
) -> None:
    url = url_of(editable.url, world)
    etag = client.get(url, headers=world.susan.headers).headers["ETag"]

    response = client.put(
        url,
        json={editable.field: editable.new_value},
        headers={**world.susan.headers, "If-Match": etag},
    )

    assert response.status_code == 200, response.json
    assert response.json[editable.field] == editable.new_value
    again = client.get(url, headers=world.susan.headers)
    assert again.json[editable.field] == editable.new_value
    assert again.headers["ETag"] != etag


@pytest.mark.parametrize("editable", EDITABLES)
def test_put_with_the_current_etag_among_others_is_200(
    client: FlaskClient, world: World, editable: Editable
) -> None:
    url = url_of(editable.url, world)
    stale, _ = stale_etag(client, world, editable)
    etag = client.get(url, headers=world.susan.headers).headers["ETag"]

    response = client.put(
        url,
        json={editable.field: editable.new_value},
        headers={**world.susan.headers, "If-Match": f"{stale}, {etag}"},
    )

    assert response.status_code == 200, response.json
    assert response.json[editable.field] == editable.new_value


@pytest.mark.parametrize("editable", EDITABLES)
@pytest.mark.parametrize("if_match", [None, "*"])
def test_put_without_if_match_or_with_star_is_200(
    client: FlaskClient, world: World, editable: Editable, if_match: str | None
) -> None:
    url = url_of(editable.url, world)
    stale_etag(client, world, editable)
    headers = (
        world.susan.headers if if_match is None else {**world.susan.headers, "If-Match": if_match}
    )

    response = client.put(url, json={editable.field: editable.new_value}, headers=headers)

    assert response.status_code == 200, response.json
    assert client.get(url, headers=world.susan.headers).json[editable.field] == editable.new_value


@pytest.mark.parametrize("editable", EDITABLES)
def test_a_stale_if_match_does_not_hide_that_the_resource_is_not_yours(
    client: FlaskClient, world: World, editable: Editable
) -> None:
    url = url_of(editable.url, world)

    response = client.put(
        url,
        json={editable.field: editable.new_value},
        headers={**world.bob.headers, "If-Match": '"stale"'},
    )

    assert_json_error(response, 403)


def test_your_own_activity_does_not_make_your_etag_stale(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """last_seen is refreshed at most once a minute, by any request, the PUT included. An ETag
    read just before that minute ran out must still match the account it describes: the
    account did not change, its owner only came back to save their edit."""
    url = f"/api/users/{world.susan.id}"
    almost_stale = datetime.now(UTC) - LAST_SEEN_RESOLUTION + timedelta(milliseconds=400)
    set_last_seen(app, world.susan.id, almost_stale)
    read = client.get(url, headers=world.susan.headers)
    assert parse_timestamp(read.json["last_seen"]) == almost_stale
    time.sleep(0.6)

    response = client.put(
        url,
        json={"about_me": "saved a moment later"},
        headers={**world.susan.headers, "If-Match": read.headers["ETag"]},
    )

    assert response.status_code == 200, response.json
    assert client.get(url, headers=world.susan.headers).json["about_me"] == "saved a moment later"
