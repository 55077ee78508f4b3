"""How long one search may run: its statements are stopped after a time limit.

A search's cost grows with the rows it matches and the terms it holds; `search_query.parse`
bounds the terms, and `time_limit` bounds the rest, so no query (a run of common words joined
by OR over a large table) can hold a worker and the database for long. The limit applies to
the statements run inside the block only:

- PostgreSQL: `statement_timeout`, set for the block (`SET LOCAL` in a transaction; on a
  reader's autocommit connection set, then reset, so the pooled connection keeps no trace),
  with a plan made for each search's own words (`plan_cache_mode`);
- SQLite: a progress handler that interrupts a statement running past the deadline.

A statement stopped so raises `SearchTimedOut`, which the doors show as a 503 naming the limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from microblog.db import Db, autocommits
from microblog.errors import N_, Unavailable

# PostgreSQL's SQLSTATE for a statement cancelled (statement_timeout), and what Python's sqlite3
# says when a progress handler stops one.
_QUERY_CANCELED = "57014"
_SQLITE_INTERRUPTED = "interrupted"
# SQLite virtual machine steps between two looks at the clock (about a millisecond's work).
_SQLITE_STEPS = 10_000


class SearchTimedOut(Unavailable):
    """The search ran past its time limit and was stopped."""


@contextmanager
def time_limit(session: Db, seconds: float) -> Iterator[None]:
    """Stop any statement `session` runs in the block after `seconds` (raising
    SearchTimedOut); no limit if `seconds` is 0."""
    if seconds <= 0:
        yield
        return
    connection = session.connection()
    limited = _postgresql if connection.dialect.name == "postgresql" else _sqlite
    try:
        with limited(connection, seconds, autocommits(session)):
            yield
    except OperationalError as exc:
        if not _stopped(exc):
            raise
        raise SearchTimedOut(
            N_("the search took longer than %(seconds)s s; try fewer or less common words"),
            seconds=_shown(seconds),
        ) from None


@contextmanager
def _postgresql(connection: Connection, seconds: float, autocommit: bool) -> Iterator[None]:
    """The time limit, and a plan made for each search's own words.

    psycopg prepares a statement run five times, and PostgreSQL may then plan it once for any
    words (a generic plan): one that walks the newest posts suits common words and costs rare
    ones a scan of the whole table. Planning each search afresh costs a millisecond.
    """
    milliseconds = str(max(1, math.ceil(seconds * 1000)))
    # set_config(name, value, is_local): local lasts to the end of the transaction.
    connection.exec_driver_sql(
        "SELECT set_config('statement_timeout', %(ms)s, %(local)s),"
        " set_config('plan_cache_mode', 'force_custom_plan', %(local)s)",
        {"ms": milliseconds, "local": not autocommit},
    )
    try:
        yield
    except BaseException:
        if autocommit:
            _reset(connection, autocommit)
        raise
    _reset(connection, autocommit)


def _reset(connection: Connection, autocommit: bool) -> None:
    scope = "" if autocommit else "LOCAL "
    connection.exec_driver_sql(
        f"SET {scope}statement_timeout TO DEFAULT; SET {scope}plan_cache_mode TO DEFAULT"
    )


@contextmanager
def _sqlite(connection: Connection, seconds: float, _autocommit: bool) -> Iterator[None]:
    raw: Any = connection.connection.driver_connection
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: time.monotonic() > deadline, _SQLITE_STEPS)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


def _stopped(exc: OperationalError) -> bool:
    original = exc.orig
    return (
        getattr(original, "sqlstate", None) == _QUERY_CANCELED
        or str(original) == _SQLITE_INTERRUPTED
    )


def _shown(seconds: float) -> str:
    return f"{seconds:g}"
