"""Keyset paging on the time-ordered collections: posts, a user's posts, the feed, messages.

`max_id` (older than it), `since_id` (newer than it, the newest of them) and `min_id` (newer
than it, the ones right after it), always shown newest first. `_links.next` is in the keyset
form (`max_id=`), `_links.prev` too (`min_id=`); page numbers still work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.api_helpers import (
    assert_json_error,
    insert_follows,
    insert_users,
    link_header,
    token_for,
)
from tests.api.timeline_helpers import (
    Headers,
    ids_of,
    insert_messages,
    insert_posts,
    measure,
    query_of,
    walk,
)

COUNT = 25


@dataclass
class Timeline:
    """A timeline as the viewer sees it, and how to add one more item to it."""

    url: str
    headers: Headers
    # Every item the timeline holds, newest first.
    expected: list[int]
    add: Callable[[], int]

    def get(self, client: FlaskClient, query: str) -> list[int]:
        return ids_of(client.get(f"{self.url}?{query}", headers=self.headers))


KINDS = ["explore", "user posts", "feed", "inbox", "sent"]


@pytest.fixture(params=KINDS)
def timeline(request: pytest.FixtureRequest, app: Flask, client: FlaskClient) -> Timeline:
    """COUNT items in the timeline, interleaved with items that belong to other timelines."""
    viewer, friend, stranger = insert_users(app, ["viewer", "friend", "stranger"])
    insert_follows(app, [viewer], friend)
    headers = token_for(client, "viewer")
    kind = request.param
    if kind in ("inbox", "sent"):
        mine = (friend, viewer) if kind == "inbox" else (viewer, friend)
        others = (friend, stranger) if kind == "inbox" else (stranger, viewer)
        pairs = [mine, others] * COUNT
        ids = insert_messages(app, pairs)
        expected = sorted(ids[0::2], reverse=True)
        url = "/api/messages" if kind == "inbox" else "/api/messages/sent"
        return Timeline(url, headers, expected, lambda: insert_messages(app, [mine])[0])
    author = viewer if kind == "feed" else friend
    ids = insert_posts(app, [author, stranger] * COUNT)
    if kind == "explore":
        expected, url = sorted(ids, reverse=True), "/api/posts"
    elif kind == "user posts":
        expected, url = sorted(ids[0::2], reverse=True), f"/api/users/{friend}/posts"
    else:
        # The feed: the viewer's own posts and the friend's, never the stranger's.
        friends = insert_posts(app, [friend] * COUNT)
        expected, url = sorted(ids[0::2] + friends, reverse=True), "/api/feed"
    return Timeline(url, headers, expected, lambda: insert_posts(app, [author])[0])


def test_first_page_is_the_newest_with_a_keyset_next_and_no_prev(
    client: FlaskClient, timeline: Timeline
) -> None:
    response = client.get(f"{timeline.url}?per_page=5", headers=timeline.headers)

    assert ids_of(response) == timeline.expected[:5]
    links = response.json["_links"]
    assert query_of(links["next"]) == {"max_id": str(timeline.expected[4]), "per_page": "5"}
    assert links["next"].startswith(timeline.url + "?")
    assert links["prev"] is None
    assert link_header(response) == {"next": links["next"]}
    assert response.json["_meta"]["total_items"] == len(timeline.expected)


def test_max_id_gives_the_older_items_newest_first(client: FlaskClient, timeline: Timeline) -> None:
    expected = timeline.expected
    response = client.get(
        f"{timeline.url}?per_page=5&max_id={expected[4]}", headers=timeline.headers
    )

    assert ids_of(response) == expected[5:10]
    links = response.json["_links"]
    assert query_of(links["next"]) == {"max_id": str(expected[9]), "per_page": "5"}
    assert query_of(links["prev"]) == {"min_id": str(expected[5]), "per_page": "5"}
    assert link_header(response) == {"next": links["next"], "prev": links["prev"]}
    assert response.json["_meta"]["total_items"] == len(expected)


def test_prev_leads_back_to_the_page_before(client: FlaskClient, timeline: Timeline) -> None:
    first = client.get(f"{timeline.url}?per_page=5", headers=timeline.headers).json
    second = client.get(first["_links"]["next"], headers=timeline.headers).json
    third = client.get(second["_links"]["next"], headers=timeline.headers).json

    back_to_second = client.get(third["_links"]["prev"], headers=timeline.headers).json
    back_to_first = client.get(back_to_second["_links"]["prev"], headers=timeline.headers).json

    assert back_to_second["items"] == second["items"]
    assert back_to_first["items"] == first["items"]


def test_since_id_gives_the_newest_items_after_it(client: FlaskClient, timeline: Timeline) -> None:
    expected = timeline.expected

    assert timeline.get(client, f"per_page=5&since_id={expected[20]}") == expected[:5]
    assert timeline.get(client, f"per_page=50&since_id={expected[20]}") == expected[:20]
    assert timeline.get(client, f"since_id={expected[0]}") == []


def test_min_id_gives_the_items_right_after_it_newest_first(
    client: FlaskClient, timeline: Timeline
) -> None:
    expected = timeline.expected

    assert timeline.get(client, f"per_page=5&min_id={expected[20]}") == expected[15:20]
    assert timeline.get(client, f"per_page=50&min_id={expected[20]}") == expected[:20]
    assert timeline.get(client, f"min_id={expected[0]}") == []


def test_max_id_and_since_id_bound_a_range(client: FlaskClient, timeline: Timeline) -> None:
    expected = timeline.expected

    got = timeline.get(client, f"per_page=100&max_id={expected[2]}&since_id={expected[8]}")

    assert got == expected[3:8]


@pytest.mark.parametrize("parameter", ["max_id", "since_id", "min_id"])
def test_any_id_works_as_a_bound_whether_in_the_timeline_or_not(
    client: FlaskClient, timeline: Timeline, parameter: str
) -> None:
    expected = timeline.expected
    elsewhere = [n for n in range(expected[-1], expected[0]) if n not in expected]
    bound = elsewhere[len(elsewhere) // 2] if elsewhere else expected[len(expected) // 2]

    got = timeline.get(client, f"per_page=100&{parameter}={bound}")

    older = [item for item in expected if item < bound]
    newer = [item for item in expected if item > bound]
    assert got == (older if parameter == "max_id" else newer)


@pytest.mark.parametrize("bound", ["2147483647", "999999"])
def test_max_id_past_the_newest_starts_at_the_newest(
    client: FlaskClient, timeline: Timeline, bound: str
) -> None:
    assert timeline.get(client, f"per_page=5&max_id={bound}") == timeline.expected[:5]


def test_following_next_visits_every_item_once_newest_first(
    client: FlaskClient, timeline: Timeline
) -> None:
    seen, visited = walk(client, f"{timeline.url}?per_page=7", timeline.headers)

    assert seen == timeline.expected
    assert [set(query_of(url)) for url in visited[1:]] == [{"max_id", "per_page"}] * (
        len(visited) - 1
    )


def test_following_prev_from_the_oldest_page_visits_every_item_once(
    client: FlaskClient, timeline: Timeline
) -> None:
    expected = timeline.expected
    url: str | None = f"{timeline.url}?per_page=7&max_id={expected[-4]}"
    pages: list[list[int]] = []

    while url is not None:
        assert len(pages) < 20, "the prev links never end"
        body = client.get(url, headers=timeline.headers).json
        pages.append([item["id"] for item in body["items"]])
        url = body["_links"]["prev"]

    assert pages[0] == expected[-3:]
    assert [item for page in reversed(pages) for item in page] == expected


def test_page_numbers_still_work_with_keyset_links(client: FlaskClient, timeline: Timeline) -> None:
    expected = timeline.expected

    response = client.get(f"{timeline.url}?page=2&per_page=5", headers=timeline.headers)

    assert ids_of(response) == expected[5:10]
    meta = response.json["_meta"]
    assert meta == {
        "page": 2,
        "per_page": 5,
        "total_pages": -(-len(expected) // 5),
        "total_items": len(expected),
    }
    links = response.json["_links"]
    assert query_of(links["next"]) == {"max_id": str(expected[9]), "per_page": "5"}
    assert query_of(links["prev"]) == {"min_id": str(expected[5]), "per_page": "5"}
    assert timeline.get(client, "page=3&per_page=5") == expected[10:15]
    assert timeline.get(client, "page=99&per_page=5") == []


def test_keyset_paging_does_not_repeat_items_when_new_ones_arrive(
    client: FlaskClient, timeline: Timeline
) -> None:
    first = client.get(f"{timeline.url}?per_page=5", headers=timeline.headers).json
    newest_seen = first["items"][0]["id"]

    new = [timeline.add(), timeline.add()]
    second = client.get(first["_links"]["next"], headers=timeline.headers)

    assert ids_of(second) == timeline.expected[5:10]
    # And the client catches up on what arrived with since_id.
    assert timeline.get(client, f"since_id={newest_seen}") == sorted(new, reverse=True)


TIMELINE_URLS = [
    "/api/posts",
    "/api/users/1/posts",
    "/api/feed",
    "/api/messages",
    "/api/messages/sent",
]
BAD_IDS = ["0", "-1", "abc", "1.5", "", "1e3", " 7", "\u0663", str(2**31), "9" * 40]


@pytest.fixture
def viewer(app: Flask, client: FlaskClient) -> Headers:
    assert insert_users(app, ["viewer"]) == [1]
    return token_for(client, "viewer")


@pytest.mark.parametrize("parameter", ["max_id", "since_id", "min_id"])
@pytest.mark.parametrize("value", BAD_IDS)
def test_bad_keyset_values_are_400_naming_the_parameter(
    client: FlaskClient, viewer: Headers, parameter: str, value: str
) -> None:
    response = client.get("/api/posts", query_string={parameter: value}, headers=viewer)

    assert_json_error(response, 400, parameter)


@pytest.mark.parametrize("url", TIMELINE_URLS)
def test_every_timeline_rejects_bad_keyset_values(
    client: FlaskClient, viewer: Headers, url: str
) -> None:
    wrong: list[str] = []
    for parameter in ("max_id", "since_id", "min_id"):
        for value in ("0", "-1", "abc", "1.5"):
            response = client.get(url, query_string={parameter: value}, headers=viewer)
            message = (response.json or {}).get("message", "")
            if response.status_code != 400 or parameter not in message:
                wrong.append(f"{parameter}={value}: {response.status_code} {message!r}")

    assert wrong == [], f"GET {url} accepted or misreported: {wrong}"


# ---------------------------------------------------------------------------------------------
# Ten thousand posts.

TOTAL = 10_000


@dataclass
class Crowd:
    users: dict[str, int]
    # Every post id, oldest first, and who wrote it.
    posts: list[int]
    author_of: dict[int, int]
    headers: Headers


@pytest.fixture
def ten_thousand(app: Flask, client: FlaskClient) -> Crowd:
    """10,000 posts by four authors in turn; the viewer follows two of them."""
    names = ["viewer", "friend", "other_friend", "stranger"]
    users = dict(zip(names, insert_users(app, names), strict=True))
    insert_follows(app, [users["viewer"]], users["friend"])
    insert_follows(app, [users["viewer"]], users["other_friend"])
    authors = [users[name] for name in names] * (TOTAL // len(names))
    posts = insert_posts(app, authors)
    assert len(posts) == TOTAL
    return Crowd(users, posts, dict(zip(posts, authors, strict=True)), token_for(client, "viewer"))


def test_keyset_paging_visits_ten_thousand_posts_once_each_newest_first(
    client: FlaskClient, ten_thousand: Crowd
) -> None:
    crowd = ten_thousand
    newest_first = crowd.posts[::-1]
    friend, stranger = crowd.users["friend"], crowd.users["stranger"]

    explore, pages = walk(client, "/api/posts?per_page=100", crowd.headers)
    feed, _ = walk(client, "/api/feed?per_page=100", crowd.headers)
    friends, _ = walk(client, f"/api/users/{friend}/posts?per_page=100", crowd.headers)

    assert len(explore) == len(set(explore)) == TOTAL
    assert explore == newest_first
    assert len(pages) in (TOTAL // 100, TOTAL // 100 + 1)
    assert feed == [post for post in newest_first if crowd.author_of[post] != stranger]
    assert friends == [post for post in newest_first if crowd.author_of[post] == friend]


def test_a_deep_keyset_page_costs_what_the_first_page_costs(
    client: FlaskClient,
    count_queries: Callable[[], Any],
    ten_thousand: Crowd,
) -> None:
    posts, headers = ten_thousand.posts, ten_thousand.headers
    friend = ten_thousand.users["friend"]

    for url in ("/api/posts", "/api/feed", f"/api/users/{friend}/posts"):
        first_count, first, statements = measure(
            client, count_queries, f"{url}?per_page=100", headers
        )
        deep_count, deep, deep_statements = measure(
            client, count_queries, f"{url}?per_page=100&max_id={posts[150]}", headers
        )
        assert len(first.json["items"]) == 100
        assert len(deep.json["items"]) > 0
        assert all(item["id"] < posts[150] for item in deep.json["items"])
        assert deep_count == first_count, (
            f"GET {url}: first page {first_count} statements, deep page {deep_count}: "
            f"{statements} / {deep_statements}"
        )
