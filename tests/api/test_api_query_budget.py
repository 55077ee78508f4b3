"""Statement budgets: a page of users costs a fixed handful of statements, whatever its size.

Counted with `count_queries` (transaction control left out). Run with `-s` to see the counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.api_helpers import insert_follows, insert_users, token_for

BUDGET = 4


def measure(
    client: FlaskClient, count_queries: Callable[[], Any], url: str, headers: dict[str, str]
) -> tuple[int, Any, list[str]]:
    """(statement count, JSON body, statements) of one GET."""
    with count_queries() as counted:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.json
    print(f"\n{url}: {counted.count} statements")
    return counted.count, response.json, counted.statements


@pytest.fixture
def crowd(app: Flask, client: FlaskClient) -> tuple[list[int], dict[str, str]]:
    """120 users, inserted directly, and the bearer headers of the first."""
    ids = insert_users(app, [f"user{i:03}" for i in range(120)])
    return ids, token_for(client, "user000")


def test_user_list_page_stays_within_budget_whatever_its_size(
    client: FlaskClient, count_queries: Callable[[], Any], crowd: tuple[list[int], dict[str, str]]
) -> None:
    _, headers = crowd

    small, small_body, _ = measure(client, count_queries, "/api/users?per_page=10", headers)
    large, large_body, statements = measure(
        client, count_queries, "/api/users?per_page=100", headers
    )

    assert len(small_body["items"]) == 10
    assert len(large_body["items"]) == 100
    assert large <= BUDGET, f"GET /api/users?per_page=100 ran {large} statements: {statements}"
    assert large <= small, f"per_page=10 ran {small}, per_page=100 ran {large}: {statements}"


@pytest.mark.parametrize("whose", ["another user", "yourself"])
def test_one_user_stays_within_budget(
    client: FlaskClient,
    count_queries: Callable[[], Any],
    crowd: tuple[list[int], dict[str, str]],
    whose: str,
) -> None:
    ids, headers = crowd
    user_id = ids[57] if whose == "another user" else ids[0]

    count, body, statements = measure(client, count_queries, f"/api/users/{user_id}", headers)

    assert body["id"] == user_id
    assert count <= BUDGET, f"GET /api/users/<{whose}> ran {count} statements: {statements}"


def test_followers_page_stays_within_budget_whatever_its_size(
    app: Flask,
    client: FlaskClient,
    count_queries: Callable[[], Any],
    crowd: tuple[list[int], dict[str, str]],
) -> None:
    ids, headers = crowd
    # The star is not the viewer, so loading them is a statement of its own.
    star, fans = ids[-1], ids[:100]
    insert_follows(app, fans, star)
    url = f"/api/users/{star}/followers"

    small, small_body, _ = measure(client, count_queries, f"{url}?per_page=10", headers)
    large, large_body, statements = measure(client, count_queries, f"{url}?per_page=100", headers)

    assert len(small_body["items"]) == 10
    assert large_body["_meta"]["total_items"] == 100
    assert sorted(user["id"] for user in large_body["items"]) == fans
    assert all(user["following_count"] == 1 for user in large_body["items"])
    assert large <= BUDGET, f"GET {url}?per_page=100 ran {large} statements: {statements}"
    assert large <= small, f"per_page=10 ran {small}, per_page=100 ran {large}: {statements}"
    star_shown = client.get(f"/api/users/{star}", headers=headers).json
    assert star_shown["follower_count"] == 100
