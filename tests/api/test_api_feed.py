"""The feed: GET /api/feed shows your posts and those of the people you follow, newest first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.api.api_helpers import ApiUser, assert_json_error
from tests.api.timeline_helpers import ids_of


@pytest.fixture
def users(make_user: Callable[..., ApiUser]) -> dict[str, ApiUser]:
    return {name: make_user(name) for name in ("susan", "bob", "carol", "dave")}


def write(client: FlaskClient, user: ApiUser, body: str) -> int:
    response = client.post("/api/posts", json={"body": body}, headers=user.headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def follow(client: FlaskClient, actor: ApiUser, target: ApiUser) -> None:
    response = client.post(f"/api/me/following/{target.id}", headers=actor.headers)
    assert response.status_code == 204, response.json


def unfollow(client: FlaskClient, actor: ApiUser, target: ApiUser) -> None:
    response = client.delete(f"/api/me/following/{target.id}", headers=actor.headers)
    assert response.status_code == 204, response.json


def feed(client: FlaskClient, viewer: ApiUser, query: str = "") -> list[int]:
    return ids_of(client.get(f"/api/feed{query}", headers=viewer.headers))


def test_a_new_users_feed_is_empty(client: FlaskClient, users: dict[str, ApiUser]) -> None:
    write(client, users["bob"], "someone else's post")

    response = client.get("/api/feed", headers=users["susan"].headers)

    assert response.status_code == 200
    assert response.json["items"] == []
    assert response.json["_meta"]["total_items"] == 0
    assert response.json["_links"]["next"] is None


def test_feed_shows_own_and_followed_posts_newest_first(
    client: FlaskClient, users: dict[str, ApiUser]
) -> None:
    susan, bob, carol = users["susan"], users["bob"], users["carol"]
    follow(client, susan, bob)
    follow(client, susan, carol)
    written = {
        name: [write(client, users[name], f"{name} {n}") for n in range(2)]
        for name in ("dave", "carol", "susan", "bob")
    }
    expected = sorted(written["susan"] + written["bob"] + written["carol"], reverse=True)

    response = client.get("/api/feed", headers=susan.headers)

    assert ids_of(response) == expected
    assert {post["author"]["username"] for post in response.json["items"]} == {
        "susan",
        "bob",
        "carol",
    }
    assert response.json["_meta"]["total_items"] == 6
    assert not set(written["dave"]) & set(ids_of(response))


def test_feed_includes_what_followed_users_wrote_before_the_follow(
    client: FlaskClient, users: dict[str, ApiUser]
) -> None:
    susan, bob = users["susan"], users["bob"]
    older = write(client, bob, "written before susan followed")

    follow(client, susan, bob)

    assert feed(client, susan) == [older]


def test_feed_is_the_viewers_own(client: FlaskClient, users: dict[str, ApiUser]) -> None:
    susan, bob, carol = users["susan"], users["bob"], users["carol"]
    follow(client, susan, bob)
    bobs = write(client, bob, "bob")
    susans = write(client, susan, "susan")
    carols = write(client, carol, "carol")

    assert feed(client, susan) == [susans, bobs]
    # Following is one way: bob does not see susan's posts.
    assert feed(client, bob) == [bobs]
    assert feed(client, carol) == [carols]


def test_unfollowed_users_posts_leave_the_feed(
    client: FlaskClient, users: dict[str, ApiUser]
) -> None:
    susan, bob, carol = users["susan"], users["bob"], users["carol"]
    follow(client, susan, bob)
    follow(client, susan, carol)
    bobs = [write(client, bob, f"bob {n}") for n in range(3)]
    carols = write(client, carol, "carol")
    mine = write(client, susan, "mine")
    assert feed(client, susan) == [mine, carols, *reversed(bobs)]

    unfollow(client, susan, bob)

    response = client.get("/api/feed", headers=susan.headers)
    assert ids_of(response) == [mine, carols]
    assert response.json["_meta"]["total_items"] == 2
    # The posts still exist for everyone else.
    assert ids_of(client.get(f"/api/users/{bob.id}/posts", headers=susan.headers)) == list(
        reversed(bobs)
    )


def test_deleted_posts_leave_the_feed(client: FlaskClient, users: dict[str, ApiUser]) -> None:
    susan, bob = users["susan"], users["bob"]
    follow(client, susan, bob)
    kept = write(client, bob, "kept")
    gone = write(client, bob, "gone")

    client.delete(f"/api/posts/{gone}", headers=bob.headers)

    response = client.get("/api/feed", headers=susan.headers)
    assert ids_of(response) == [kept]
    assert response.json["_meta"]["total_items"] == 1


def test_feed_pages_by_number_and_totals_every_post(
    client: FlaskClient, users: dict[str, ApiUser]
) -> None:
    susan, bob = users["susan"], users["bob"]
    follow(client, susan, bob)
    written = [write(client, author, f"post {n}") for n, author in enumerate([susan, bob] * 4)]

    first = client.get("/api/feed?per_page=3", headers=susan.headers)
    third = client.get("/api/feed?per_page=3&page=3", headers=susan.headers)

    newest_first = list(reversed(written))
    assert ids_of(first) == newest_first[:3]
    assert ids_of(third) == newest_first[6:]
    assert first.json["_meta"] == {"page": 1, "per_page": 3, "total_pages": 3, "total_items": 8}
    assert third.json["_meta"]["page"] == 3


@pytest.mark.parametrize("parameter", ["page", "per_page", "max_id", "since_id", "min_id"])
def test_feed_rejects_a_bad_paging_parameter_naming_it(
    client: FlaskClient, users: dict[str, ApiUser], parameter: str
) -> None:
    response = client.get(f"/api/feed?{parameter}=0", headers=users["susan"].headers)

    assert_json_error(response, 400, parameter)
