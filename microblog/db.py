"""The declarative base, shared column types, and what every SQLite connection needs."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import DateTime, Engine, MetaData, Select, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, scoped_session
from sqlalchemy.types import TypeDecorator

from microblog.private_files import create_private, tighten

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


# Whether the transaction about to begin will write: True or False where the request boundary
# (or a job, or a command) has said so, None where nobody has.
#
# On SQLite a writer must take the write lock when it begins (BEGIN IMMEDIATE): a deferred
# transaction that read first and then writes fails at once with "database is locked" if
# another writer committed in between, whatever the busy timeout. A declared reader sends no
# BEGIN at all: each of its statements is a transaction of its own (as on PostgreSQL, below),
# and with WAL it never waits for a writer. Work whose intent nobody declared keeps BEGIN.
#
# On PostgreSQL a request declared a reader runs its statements in autocommit
# (`ReadAwareSession`): no BEGIN and no COMMIT, two round trips of the four or five a typical
# API read makes. A reader gives up only a snapshot shared by its statements (a page and its
# total may disagree by a concurrent write); what it writes anyway, the `last_seen` stamp, is
# one statement.
_write_intent: ContextVar[bool | None] = ContextVar("write_intent", default=None)


@contextlib.contextmanager
def write_intent(enabled: bool = True) -> Iterator[None]:
    token = _write_intent.set(enabled)
    try:
        yield
    finally:
        _write_intent.reset(token)


# A writer's reads that may run before it takes SQLite's write lock: see `before_the_write_lock`.
_before_write_lock: ContextVar[bool] = ContextVar("before_write_lock", default=False)
# On a connection whose writer's BEGIN IMMEDIATE was put off: owed before its next statement.
_LOCK_OWED = "microblog.write_lock_owed"


@contextlib.contextmanager
def before_the_write_lock() -> Iterator[None]:
    """Let a writer's reads here run before its transaction takes SQLite's write lock.

    The write lock serializes every writer of the file, across workers: whatever a request
    does while holding it, every other writer waits for. A writer's first statement is most
    often the look-up of who is asking (a token and its user), which needs no lock; the CPU
    work after it (parsing, checking, detecting a language) needs none either. Here, a
    writer's transaction does not begin: each SELECT runs on its own, seeing the newest
    committed state (as every statement does under PostgreSQL's read committed), and BEGIN
    IMMEDIATE is sent before the first statement that is not a SELECT, or the first
    statement after this block, whichever comes first. So the lock is held from the writer's
    first write, or from its first read of what it will write, to its commit.

    Only for reads whose answer needs no protection from a concurrent writer until the
    commit. Outside SQLite, and for readers, nothing changes.
    """
    token = _before_write_lock.set(True)
    try:
        yield
    finally:
        _before_write_lock.reset(token)


def set_write_intent(enabled: bool) -> Any:
    """Set the intent for the current context; returns a token for `reset_write_intent`."""
    return _write_intent.set(enabled)


def reset_write_intent(token: Any) -> None:
    _write_intent.reset(token)


class ReadAwareSession(FlaskSession):
    """The request's session: autocommit for a declared reader on PostgreSQL (see above)."""

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: Engine | Connection | None = None,
        **kwargs: Any,
    ) -> Engine | Connection:
        chosen = super().get_bind(mapper, clause, bind, **kwargs)
        if (
            _write_intent.get() is False
            and isinstance(chosen, Engine)
            and chosen.dialect.name == "postgresql"
        ):
            return _autocommitting(chosen)
        return chosen


def autocommits(session: Db) -> bool:
    """Whether each statement of `session` is its own transaction (a reader's, on PostgreSQL):
    there is then no transaction to hold a savepoint."""
    options = session.connection().get_execution_options()
    return bool(options.get("isolation_level") == "AUTOCOMMIT")


@functools.lru_cache(maxsize=16)
def _autocommitting(engine: Engine) -> Engine:
    """The same engine and pool, its connections in autocommit while checked out."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def newest_rows(session: Db, query: Select[Any], page: Select[Any], id_column: Any) -> list[Any]:
    """The rows of `query` whose ids `page` selects (`query` narrowed to one page: a keyset
    condition, a limit), newest first.

    In two steps, one statement: first the page's ids, from `query`'s conditions alone (an
    index holding the id and what the conditions read, such as posts' (id, user_id), answers
    that without visiting the table for the rows it skips); then the rows of those ids, with
    what `query` loads alongside them (authors, ...). Both doors page their timelines so.
    """
    ids = page.with_only_columns(id_column)
    newest = query.where(id_column.in_(ids)).order_by(None).order_by(id_column.desc())
    return list(session.scalars(newest).unique())


def configure_engine(engine: Engine) -> None:
    """Give SQLite connections WAL, foreign keys, a busy timeout and explicit transactions,
    and keep the database's files private."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        # Before SQLite opens (and maybe creates) the file; nothing is made until it is used.
        keep_sqlite_files_private(engine.url.database)

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
        intent = _write_intent.get()
        if intent is False:
            # A declared reader: each statement is a transaction of its own, as on PostgreSQL
            # (no BEGIN, and SQLAlchemy's COMMIT finds nothing to do). WAL readers never wait.
            connection.info[_LOCK_OWED] = False
            return
        writer = bool(intent)
        owed = writer and _before_write_lock.get()
        connection.info[_LOCK_OWED] = owed
        if not owed:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def _take_owed_lock(connection: Connection, cursor: Any, statement: str, *_args: Any) -> None:
        if not connection.info.get(_LOCK_OWED):
            return
        if _before_write_lock.get() and statement.lstrip()[:6].upper() == "SELECT":
            return  # a read before the lock: its own statement, outside any transaction
        connection.info[_LOCK_OWED] = False
        cursor.execute("BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _forget_owed_lock(connection: Connection) -> None:
        # A writer that never wrote after its reads: there is no transaction to end (the
        # driver's COMMIT and ROLLBACK then do nothing), and the next one decides afresh.
        connection.info[_LOCK_OWED] = False


# Beside the database: its write-ahead log, its shared-memory index, a rollback journal.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def keep_sqlite_files_private(database: str | None) -> None:
    """The database file (made here, empty, if missing) and its companions: 0600.

    SQLite creates a database with the umask's mode (0644, usually), and its -wal and -shm
    with the mode of the database: made private before SQLite first opens it, they all are.
    Files an older version left readable are tightened. In-memory and URI-named databases
    are left to whoever named them.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        create_private(path)
    except FileNotFoundError:
        return  # no such folder: SQLite says so when it is opened
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        tighten(file)


# --- work that must wait for the commit ---------------------------------------------------

log = logging.getLogger(__name__)
_AFTER_COMMIT = "microblog.after_commit"
_RELEASED = "microblog.released_savepoints"
_Pending = list[tuple[SessionTransaction | None, Callable[[], None]]]


def after_commit(session: Db, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction commits; forget it if it rolls back.

    For work outside the database that must not happen unless the change is durable, such as
    enqueueing a job that will read the row just written. A callback registered inside a
    savepoint is forgotten if that savepoint rolls back. Callbacks run in the order they were
    registered, right after COMMIT, when the session may not emit SQL; one that raises is
    logged and does not stop the others (the commit has happened: there is nothing to undo).
    """
    real = session() if isinstance(session, scoped_session) else session
    where = real.get_nested_transaction() or real.get_transaction()
    pending: _Pending = real.info.setdefault(_AFTER_COMMIT, [])
    pending.append((where, callback))


def _inside(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    """Whether `transaction` is `ended` or began within it."""
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        # A savepoint was released: its callbacks now wait for the outermost commit.
        session.info.setdefault(_RELEASED, []).append(savepoint)
        return
    pending: _Pending = session.info.pop(_AFTER_COMMIT, [])
    session.info.pop(_RELEASED, None)
    for _where, callback in pending:
        try:
            callback()
        except Exception:
            log.exception("an after-commit callback failed: %r", callback)


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # The outermost transaction ended: committed (callbacks already run), rolled back or
        # closed. Nothing registered in it may run later.
        session.info.pop(_AFTER_COMMIT, None)
        session.info.pop(_RELEASED, None)
        return
    if not transaction.nested:
        return
    released: list[SessionTransaction] = session.info.get(_RELEASED, [])
    if any(savepoint is transaction for savepoint in released):
        released.remove(transaction)
        return
    # A savepoint rolled back (SQLAlchemy sends no after_soft_rollback for it when a failed
    # flush ended it): forget what was registered within it.
    pending: _Pending | None = session.info.get(_AFTER_COMMIT)
    if pending:
        pending[:] = [item for item in pending if not _inside(item[0], transaction)]
