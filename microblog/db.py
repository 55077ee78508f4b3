"""The declarative base, shared column types, and what every SQLite connection needs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Ids are INTEGER columns (32-bit on PostgreSQL). A larger number names no row, and asking the
# database about it fails ("integer out of range"; OverflowError on SQLite past 64 bits).
MAX_ID = 2**31 - 1

# What services take as their session: a plain Session, or the request-scoped proxy of it.
Db = Session | scoped_session[Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite has no time zones and hands back naive values; PostgreSQL stores `timestamptz`.
    Either way the application only ever sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Whether the transaction about to begin will write. On SQLite a writer must take the write
# lock when it begins (BEGIN IMMEDIATE): a deferred transaction that read first and then writes
# fails at once with "database is locked" if another writer committed in between, whatever the
# busy timeout. Readers keep plain BEGIN so they never queue behind writers.
_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


@contextlib.contextmanager
def write_intent(enabled: bool = True) -> Iterator[None]:
    token = _write_intent.set(enabled)
    try:
        yield
    finally:
        _write_intent.reset(token)


def set_write_intent(enabled: bool) -> Any:
    """Set the intent for the current context; returns a token for `reset_write_intent`."""
    return _write_intent.set(enabled)


def reset_write_intent(token: Any) -> None:
    _write_intent.reset(token)


def configure_engine(engine: Engine) -> None:
    """Give SQLite connections WAL, foreign keys, a busy timeout and explicit transactions."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")
