"""Paginated collections: items, _meta, _links, the Link header, and the page parameters."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.api_helpers import (
    assert_json_error,
    insert_follows,
    insert_users,
    link_header,
    page_of,
    token_for,
)


def setup_users(app: Flask, client: FlaskClient, count: int) -> tuple[list[int], dict[str, str]]:
    """`count` users named user000, user001, ... and the bearer headers of the first."""
    ids = insert_users(app, [f"user{i:03}" for i in range(count)])
    return ids, token_for(client, "user000")


def test_collection_shape_and_defaults(app: Flask, client: FlaskClient) -> None:
    ids, headers = setup_users(app, client, 12)

    response = client.get("/api/users", headers=headers)

    assert response.status_code == 200
    body = response.json
    assert set(body) == {"items", "_meta", "_links"}
    assert body["_meta"] == {"page": 1, "per_page": 10, "total_pages": 2, "total_items": 12}
    assert set(body["_links"]) == {"self", "next", "prev"}
    assert [user["id"] for user in body["items"]] == ids[:10]
    assert page_of(body["_links"]["self"]) == (1, 10)
    assert page_of(body["_links"]["next"]) == (2, 10)
    assert body["_links"]["prev"] is None


def test_last_page_has_prev_but_no_next(app: Flask, client: FlaskClient) -> None:
    ids, headers = setup_users(app, client, 12)

    body = client.get("/api/users?page=2", headers=headers).json

    assert [user["id"] for user in body["items"]] == ids[10:]
    assert body["_meta"] == {"page": 2, "per_page": 10, "total_pages": 2, "total_items": 12}
    assert body["_links"]["next"] is None
    assert page_of(body["_links"]["prev"]) == (1, 10)


def test_following_next_links_walks_every_item_once(app: Flask, client: FlaskClient) -> None:
    ids, headers = setup_users(app, client, 7)
    seen: list[int] = []
    url: str | None = "/api/users?per_page=3"

    while url is not None:
        body = client.get(url, headers=headers).json
        seen += [user["id"] for user in body["items"]]
        url = body["_links"]["next"]

    assert seen == ids
    assert body["_meta"]["total_pages"] == 3


@pytest.mark.parametrize(
    ("page", "rels"),
    [(1, {"next"}), (2, {"next", "prev"}), (3, {"prev"})],
)
def test_link_header_carries_the_same_next_and_prev(
    app: Flask, client: FlaskClient, page: int, rels: set[str]
) -> None:
    _, headers = setup_users(app, client, 25)

    response = client.get(f"/api/users?page={page}", headers=headers)

    links = response.json["_links"]
    assert link_header(response) == {rel: links[rel] for rel in rels}


def test_single_page_has_no_next_prev_nor_link_relations(app: Flask, client: FlaskClient) -> None:
    _, headers = setup_users(app, client, 3)

    response = client.get("/api/users", headers=headers)

    assert response.json["_links"]["next"] is None
    assert response.json["_links"]["prev"] is None
    assert link_header(response) == {}
    assert response.json["_meta"]["total_pages"] == 1


def test_page_past_the_end_is_empty(app: Flask, client: FlaskClient) -> None:
    _, headers = setup_users(app, client, 3)

    body = client.get("/api/users?page=5", headers=headers).json

    assert body["items"] == []
    assert body["_meta"]["total_items"] == 3
    assert body["_links"]["next"] is None


@pytest.mark.parametrize(
    ("per_page", "shown", "items"),
    [
        ("1", 1, 1),
        ("100", 100, 100),
        ("101", 100, 100),
        ("500", 100, 100),
        pytest.param(str(10**30), 100, 100, id="huge"),
        pytest.param("9" * 5000, 100, 100, id="5000-digits"),
    ],
)
def test_per_page_is_capped_at_100(
    app: Flask, client: FlaskClient, per_page: str, shown: int, items: int
) -> None:
    _, headers = setup_users(app, client, 105)

    response = client.get("/api/users", query_string={"per_page": per_page}, headers=headers)

    assert response.status_code == 200, response.json
    body = response.json

    assert body["_meta"]["per_page"] == shown
    assert len(body["items"]) == items
    assert page_of(body["_links"]["self"]) == (1, shown)


def test_links_keep_the_capped_per_page(app: Flask, client: FlaskClient) -> None:
    _, headers = setup_users(app, client, 105)

    response = client.get("/api/users?per_page=500", headers=headers)

    assert page_of(response.json["_links"]["next"]) == (2, 100)
    assert page_of(link_header(response)["next"]) == (2, 100)


@pytest.mark.parametrize("parameter", ["page", "per_page"])
@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "", " 1", "1e2", "٣"])
def test_bad_page_parameters_are_400_naming_the_parameter(
    app: Flask, client: FlaskClient, parameter: str, value: str
) -> None:
    _, headers = setup_users(app, client, 1)

    response = client.get("/api/users", query_string={parameter: value}, headers=headers)

    assert_json_error(response, 400, parameter)


@pytest.mark.parametrize("which", ["followers", "following"])
def test_follow_lists_are_paginated_collections(
    app: Flask, client: FlaskClient, which: str
) -> None:
    ids, headers = setup_users(app, client, 1)

    response = client.get(f"/api/users/{ids[0]}/{which}?per_page=5", headers=headers)

    meta = response.json["_meta"]
    assert (meta["page"], meta["per_page"], meta["total_items"]) == (1, 5, 0)
    assert response.json["items"] == []
    assert page_of(response.json["_links"]["self"]) == (1, 5)


def test_follow_list_links_stay_on_that_list(app: Flask, client: FlaskClient) -> None:
    ids, headers = setup_users(app, client, 13)
    insert_follows(app, ids[1:], ids[0])
    path = f"/api/users/{ids[0]}/followers"

    response = client.get(f"{path}?page=2&per_page=5", headers=headers)

    links = response.json["_links"]
    for rel in ("self", "next", "prev"):
        assert urlsplit(links[rel]).path == path, links
    assert link_header(response) == {"next": links["next"], "prev": links["prev"]}
    assert response.json["_meta"]["total_items"] == 12


@pytest.mark.parametrize("which", ["followers", "following"])
def test_follow_lists_reject_bad_page_parameters(
    app: Flask, client: FlaskClient, which: str
) -> None:
    ids, headers = setup_users(app, client, 1)

    response = client.get(f"/api/users/{ids[0]}/{which}?per_page=0", headers=headers)

    assert_json_error(response, 400, "per_page")
