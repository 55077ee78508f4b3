"""GET /api/search: posts (or users, with type=users) matching q, best first, paged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from microblog.extensions import db
from microblog.posts.models import Post
from microblog.posts.search_query import MAX_ALTERNATIVES, MAX_QUERY_LENGTH, MAX_WORDS
from tests.api.api_helpers import (
    USER_FIELDS,
    ApiUser,
    assert_json_error,
    assert_no_secrets,
    insert_users,
    link_header,
    page_of,
)
from tests.posts.hostile_queries import HOSTILE, REFUSED
from tests.posts.search_support import stalled_search

POST_FIELDS = {"id", "body", "timestamp", "language", "author", "_links"}
BUDGET = 5


@pytest.fixture
def searcher(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("searcher")


def insert_posts(app: Flask, user_id: int, bodies: Sequence[str]) -> list[int]:
    """Posts written straight into the database (Core, as bulk loads do), oldest first."""
    with app.app_context():
        ids = db.session.scalars(
            sa.insert(Post).returning(Post.id, sort_by_parameter_order=True),
            [{"body": body, "user_id": user_id} for body in bodies],
        ).all()
        db.session.commit()
    return list(ids)


def search(client: FlaskClient, who: ApiUser, **params: Any) -> TestResponse:
    return client.get("/api/search", query_string=params, headers=who.headers)


def bodies(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["body"] for item in response.json["items"]]


# --- the contract --------------------------------------------------------------------------


def test_search_needs_a_token(client: FlaskClient) -> None:
    assert_json_error(client.get("/api/search?q=fox"), 401)


def test_posts_search_shows_posts_best_match_first(
    app: Flask, client: FlaskClient, searcher: ApiUser
) -> None:
    # Equally long; the one with the word once is newer.
    insert_posts(app, searcher.id, ["a fox and a fox", "a fox and a cat", "no match here"])

    response = search(client, searcher, q="Fox")

    assert bodies(response) == ["a fox and a fox", "a fox and a cat"]
    post = response.json["items"][0]
    assert set(post) == POST_FIELDS
    assert post["author"]["username"] == "searcher"
    assert "follower_count" not in post


def test_posts_holding_the_words_as_typed_come_first(
    app: Flask, client: FlaskClient, searcher: ApiUser
) -> None:
    # The newest and shortest post holds both words, but not as typed.
    insert_posts(
        app,
        searcher.id,
        ["the red fox at dawn", "red fox", "fox red fox red", "red car", "fox, red"],
    )

    found = bodies(search(client, searcher, q="red fox"))

    assert set(found[:3]) == {"the red fox at dawn", "red fox", "fox red fox red"}
    assert found[3:] == ["fox, red"]


def test_users_search_shows_public_user_representations(
    app: Flask, client: FlaskClient, searcher: ApiUser, make_user: Callable[..., ApiUser]
) -> None:
    other = make_user("otter", about_me="swims in the river")

    response = search(client, searcher, q="otter OR searcher", type="users")

    assert response.status_code == 200, response.json
    users = {user["username"]: user for user in response.json["items"]}
    assert set(users) == {"otter", "searcher"}
    for user in users.values():
        assert set(user) >= USER_FIELDS
        assert "follower_count" in user
        assert "body" not in user
        assert "email" not in user  # not even the searcher's own
    assert users["otter"] == client.get(f"/api/users/{other.id}", headers=searcher.headers).json
    assert_no_secrets(response, searcher.password)
    assert other.email not in response.get_data(as_text=True)


def test_users_search_reads_about_me_but_never_the_email(
    client: FlaskClient, searcher: ApiUser, make_user: Callable[..., ApiUser]
) -> None:
    make_user("otter", email="zebra@example.com", about_me="swims in the river")

    by_about_me = search(client, searcher, q="river", type="users").json
    by_email = search(client, searcher, q="zebra", type="users").json

    assert [user["username"] for user in by_about_me["items"]] == ["otter"]
    assert by_email["items"] == []
    assert by_email["_meta"]["total_items"] == 0


def test_search_follows_posts_written_edited_and_deleted_through_the_api(
    client: FlaskClient, searcher: ApiUser
) -> None:
    created = client.post("/api/posts", json={"body": "first draft"}, headers=searcher.headers)
    post_id = created.json["id"]
    assert bodies(search(client, searcher, q="draft")) == ["first draft"]

    client.put(f"/api/posts/{post_id}", json={"body": "final text"}, headers=searcher.headers)
    assert bodies(search(client, searcher, q="draft")) == []
    assert bodies(search(client, searcher, q="final")) == ["final text"]

    client.delete(f"/api/posts/{post_id}", headers=searcher.headers)
    assert bodies(search(client, searcher, q="final")) == []


# --- what is refused -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["people", "POSTS", "", "posts,users"])
def test_an_unknown_type_is_refused(client: FlaskClient, searcher: ApiUser, kind: str) -> None:
    assert_json_error(search(client, searcher, q="fox", type=kind), 400, "type")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "?!"},
        {"q": "a" * (MAX_QUERY_LENGTH + 1)},
        {"q": '"red fox'},
        {"q": 'fox "'},
        {"q": "-fox"},
        {"q": '-fox -"red car"'},
        {"q": "fox\x00"},
        {"q": "\x00"},
        {"q": "", "type": "users"},
        {"q": "-fox", "type": "users"},
    ],
    ids=repr,
)
def test_a_query_that_cannot_be_searched_is_refused(
    client: FlaskClient, searcher: ApiUser, params: dict[str, str]
) -> None:
    assert_json_error(search(client, searcher, **params), 400, "q")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_are_searched_or_refused_as_listed(
    app: Flask, client: FlaskClient, searcher: ApiUser, text: str
) -> None:
    insert_posts(app, searcher.id, ["a b c: a & b | !a 'quoted' NEAR(a b) 100% \\ 日本語 ab"])

    for kind in ("posts", "users"):
        response = search(client, searcher, q=text, type=kind)

        if text in REFUSED:
            assert assert_json_error(response, 400) == REFUSED[text]
        else:
            assert response.status_code == 200, response.get_data(as_text=True)
            assert response.json["_meta"]["total_items"] == len(response.json["items"])


def test_operator_characters_are_searched_as_the_words_around_them(
    app: Flask, client: FlaskClient, searcher: ApiUser
) -> None:
    insert_posts(app, searcher.id, ["cats & dogs", "cats alone", "dogs alone"])

    assert bodies(search(client, searcher, q="cats & dogs")) == ["cats & dogs"]
    assert bodies(search(client, searcher, q="cats | dogs")) == ["cats & dogs"]
    assert bodies(search(client, searcher, q="cats:* !dogs")) == ["cats & dogs"]
    assert bodies(search(client, searcher, q='"cats" "&" -"&" dogs')) == ["cats & dogs"]
    # NEAR is a word like any other: here, part of the phrase "near cats".
    assert bodies(search(client, searcher, q="NEAR(cats dogs)")) == []


# --- paging --------------------------------------------------------------------------------


def test_search_results_are_paged_like_every_collection(
    app: Flask, client: FlaskClient, searcher: ApiUser
) -> None:
    ids = insert_posts(app, searcher.id, [f"needle number {n}" for n in range(25)] + ["hay"])

    first = search(client, searcher, q="needle", per_page=10)
    last = search(client, searcher, q="needle", per_page=10, page=3)

    assert first.json["_meta"] == {"page": 1, "per_page": 10, "total_pages": 3, "total_items": 25}
    assert last.json["_meta"] == {"page": 3, "per_page": 10, "total_pages": 3, "total_items": 25}
    assert len(last.json["items"]) == 5
    assert page_of(first.json["_links"]["next"]) == (2, 10)
    assert first.json["_links"]["prev"] is None
    assert last.json["_links"]["next"] is None
    assert link_header(first) == {"next": first.json["_links"]["next"]}
    # The links keep the query; following them walks every match once, newest first (the
    # matches are equally good).
    assert "q=needle" in first.json["_links"]["next"]
    seen: list[int] = []
    url: str | None = first.json["_links"]["self"]
    while url is not None:
        page = client.get(url, headers=searcher.headers).json
        seen += [post["id"] for post in page["items"]]
        url = page["_links"]["next"]
    assert seen == list(reversed(ids[:25]))


def test_users_search_links_keep_the_type(
    app: Flask, client: FlaskClient, searcher: ApiUser
) -> None:
    insert_users(app, [f"member{n:02}" for n in range(12)] + ["outsider"])

    response = search(client, searcher, q="member00 OR member01 OR member02", type="users")
    paged = search(client, searcher, q="member05 OR member06", type="users", per_page=1)

    assert response.json["_meta"]["total_items"] == 3
    assert paged.json["_meta"]["total_pages"] == 2
    assert "type=users" in paged.json["_links"]["next"]
    follow = client.get(paged.json["_links"]["next"], headers=searcher.headers).json
    assert "follower_count" in follow["items"][0]


def test_per_page_is_capped_at_100(app: Flask, client: FlaskClient, searcher: ApiUser) -> None:
    insert_posts(app, searcher.id, ["needle"] * 101)

    response = search(client, searcher, q="needle", per_page=1000)

    assert len(response.json["items"]) == 100
    assert response.json["_meta"]["per_page"] == 100
    assert response.json["_meta"]["total_pages"] == 2


# --- statements ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["posts", "users"])
def test_a_page_of_100_results_stays_within_the_statement_budget(
    app: Flask,
    client: FlaskClient,
    count_queries: Callable[[], Any],
    searcher: ApiUser,
    kind: str,
) -> None:
    # 150 authors, one matching post each, so the authors cannot come from a cache.
    authors = insert_users(app, [f"needle_{n:03}" for n in range(150)])
    with app.app_context():
        db.session.execute(
            sa.insert(Post), [{"body": "a needle", "user_id": author} for author in authors]
        )
        db.session.commit()
    counts = {}

    for size in (10, 100):
        with count_queries() as counted:
            response = search(client, searcher, q="needle", type=kind, per_page=size)
        assert response.status_code == 200, response.json
        assert len(response.json["items"]) == size
        counts[size] = counted.count
        print(f"\nGET /api/search?type={kind}&per_page={size}: {counted.count} statements")

    assert counts[100] <= BUDGET, counted.statements
    assert counts[100] <= counts[10], counted.statements


# --- what one search may cost ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "message"),
    [
        (" ".join(["fox"] * (MAX_WORDS + 1)), f"q may hold at most {MAX_WORDS} words"),
        (
            " OR ".join(["fox"] * (MAX_ALTERNATIVES + 2)),
            f"q may use OR at most {MAX_ALTERNATIVES} times",
        ),
    ],
    ids=["words", "ors"],
)
def test_a_query_of_too_many_words_or_ors_is_a_400_naming_the_limit(
    client: FlaskClient, searcher: ApiUser, q: str, message: str
) -> None:
    assert assert_json_error(search(client, searcher, q=q), 400) == message


def test_a_search_past_the_time_limit_is_a_503_naming_it(
    app: Flask, client: FlaskClient, searcher: ApiUser, backend: str
) -> None:
    insert_posts(app, searcher.id, [f"needle {n} in a haystack" for n in range(300)])
    with stalled_search(app, backend) as limit:
        app.config["SEARCH_TIMEOUT_SECONDS"] = limit
        stopped = search(client, searcher, q="needle OR haystack")
    message = assert_json_error(stopped, 503)
    assert message == (f"the search took longer than {limit:g} s; try fewer or less common words")

    app.config["SEARCH_TIMEOUT_SECONDS"] = 5
    assert len(bodies(search(client, searcher, q="needle", per_page=100))) == 100
