"""Statement budgets of every collection: a page of 100 costs at most BUDGET statements, and
no more than a page of 10 (transaction control not counted). Run with `-s` to see the counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.api_helpers import insert_follows, insert_users, token_for
from tests.api.timeline_helpers import (
    Headers,
    insert_messages,
    insert_notifications,
    insert_posts,
    measure,
)

BUDGET = 5
MANY = 120


@dataclass
class World:
    viewer: int
    # A user followed by MANY others, who wrote MANY posts and MANY messages to the viewer.
    star: int
    headers: Headers


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    """MANY+2 users; MANY of everything each collection shows, as the viewer sees it."""
    ids = insert_users(app, ["viewer", "star", *(f"user{n:03}" for n in range(MANY))])
    viewer, star, others = ids[0], ids[1], ids[2:]
    insert_follows(app, others, star)
    for followed in [star, *others[: MANY - 1]]:
        insert_follows(app, [viewer], followed)
    insert_posts(app, [star] * MANY + others[:10])
    insert_messages(app, [(star, viewer), (viewer, others[0])] * MANY)
    insert_notifications(
        app,
        viewer,
        [{"user_id": other, "username": f"user{n:03}"} for n, other in enumerate(others)],
    )
    return World(viewer, star, token_for(client, "viewer"))


COLLECTIONS = [
    "/api/users",
    "/api/users/{star}/followers",
    "/api/users/{viewer}/following",
    "/api/posts",
    "/api/users/{star}/posts",
    "/api/feed",
    "/api/messages",
    "/api/messages/sent",
    "/api/notifications",
]


def sized(
    client: FlaskClient, count_queries: Callable[[], Any], url: str, headers: Headers, size: int
) -> tuple[int, list[str]]:
    count, response, statements = measure(client, count_queries, f"{url}?per_page={size}", headers)
    assert len(response.json["items"]) == size, f"GET {url} should hold {MANY}+ items"
    assert response.json["_meta"]["total_items"] >= MANY
    return count, statements


@pytest.mark.parametrize("template", COLLECTIONS)
def test_a_page_of_100_costs_a_few_statements_and_no_more_than_a_page_of_10(
    client: FlaskClient, count_queries: Callable[[], Any], world: World, template: str
) -> None:
    url = template.format(viewer=world.viewer, star=world.star)
    # Settle what a first read changes (the inbox marks itself read) and warm the caches.
    client.get(url, headers=world.headers)

    small, _ = sized(client, count_queries, url, world.headers, 10)
    large, statements = sized(client, count_queries, url, world.headers, 100)

    assert large <= BUDGET, f"GET {url}?per_page=100 ran {large} statements: {statements}"
    assert large <= small, f"GET {url}: per_page=10 ran {small}, per_page=100 ran {large}"


def test_first_read_of_an_unread_inbox_stays_within_budget(
    app: Flask, client: FlaskClient, count_queries: Callable[[], Any], world: World
) -> None:
    """Reading MANY unread messages marks them read and notifies the new count, still within
    the budget of any other page."""
    small, _ = sized(client, count_queries, "/api/messages", world.headers, 10)
    insert_messages(app, [(world.star, world.viewer)])
    assert client.get("/api/me", headers=world.headers).json["unread_message_count"] == 1

    large, statements = sized(client, count_queries, "/api/messages", world.headers, 100)

    assert client.get("/api/me", headers=world.headers).json["unread_message_count"] == 0
    assert large <= BUDGET, f"first GET /api/messages?per_page=100 ran {large}: {statements}"
    assert large <= small, f"first reads: per_page=10 ran {small}, per_page=100 ran {large}"


@pytest.mark.parametrize(
    "template", ["/api/posts/{post}", "/api/users/{star}", "/api/me", "/api/messages/{message}"]
)
def test_one_resource_costs_a_few_statements(
    app: Flask, client: FlaskClient, count_queries: Callable[[], Any], world: World, template: str
) -> None:
    post = insert_posts(app, [world.star])[0]
    message = insert_messages(app, [(world.star, world.viewer)])[0]
    url = template.format(star=world.star, post=post, message=message)

    count, _, statements = measure(client, count_queries, url, world.headers)

    assert count <= BUDGET, f"GET {url} ran {count} statements: {statements}"
