"""Following: /api/me/following/<id>, the counters it moves, and the follow lists."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.api.api_helpers import ApiUser, assert_json_error


def counters(client: FlaskClient, viewer: ApiUser, user: ApiUser) -> tuple[int, int]:
    """(follower_count, following_count) of `user`, as `viewer` sees them."""
    shown = client.get(f"/api/users/{user.id}", headers=viewer.headers).json
    return shown["follower_count"], shown["following_count"]


def follows(client: FlaskClient, actor: ApiUser, target: ApiUser) -> bool:
    response = client.get(f"/api/me/following/{target.id}", headers=actor.headers)
    assert response.status_code in (204, 404), response.json
    return response.status_code == 204


def test_follow_is_204_and_moves_both_counters(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    response = client.post(f"/api/me/following/{bob.id}", headers=susan.headers)

    assert response.status_code == 204
    assert response.mimetype == "application/json"
    assert response.data == b""
    assert counters(client, susan, bob) == (1, 0)
    assert counters(client, bob, susan) == (0, 1)
    me = client.get("/api/me", headers=susan.headers).json
    assert (me["follower_count"], me["following_count"]) == (0, 1)


def test_following_check_is_204_when_you_follow_and_404_otherwise(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    assert not follows(client, susan, bob)
    assert_json_error(client.get(f"/api/me/following/{bob.id}", headers=susan.headers), 404)

    client.post(f"/api/me/following/{bob.id}", headers=susan.headers)

    check = client.get(f"/api/me/following/{bob.id}", headers=susan.headers)
    assert check.status_code == 204
    assert check.mimetype == "application/json"
    assert not follows(client, bob, susan)


def test_follow_twice_is_409_and_counts_once(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    client.post(f"/api/me/following/{bob.id}", headers=susan.headers)

    response = client.post(f"/api/me/following/{bob.id}", headers=susan.headers)

    assert_json_error(response, 409)
    assert counters(client, susan, bob) == (1, 0)
    assert counters(client, susan, susan) == (0, 1)


def test_following_yourself_is_400(client: FlaskClient, susan: ApiUser) -> None:
    response = client.post(f"/api/me/following/{susan.id}", headers=susan.headers)

    assert_json_error(response, 400)
    assert counters(client, susan, susan) == (0, 0)
    assert not follows(client, susan, susan)


def test_following_an_unknown_user_is_404(client: FlaskClient, susan: ApiUser) -> None:
    assert_json_error(client.post("/api/me/following/999", headers=susan.headers), 404)
    assert counters(client, susan, susan) == (0, 0)


def test_unfollow_is_204_and_moves_the_counters_back(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    client.post(f"/api/me/following/{bob.id}", headers=susan.headers)

    response = client.delete(f"/api/me/following/{bob.id}", headers=susan.headers)

    assert response.status_code == 204
    assert response.mimetype == "application/json"
    assert counters(client, susan, bob) == (0, 0)
    assert counters(client, susan, susan) == (0, 0)
    assert not follows(client, susan, bob)


def test_unfollow_when_not_following_is_409(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    response = client.delete(f"/api/me/following/{bob.id}", headers=susan.headers)

    assert_json_error(response, 409)
    assert counters(client, susan, bob) == (0, 0)
    assert counters(client, susan, susan) == (0, 0)


def test_unfollowing_an_unknown_user_is_404(client: FlaskClient, susan: ApiUser) -> None:
    assert_json_error(client.delete("/api/me/following/999", headers=susan.headers), 404)


def test_follow_again_after_unfollowing(client: FlaskClient, susan: ApiUser, bob: ApiUser) -> None:
    client.post(f"/api/me/following/{bob.id}", headers=susan.headers)
    client.delete(f"/api/me/following/{bob.id}", headers=susan.headers)

    assert client.post(f"/api/me/following/{bob.id}", headers=susan.headers).status_code == 204
    assert counters(client, susan, bob) == (1, 0)


def test_mutual_follows_count_on_both_sides(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    client.post(f"/api/me/following/{bob.id}", headers=susan.headers)
    client.post(f"/api/me/following/{susan.id}", headers=bob.headers)

    assert counters(client, susan, bob) == (1, 1)
    assert counters(client, susan, susan) == (1, 1)


# ---------------------------------------------------------------------------------------------
# The lists: GET /api/users/<id>/followers and /following.

NAMES = ["carol", "Alice", "dave", "Bob_2", "erin", "Ben"]
BY_USERNAME = ["Alice", "Ben", "Bob_2", "carol", "dave", "erin"]


def test_followers_are_listed_by_username_ignoring_case(
    client: FlaskClient, make_user: Callable[..., ApiUser], susan: ApiUser
) -> None:
    for name in NAMES:
        client.post(f"/api/me/following/{susan.id}", headers=make_user(name).headers)

    response = client.get(f"/api/users/{susan.id}/followers", headers=susan.headers)

    assert response.status_code == 200
    assert [user["username"] for user in response.json["items"]] == BY_USERNAME
    assert response.json["_meta"]["total_items"] == len(NAMES)


def test_following_is_listed_by_username_ignoring_case(
    client: FlaskClient, make_user: Callable[..., ApiUser], susan: ApiUser
) -> None:
    for name in NAMES:
        client.post(f"/api/me/following/{make_user(name).id}", headers=susan.headers)

    response = client.get(f"/api/users/{susan.id}/following", headers=susan.headers)

    assert response.status_code == 200
    assert [user["username"] for user in response.json["items"]] == BY_USERNAME


def test_follow_lists_show_only_that_users_follows(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, make_user: Callable[..., ApiUser]
) -> None:
    carol = make_user("carol")
    client.post(f"/api/me/following/{bob.id}", headers=susan.headers)
    client.post(f"/api/me/following/{susan.id}", headers=carol.headers)

    def names(path: str) -> list[str]:
        return [user["username"] for user in client.get(path, headers=bob.headers).json["items"]]

    assert names(f"/api/users/{bob.id}/followers") == ["susan"]
    assert names(f"/api/users/{bob.id}/following") == []
    assert names(f"/api/users/{susan.id}/followers") == ["carol"]
    assert names(f"/api/users/{susan.id}/following") == ["bob"]


def test_unfollowed_user_leaves_the_lists(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    client.post(f"/api/me/following/{bob.id}", headers=susan.headers)
    client.delete(f"/api/me/following/{bob.id}", headers=susan.headers)

    followers = client.get(f"/api/users/{bob.id}/followers", headers=bob.headers).json
    assert followers["items"] == []
    assert followers["_meta"]["total_items"] == 0


@pytest.mark.parametrize("which", ["followers", "following"])
def test_follow_lists_of_an_unknown_user_are_404(
    client: FlaskClient, susan: ApiUser, which: str
) -> None:
    assert_json_error(client.get(f"/api/users/999/{which}", headers=susan.headers), 404)
