"""A search certain to run past a short time limit, on either backend."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import Flask

from microblog.extensions import db


@contextlib.contextmanager
def stalled_search(app: Flask, backend: str) -> Iterator[float]:
    """A time limit that any search over a few hundred posts exceeds, for the block.

    On PostgreSQL another transaction holds `posts` locked, so the search waits for as long as
    the block lasts (statement_timeout counts lock waits); on SQLite, where readers never wait,
    the limit is shorter than the few thousand steps a search of a few hundred matches takes.
    """
    if backend != "postgresql":
        yield 1e-6
        return
    with app.app_context(), db.engine.connect() as holder:
        holder.exec_driver_sql("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
        try:
            yield 0.05
        finally:
            holder.rollback()
