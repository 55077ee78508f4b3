"""DELETE /api/me: a person deletes their account, confirmed with their password.

Everything of theirs goes (every row of every table that refers to them), every counter kept
of those rows elsewhere moves with them, and their token stops working at once. A wrong
password changes nothing. The deletion costs the same statements whatever the person had.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from microblog import totals
from microblog.accounts.models import User
from microblog.extensions import db
from microblog.messaging.models import Message
from microblog.posts.models import Post
from tests.accounts.deletion_support import counters_out_of_step, rows_of
from tests.api.api_helpers import (
    PASSWORD,
    ApiUser,
    assert_json_error,
    basic_auth,
    insert_follows,
    insert_users,
    token_for,
)
from tests.security.security_support import snapshot
from tests.support import wait_for_jobs
from tests.tasks.task_support import start_export, wait_for_task

BUDGET = 10


def delete_me(client: FlaskClient, who: ApiUser, password: Any = PASSWORD) -> TestResponse:
    return client.delete("/api/me", json={"password": password}, headers=who.headers)


@pytest.fixture
def world(
    client: FlaskClient, make_user: Callable[..., ApiUser]
) -> tuple[ApiUser, ApiUser, ApiUser]:
    """susan, with something in every table: posts, follows both ways (bob follows her, she
    follows carol), messages sent to bob and received from carol (unread on both sides),
    notifications, a second token, a finished export and an idempotency record."""
    susan, bob, carol = make_user("susan"), make_user("bob"), make_user("carol")
    for body in ("zebra crossing", "second post"):
        posted = client.post(
            "/api/posts",
            json={"body": body},
            headers={**susan.headers, "Idempotency-Key": f"key-{body}"},
        )
        assert posted.status_code == 201
    client.post("/api/posts", json={"body": "bob's own post"}, headers=bob.headers)
    assert client.post(f"/api/me/following/{susan.id}", headers=bob.headers).status_code == 204
    assert client.post(f"/api/me/following/{carol.id}", headers=susan.headers).status_code == 204
    for sender, recipient in ((susan, bob), (susan, bob), (carol, susan), (bob, carol)):
        sent = client.post(
            "/api/messages",
            json={"recipient_id": recipient.id, "body": f"from {sender.username}"},
            headers=sender.headers,
        )
        assert sent.status_code == 201
    token_for(client, "susan")
    task = start_export(client, susan.headers)
    wait_for_task(client, susan.headers, task["id"])
    wait_for_jobs(client.application)
    return susan, bob, carol


def test_deleting_your_account_is_204_and_leaves_no_row_of_yours(
    app: Flask, client: FlaskClient, world: tuple[ApiUser, ApiUser, ApiUser]
) -> None:
    susan, bob, carol = world
    before = rows_of(app, susan.id)
    assert all(before.values()), before  # the world really holds something of hers everywhere

    response = delete_me(client, susan)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert rows_of(app, susan.id) == dict.fromkeys(before, 0)
    assert all(rows_of(app, other.id)["users"] == 1 for other in (bob, carol))


def test_others_counters_and_the_site_totals_stay_equal_to_their_rows(
    app: Flask, client: FlaskClient, world: tuple[ApiUser, ApiUser, ApiUser]
) -> None:
    susan, bob, carol = world

    assert delete_me(client, susan).status_code == 204

    assert counters_out_of_step(app) == []
    shown = {
        user["id"]: user for user in client.get("/api/users", headers=bob.headers).json["items"]
    }
    assert shown[bob.id]["following_count"] == 0
    assert shown[carol.id]["follower_count"] == 0
    listed = client.get("/api/users", headers=bob.headers).json["_meta"]["total_items"]
    posts = client.get("/api/posts", headers=bob.headers).json["_meta"]["total_items"]
    assert (listed, posts) == (2, 1)


def test_the_token_stops_working_at_once_and_so_do_the_password_and_every_other_token(
    client: FlaskClient, world: tuple[ApiUser, ApiUser, ApiUser]
) -> None:
    susan, _bob, _carol = world
    other_token = token_for(client, "susan")

    assert delete_me(client, susan).status_code == 204

    assert_json_error(client.get("/api/me", headers=susan.headers), 401, "not valid")
    assert_json_error(client.get("/api/me", headers=other_token), 401, "not valid")
    assert_json_error(delete_me(client, susan), 401)
    refused = client.post("/api/tokens", headers=basic_auth("susan", PASSWORD))
    assert_json_error(refused, 401, "invalid username or password")


@pytest.mark.parametrize(
    ("password", "words"),
    [
        pytest.param("wrong-horse", ("password", "not the current password"), id="wrong"),
        pytest.param("", ("password", "required"), id="empty"),
        pytest.param(PASSWORD.upper(), ("password", "not the current password"), id="case"),
        pytest.param(PASSWORD + " ", ("password", "not the current password"), id="space"),
    ],
)
def test_a_wrong_password_is_400_naming_password_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    world: tuple[ApiUser, ApiUser, ApiUser],
    password: str,
    words: tuple[str, ...],
) -> None:
    susan, _bob, _carol = world
    before = snapshot(app)

    response = delete_me(client, susan, password)

    assert_json_error(response, 400, *words)
    assert snapshot(app) == before
    assert client.get("/api/me", headers=susan.headers).status_code == 200


def test_the_old_password_change_and_the_deletion_refuse_alike(
    client: FlaskClient, susan: ApiUser
) -> None:
    changed = client.put(
        f"/api/users/{susan.id}",
        json={"old_password": "wrong-horse", "password": "a-new-password"},
        headers=susan.headers,
    )
    deleted = delete_me(client, susan, "wrong-horse")

    assert changed.status_code == deleted.status_code == 400
    assert assert_json_error(deleted, 400).replace("password", "old_password", 1) == (
        assert_json_error(changed, 400)
    )


def test_a_deleted_users_posts_leave_others_feeds_and_search(
    app: Flask, client: FlaskClient, world: tuple[ApiUser, ApiUser, ApiUser]
) -> None:
    susan, bob, _carol = world
    found = client.get("/api/search", query_string={"q": "zebra"}, headers=bob.headers)
    assert [post["body"] for post in found.json["items"]] == ["zebra crossing"]

    assert delete_me(client, susan).status_code == 204

    feed = client.get("/api/feed", headers=bob.headers).json
    assert [post["body"] for post in feed["items"]] == ["bob's own post"]
    for kind, text in (("posts", "zebra"), ("posts", "second"), ("users", "susan")):
        found = client.get(
            "/api/search", query_string={"q": text, "type": kind}, headers=bob.headers
        )
        assert found.status_code == 200
        assert found.json["items"] == [], (kind, text)
        assert found.json["_meta"]["total_items"] == 0
    _the_search_index_matches_the_tables(app)


def _the_search_index_matches_the_tables(app: Flask) -> None:
    """On SQLite the FTS5 index is fed by triggers on the tables. A cascade that did not fire
    them would leave the deleted rows' words in the index, where MATCH still finds them (the
    joins of the search above would hide that)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        with db.engine.connect() as conn:
            stale = [
                conn.exec_driver_sql(
                    f"SELECT count(*) FROM {fts} WHERE {fts} MATCH '{word}'"
                ).scalar()
                for fts, word in (("posts_fts", "zebra"), ("users_fts", "susan"))
            ]
    assert stale == [0, 0]


def test_others_are_told_their_unread_count_without_the_deleted_senders_messages(
    client: FlaskClient, world: tuple[ApiUser, ApiUser, ApiUser]
) -> None:
    susan, bob, _carol = world

    assert delete_me(client, susan).status_code == 204

    notices = client.get("/api/notifications", headers=bob.headers).json["items"]
    counts = [n["payload"]["count"] for n in notices if n["name"] == "unread_message_count"]
    assert counts == [0]
    assert client.get("/api/me", headers=bob.headers).json["unread_message_count"] == 0
    assert client.get("/api/messages", headers=bob.headers).json["items"] == []


def test_the_new_follower_notice_naming_the_deleted_user_goes(
    client: FlaskClient, world: tuple[ApiUser, ApiUser, ApiUser]
) -> None:
    susan, _bob, carol = world
    before = client.get("/api/notifications", headers=carol.headers).json["items"]
    assert [n["payload"]["username"] for n in before if n["name"] == "new_follower"] == ["susan"]

    assert delete_me(client, susan).status_code == 204

    after = client.get("/api/notifications", headers=carol.headers).json["items"]
    assert [n for n in after if n["name"] == "new_follower"] == []


def test_a_new_follower_notice_goes_even_if_the_follow_was_undone_since(
    client: FlaskClient, world: tuple[ApiUser, ApiUser, ApiUser]
) -> None:
    susan, bob, _carol = world
    assert client.post(f"/api/me/following/{bob.id}", headers=susan.headers).status_code == 204
    assert client.delete(f"/api/me/following/{bob.id}", headers=susan.headers).status_code == 204

    assert delete_me(client, susan).status_code == 204

    after = client.get("/api/notifications", headers=bob.headers)
    assert "susan" not in after.get_data(as_text=True)
    assert [n for n in after.json["items"] if n["name"] == "new_follower"] == []


def test_a_new_account_never_gets_the_id_of_a_deleted_one(
    app: Flask, client: FlaskClient, make_user: Callable[..., ApiUser]
) -> None:
    bob = make_user("bob")
    newest = make_user("susan")
    assert client.post(f"/api/me/following/{bob.id}", headers=newest.headers).status_code == 204

    assert delete_me(client, newest).status_code == 204
    newcomer = make_user("mallory")

    assert newcomer.id > newest.id
    assert client.get(f"/api/users/{newest.id}", headers=bob.headers).status_code == 404
    notices = client.get("/api/notifications", headers=bob.headers).json["items"]
    assert [n for n in notices if n["name"] == "new_follower"] == []


def test_deleting_twice_is_401_the_second_time(client: FlaskClient, susan: ApiUser) -> None:
    assert delete_me(client, susan).status_code == 204
    assert_json_error(delete_me(client, susan), 401)


# --- the statement budget ------------------------------------------------------------------


def _insert_posts(app: Flask, user_id: int, count: int) -> None:
    """Posts written straight into the database, with the author's counter and the total."""
    with app.app_context():
        db.session.execute(
            sa.insert(Post), [{"user_id": user_id, "body": f"post {n}"} for n in range(count)]
        )
        db.session.execute(
            sa.update(User).where(User.id == user_id).values(post_count=User.post_count + count)
        )
        totals.recount(
            db.session, totals.POSTS, db.session.scalar(sa.select(sa.func.count(Post.id))) or 0
        )
        db.session.commit()


def _insert_messages(app: Flask, sender_id: int, recipient_ids: list[int]) -> None:
    with app.app_context():
        db.session.execute(
            sa.insert(Message),
            [{"sender_id": sender_id, "recipient_id": rid, "body": "hi"} for rid in recipient_ids],
        )
        db.session.commit()


def _following(app: Flask, follower_id: int, followed_ids: list[int]) -> None:
    for followed_id in followed_ids:
        insert_follows(app, [follower_id], followed_id)


def test_a_deletion_costs_the_same_statements_whatever_the_person_had(
    app: Flask, client: FlaskClient, count_queries: Callable[[], Any]
) -> None:
    ids = insert_users(app, ["loner", "star", *(f"fan{n:02}" for n in range(60))])
    loner, star, fans = ids[0], ids[1], ids[2:]
    insert_follows(app, fans, star)
    _following(app, star, fans[:20])
    _insert_posts(app, star, 40)
    _insert_messages(app, star, fans)
    _insert_messages(app, fans[0], [star])
    measured = {}

    for name, user_id in (("loner", loner), ("star", star)):
        headers = token_for(client, name)
        with count_queries() as counted:
            response = client.delete("/api/me", json={"password": PASSWORD}, headers=headers)
        assert response.status_code == 204, response.get_data(as_text=True)
        measured[name] = counted
        print(f"\nDELETE /api/me as {name}: {counted.count} statements")
        assert rows_of(app, user_id)["users"] == 0

    assert measured["star"].count == measured["loner"].count, measured["star"].statements
    assert measured["star"].count <= BUDGET, measured["star"].statements
    assert counters_out_of_step(app) == []
