"""A post deleted by another transaction while a request edits it: the request's answer is a
clean 4xx, never a 500. The deleting transaction is held open while the edit is sent from a
thread, so the edit meets it mid-way: on PostgreSQL it has read the post and waits on its row
lock, then finds the row gone (409); on SQLite it waits for the write lock before reading
anything, then finds no post (404)."""

from __future__ import annotations

import threading
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from microblog.db import write_intent
from microblog.extensions import db
from microblog.posts.models import Post
from microblog.posts.services import delete_post
from tests.api.api_helpers import assert_json_error
from tests.support import ApiUser

# Long enough for the edit to reach the lock it waits on.
SETTLE = 0.3
# What the edit meets once the deletion commits (see the module's docstring).
ANSWER = {"postgresql": 409, "sqlite": 404}


def test_editing_a_post_deleted_meanwhile_is_a_clean_4xx(
    app: Flask, client: FlaskClient, susan: ApiUser, backend: str
) -> None:
    post_id = client.post("/api/posts", json={"body": "first"}, headers=susan.headers).json["id"]
    answers: list[Any] = []

    def edit() -> None:
        answers.append(
            client.put(f"/api/posts/{post_id}", json={"body": "edited"}, headers=susan.headers)
        )

    with app.app_context():
        engine: sa.Engine = db.engine
    with write_intent(), Session(engine) as deleting:
        delete_post(deleting, deleting.get_one(Post, post_id))
        editor = threading.Thread(target=edit)
        editor.start()
        time.sleep(SETTLE)
        assert editor.is_alive(), "the edit did not wait for the deletion"
        deleting.commit()
    editor.join(timeout=30)

    [answer] = answers
    message = assert_json_error(answer, ANSWER[backend])
    if backend == "postgresql":
        assert message == "this was deleted by another request meanwhile; reload it"
    assert client.get(f"/api/posts/{post_id}", headers=susan.headers).status_code == 404
