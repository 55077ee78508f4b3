"""Site-wide totals: the counts of users and posts shown in `_meta.total_items` move with the
rows, in the same transaction, and no page counts rows to know them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from microblog import totals
from microblog.extensions import db
from microblog.fake import fake_posts, fake_users
from microblog.posts.models import Post
from tests.support import ApiUser


def _stored(app: Flask, name: str) -> int:
    with app.app_context():
        return totals.total(db.session, name)


def test_sign_ups_and_posts_move_the_totals(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    ids = [
        client.post("/api/posts", json={"body": f"post {n}"}, headers=susan.headers).json["id"]
        for n in range(10)
    ]
    for post_id in ids[:3]:
        assert client.delete(f"/api/posts/{post_id}", headers=susan.headers).status_code == 204
    posted = client.post("/api/posts", json={"body": "bob's"}, headers=bob.headers)

    assert posted.status_code == 201
    assert _stored(app, totals.USERS) == 2
    assert _stored(app, totals.POSTS) == 8
    users = client.get("/api/users", headers=susan.headers).json
    explore = client.get("/api/posts", headers=susan.headers).json
    assert users["_meta"]["total_items"] == 2
    assert explore["_meta"]["total_items"] == 8


def test_a_refused_post_moves_no_total(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan = make_user("susan")

    response = client.post("/api/posts", json={"body": "x" * 281}, headers=susan.headers)

    assert response.status_code == 400
    assert _stored(app, totals.POSTS) == 0


def test_deleting_someone_elses_post_moves_no_total(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    susan, bob = make_user("susan"), make_user("bob")
    post = client.post("/api/posts", json={"body": "mine"}, headers=susan.headers).json["id"]

    assert client.delete(f"/api/posts/{post}", headers=bob.headers).status_code == 403
    assert _stored(app, totals.POSTS) == 1


def test_the_totals_are_spread_over_slots_and_summed(app: Flask) -> None:
    with app.app_context():
        for row_id in range(1, 21):
            totals.count_in(db.session, totals.POSTS, 1, row_id)
        totals.count_in(db.session, totals.POSTS, -1, 3)
        slots = db.session.scalar(
            sa.select(sa.func.count()).where(totals.Total.name == totals.POSTS)
        )
        assert slots == totals.SLOTS
        assert totals.total(db.session, totals.POSTS) == 19


def test_fake_data_sets_the_totals_to_the_rows(app: Flask) -> None:
    with app.app_context():
        fake_users(db.session, 30, seed=1, progress=lambda _n: None)
        fake_posts(db.session, 200, seed=1, progress=lambda _n: None)
        db.session.commit()
        rows = db.session.scalar(sa.select(sa.func.count(Post.id)))
        assert totals.total(db.session, totals.POSTS) == rows == 200
        assert totals.total(db.session, totals.USERS) == 30


def test_the_users_page_counts_no_rows(
    client: FlaskClient,
    make_user: Callable[..., ApiUser],
    count_queries: Callable[[], Any],
) -> None:
    susan = make_user("susan")

    with count_queries() as counted:
        client.get("/api/users?per_page=100", headers=susan.headers)

    assert counted.count == 3  # the token, the total, the page
    assert not [s for s in counted.statements if "count(" in s.lower()]
