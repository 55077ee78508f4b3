"""Posts: writing, reading, editing and deleting them; explore and a user's posts.

POST /api/posts, GET/PUT/DELETE /api/posts/<id>, GET /api/posts, GET /api/users/<id>/posts.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.api_helpers import (
    BAD_CREDENTIALS,
    ApiUser,
    assert_close_to_now,
    assert_json_error,
    parse_timestamp,
)
from tests.api.timeline_helpers import ids_of

POST_FIELDS = {"id", "body", "timestamp", "language", "author", "_links"}
ENGLISH = "The weather is lovely today, so I am going for a long walk in the park."
SPANISH = "Hoy hace muy buen tiempo, así que voy a dar un largo paseo por el parque."


def write(client: FlaskClient, user: ApiUser, body: Any = "hello") -> dict[str, Any]:
    """A post written through the API, as the 201 answered it."""
    response = client.post("/api/posts", json={"body": body}, headers=user.headers)
    assert response.status_code == 201, response.json
    return response.json


def post_count(client: FlaskClient, viewer: ApiUser, user: ApiUser) -> int:
    response = client.get(f"/api/users/{user.id}", headers=viewer.headers)
    assert response.status_code == 200, response.json
    return response.json["post_count"]


# ---------------------------------------------------------------------------------------------
# Every posts route needs a bearer token.

PROTECTED = [
    ("GET", "/api/posts"),
    ("POST", "/api/posts"),
    ("GET", "/api/posts/1"),
    ("PUT", "/api/posts/1"),
    ("DELETE", "/api/posts/1"),
    ("GET", "/api/users/1/posts"),
    ("GET", "/api/feed"),
]


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS)
@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_posts_routes_are_401_without_a_valid_bearer_token(
    client: FlaskClient, susan: ApiUser, method: str, path: str, credentials: dict[str, str]
) -> None:
    write(client, susan)

    response = client.open(path, method=method, headers=credentials, json={"body": "hacked"})

    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    shown = client.get("/api/posts/1", headers=susan.headers).json
    assert shown["body"] == "hello"


# ---------------------------------------------------------------------------------------------
# Writing a post, and what a post looks like.


def test_writing_a_post_is_201_with_its_location_and_representation(
    client: FlaskClient, susan: ApiUser
) -> None:
    response = client.post("/api/posts", json={"body": "my first post"}, headers=susan.headers)

    assert response.status_code == 201
    post = response.json
    assert set(post) == POST_FIELDS
    assert isinstance(post["id"], int)
    assert post["body"] == "my first post"
    assert_close_to_now(parse_timestamp(post["timestamp"]))
    assert set(post["author"]) == {"id", "username", "_links"}
    assert post["author"]["id"] == susan.id
    assert post["author"]["username"] == "susan"
    assert post["author"]["_links"]["self"] == f"/api/users/{susan.id}"
    assert set(post["author"]["_links"]) == {"self", "avatar"}
    assert post["author"]["_links"]["avatar"] == f"/avatars/{susan.id}.svg"
    assert post["_links"] == {
        "self": f"/api/posts/{post['id']}",
        "author": f"/api/users/{susan.id}",
    }
    assert response.headers["Location"] == post["_links"]["self"]


def test_a_written_post_reads_back_the_same_at_its_location(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    response = client.post("/api/posts", json={"body": "read me back"}, headers=susan.headers)

    shown = client.get(response.headers["Location"], headers=bob.headers)

    assert shown.status_code == 200
    assert shown.json == response.json


def test_unknown_fields_are_ignored_not_applied(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    post = write(client, susan, "first")

    response = client.post(
        "/api/posts",
        json={"body": "mine", "id": post["id"], "user_id": bob.id, "language": "xx"},
        headers=susan.headers,
    )

    assert response.status_code == 201
    assert response.json["id"] != post["id"]
    assert response.json["author"]["id"] == susan.id
    assert response.json["language"] != "xx"
    assert client.get(f"/api/posts/{post['id']}", headers=susan.headers).json["body"] == "first"
    assert post_count(client, susan, bob) == 0


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        pytest.param("x", "x", id="1-character"),
        pytest.param("x" * 280, "x" * 280, id="280-characters"),
        pytest.param("  " + "x" * 280 + " \n\t", "x" * 280, id="280-with-surrounding-space"),
        pytest.param("\u00e9" * 280, "\u00e9" * 280, id="280-accented"),
        pytest.param("\U0001f642" * 280, "\U0001f642" * 280, id="280-emoji"),
        pytest.param("  two  spaces inside  ", "two  spaces inside", id="inner-space-kept"),
    ],
)
def test_body_is_stored_trimmed_up_to_280_characters(
    client: FlaskClient, susan: ApiUser, sent: str, stored: str
) -> None:
    post = write(client, susan, sent)

    assert post["body"] == stored
    assert client.get(post["_links"]["self"], headers=susan.headers).json["body"] == stored


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        pytest.param({"body": ""}, ("body",), id="empty"),
        pytest.param({"body": "   \n\t "}, ("body",), id="whitespace-only"),
        pytest.param({"body": "x" * 281}, ("body", "280"), id="281-characters"),
        pytest.param({"body": " " + "x" * 281 + " "}, ("body", "280"), id="281-once-trimmed"),
        pytest.param({"body": "\U0001f642" * 281}, ("body", "280"), id="281-emoji"),
        pytest.param({}, ("body", "required"), id="missing"),
        pytest.param({"text": "hello"}, ("body", "required"), id="misnamed"),
        pytest.param({"body": None}, ("body",), id="null"),
        pytest.param({"body": 123}, ("body",), id="number"),
        pytest.param({"body": ["hello"]}, ("body",), id="list"),
        pytest.param({"body": {"text": "hello"}}, ("body",), id="object"),
        pytest.param({"body": True}, ("body",), id="boolean"),
        pytest.param({"body": "nul\x00inside"}, ("body", "NUL"), id="nul-character"),
    ],
)
def test_bad_bodies_are_400_naming_body_and_write_nothing(
    client: FlaskClient, susan: ApiUser, payload: dict[str, Any], words: tuple[str, ...]
) -> None:
    response = client.post("/api/posts", json=payload, headers=susan.headers)

    assert_json_error(response, 400, *words)
    assert post_count(client, susan, susan) == 0
    assert client.get("/api/posts", headers=susan.headers).json["_meta"]["total_items"] == 0


@pytest.mark.parametrize(
    ("body", "language"),
    [
        pytest.param(ENGLISH, "en", id="english"),
        pytest.param(SPANISH, "es", id="spanish"),
        pytest.param("ok", None, id="ok"),
        pytest.param("12345", None, id="digits"),
    ],
)
def test_language_is_detected_or_null_when_unsure(
    client: FlaskClient, susan: ApiUser, body: str, language: str | None
) -> None:
    post = write(client, susan, body)

    assert post["language"] == language
    assert client.get(post["_links"]["self"], headers=susan.headers).json["language"] == language


# ---------------------------------------------------------------------------------------------
# Reading one post.


@pytest.mark.parametrize(
    "post_id",
    [
        pytest.param("2", id="next-id"),
        pytest.param("999", id="unknown"),
        pytest.param(str(2**31), id="past-32-bits"),
        pytest.param(str(2**63), id="past-64-bits"),
        pytest.param("9" * 40, id="40-digits"),
        pytest.param("0", id="zero"),
    ],
)
def test_unknown_post_is_404(client: FlaskClient, susan: ApiUser, post_id: str) -> None:
    write(client, susan)

    response = client.get(f"/api/posts/{post_id}", headers=susan.headers)

    assert_json_error(response, 404)


# ---------------------------------------------------------------------------------------------
# Editing and deleting: only the author.


def test_author_edits_a_post_in_place(client: FlaskClient, susan: ApiUser, bob: ApiUser) -> None:
    post = write(client, susan, "ok")

    response = client.put(
        post["_links"]["self"], json={"body": f"  {ENGLISH} "}, headers=susan.headers
    )

    assert response.status_code == 200
    edited = response.json
    assert set(edited) == POST_FIELDS
    assert edited["body"] == ENGLISH
    assert edited["language"] == "en"
    assert (edited["id"], edited["timestamp"], edited["author"]) == (
        post["id"],
        post["timestamp"],
        post["author"],
    )
    assert client.get(post["_links"]["self"], headers=bob.headers).json == edited
    assert post_count(client, susan, susan) == 1


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        pytest.param({"body": "  "}, ("body",), id="whitespace-only"),
        pytest.param({"body": "x" * 281}, ("body", "280"), id="281-characters"),
        pytest.param({}, ("body",), id="missing"),
        pytest.param({"body": 7}, ("body",), id="number"),
    ],
)
def test_bad_edit_is_400_and_changes_nothing(
    client: FlaskClient, susan: ApiUser, payload: dict[str, Any], words: tuple[str, ...]
) -> None:
    post = write(client, susan, ENGLISH)

    response = client.put(post["_links"]["self"], json=payload, headers=susan.headers)

    assert_json_error(response, 400, *words)
    assert client.get(post["_links"]["self"], headers=susan.headers).json == post


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_someone_elses_post_is_403_and_stays_as_it_was(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, method: str
) -> None:
    post = write(client, susan, "susan's words")

    response = client.open(
        post["_links"]["self"], method=method, json={"body": "bob's words"}, headers=bob.headers
    )

    assert_json_error(response, 403)
    assert client.get(post["_links"]["self"], headers=susan.headers).json == post
    assert post_count(client, bob, susan) == 1


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("post_id", ["999", str(2**31), "9" * 30])
def test_changing_an_unknown_post_is_404(
    client: FlaskClient, susan: ApiUser, method: str, post_id: str
) -> None:
    response = client.open(
        f"/api/posts/{post_id}", method=method, json={"body": "anything"}, headers=susan.headers
    )

    assert_json_error(response, 404)


def test_author_deletes_a_post_then_it_is_gone(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    kept = write(client, susan, "kept")
    gone = write(client, susan, "gone")

    response = client.delete(gone["_links"]["self"], headers=susan.headers)

    assert response.status_code == 204
    assert response.data == b""
    assert_json_error(client.get(gone["_links"]["self"], headers=bob.headers), 404)
    assert_json_error(client.delete(gone["_links"]["self"], headers=susan.headers), 404)
    assert ids_of(client.get("/api/posts", headers=bob.headers)) == [kept["id"]]
    assert ids_of(client.get(f"/api/users/{susan.id}/posts", headers=bob.headers)) == [kept["id"]]


def test_post_count_moves_with_writes_and_deletes(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    assert post_count(client, bob, susan) == 0

    posts = [write(client, susan, f"post {n}") for n in range(3)]
    write(client, bob, "bob's")
    assert post_count(client, bob, susan) == 3
    assert client.get("/api/me", headers=susan.headers).json["post_count"] == 3

    client.delete(posts[1]["_links"]["self"], headers=susan.headers)
    assert post_count(client, bob, susan) == 2
    assert post_count(client, susan, bob) == 1
    listed = client.get("/api/users", headers=bob.headers).json["items"]
    assert {user["username"]: user["post_count"] for user in listed} == {"susan": 2, "bob": 1}


# ---------------------------------------------------------------------------------------------
# Explore and a user's posts.


def test_explore_lists_everyones_posts_newest_first(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    written = [write(client, author, f"post {n}") for n, author in enumerate([susan, bob] * 3)]

    response = client.get("/api/posts", headers=bob.headers)

    assert response.status_code == 200
    body = response.json
    assert body["items"] == list(reversed(written))
    assert body["_meta"]["total_items"] == 6
    stamps = [parse_timestamp(post["timestamp"]) for post in body["items"]]
    assert stamps == sorted(stamps, reverse=True)


def test_user_posts_are_that_users_only_newest_first(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    written = [write(client, author, f"post {n}") for n, author in enumerate([susan, bob] * 3)]
    susans = [post for post in written if post["author"]["id"] == susan.id]

    response = client.get(f"/api/users/{susan.id}/posts", headers=bob.headers)

    assert response.status_code == 200
    assert response.json["items"] == list(reversed(susans))
    assert response.json["_meta"]["total_items"] == 3


def test_users_posts_link_leads_to_their_posts(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    post = write(client, susan)
    user = client.get(f"/api/users/{susan.id}", headers=bob.headers).json

    assert user["_links"]["posts"] == f"/api/users/{susan.id}/posts"
    listed = client.get(user["_links"]["posts"], headers=bob.headers)
    assert listed.json["items"] == [post]


def test_a_user_without_posts_has_an_empty_list(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    write(client, susan)

    response = client.get(f"/api/users/{bob.id}/posts", headers=susan.headers)

    assert response.status_code == 200
    assert response.json["items"] == []
    assert response.json["_meta"]["total_items"] == 0
    assert response.json["_links"]["next"] is None


@pytest.mark.parametrize("user_id", ["999", str(2**31), "9" * 30])
def test_posts_of_an_unknown_user_are_404(
    client: FlaskClient, susan: ApiUser, user_id: str
) -> None:
    response = client.get(f"/api/users/{user_id}/posts", headers=susan.headers)

    assert_json_error(response, 404)
