"""Helpers for the timeline tests: bulk rows written straight into the database, walking a
collection by its links, reading ids and query parameters out of what the API sends, counting
the statements of a request, and sending requests from several threads at the same moment.

Bulk setup moves the same counters the services move (`post_count`), so what the API shows
about those rows is what it would show had they been written through it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from microblog import totals
from microblog.accounts.models import User
from microblog.db import utcnow
from microblog.extensions import db
from microblog.messaging.models import Message, Notification
from microblog.posts.models import Post

Headers = dict[str, str]


def insert_posts(app: Flask, authors: Sequence[int], body: str = "post {n}") -> list[int]:
    """One post per entry of `authors` (a user id), in that order, oldest first; returns their
    ids. Timestamps grow with the ids, a millisecond apart; each author's post_count moves."""
    start = utcnow() - timedelta(milliseconds=len(authors) + 1)
    rows = [
        {
            "user_id": author,
            "body": body.format(n=n),
            "timestamp": start + timedelta(milliseconds=n),
        }
        for n, author in enumerate(authors)
    ]
    with app.app_context():
        ids = db.session.scalars(
            sa.insert(Post).returning(Post.id, sort_by_parameter_order=True), rows
        ).all()
        counts: dict[int, int] = {}
        for author in authors:
            counts[author] = counts.get(author, 0) + 1
        for author, count in counts.items():
            db.session.execute(
                sa.update(User).where(User.id == author).values(post_count=User.post_count + count)
            )
        totals.recount(
            db.session, totals.POSTS, db.session.scalar(sa.select(sa.func.count(Post.id))) or 0
        )
        db.session.commit()
    return list(ids)


def insert_messages(
    app: Flask, pairs: Sequence[tuple[int, int]], body: str = "message {n}"
) -> list[int]:
    """One message per (sender_id, recipient_id), in that order, oldest first; returns ids."""
    start = utcnow() - timedelta(milliseconds=len(pairs) + 1)
    rows = [
        {
            "sender_id": sender,
            "recipient_id": recipient,
            "body": body.format(n=n),
            "timestamp": start + timedelta(milliseconds=n),
        }
        for n, (sender, recipient) in enumerate(pairs)
    ]
    with app.app_context():
        ids = db.session.scalars(
            sa.insert(Message).returning(Message.id, sort_by_parameter_order=True), rows
        ).all()
        db.session.commit()
    return list(ids)


def insert_notifications(
    app: Flask, user_id: int, payloads: Sequence[dict[str, Any]], name: str = "new_follower"
) -> list[int]:
    """Notifications for `user_id`, oldest first; returns their ids."""
    start = utcnow() - timedelta(milliseconds=len(payloads) + 1)
    rows = [
        {
            "user_id": user_id,
            "name": name,
            "payload": payload,
            "timestamp": start + timedelta(milliseconds=n),
        }
        for n, payload in enumerate(payloads)
    ]
    with app.app_context():
        ids = db.session.scalars(
            sa.insert(Notification).returning(Notification.id, sort_by_parameter_order=True),
            rows,
        ).all()
        db.session.commit()
    return list(ids)


def ids_of(response: TestResponse) -> list[int]:
    """The ids of a collection's items, in the order the API sent them."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.json["items"]]


def query_of(url: str | None) -> dict[str, str]:
    """A link's query parameters, each with its single value."""
    assert url is not None
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def walk(
    client: FlaskClient, url: str, headers: Headers, limit: int = 1000
) -> tuple[list[int], list[str]]:
    """Follow `_links.next` from `url` to the end: (every id seen in order, each URL visited)."""
    seen: list[int] = []
    visited: list[str] = []
    next_url: str | None = url
    while next_url is not None:
        assert len(visited) < limit, f"still paging after {limit} pages: {visited[-3:]}"
        visited.append(next_url)
        response = client.get(next_url, headers=headers)
        seen += ids_of(response)
        next_url = response.json["_links"]["next"]
    return seen, visited


def set_time(app: Flask, model: Any, column: str, row_filter: Any, when: datetime) -> None:
    """Set a time column of the rows `row_filter` selects."""
    with app.app_context():
        db.session.execute(sa.update(model).where(row_filter).values({column: when}))
        db.session.commit()


def measure(
    client: FlaskClient, count_queries: Callable[[], Any], url: str, headers: Headers
) -> tuple[int, TestResponse, list[str]]:
    """(statements run, response, the statements) of one GET that must succeed."""
    with count_queries() as counted:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    print(f"\nGET {url}: {counted.count} statements")
    return counted.count, response, list(counted.statements)


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """`work(0)` ... `work(count - 1)` in as many threads, released at the same moment; their
    results in order. Each thread must make its own test client (`app.test_client()`)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    failures: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[n] = work(n)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    return results
