"""Fixtures shared by the whole suite.

Every test that uses `app` runs twice: on SQLite and on PostgreSQL (the server on 127.0.0.1, or
the one named by TEST_POSTGRES_URL). Each backend gets a database of its own for the session,
built with the real Alembic migrations, and emptied before each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from microblog import create_app
from microblog.extensions import db
from tests.ops.ops_support import delete_rate_limit_keys, redis_or_skip, unique_prefix
from tests.support import ApiUser, basic_auth, make_app, required_or_skip, stop_jobs
from tests.tasks.task_support import Inbox, running_smtp

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TABLES = (
    "idempotent_requests",
    "notifications",
    "messages",
    "task_results",
    "tasks",
    "tokens",
    "posts",
    "follows",
    "users",
    "totals",
)
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _postgres_or_skip() -> sa.Engine:
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        admin.dispose()
        required_or_skip(f"no PostgreSQL server at {POSTGRES_URL}: {exc}")
    return admin


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """Makes empty databases (a SQLite file, or a PostgreSQL database dropped at the end)."""
    made: list[tuple[sa.Engine, str]] = []

    def make(backend: str) -> str:
        name = f"microblog_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / name}.db"
        admin = _postgres_or_skip()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        made.append((admin, name))
        return admin.url.set(database=name).render_as_string(hide_password=False)

    yield make
    for admin, name in made:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, database_factory: Callable[[str], str]) -> str:
    """A database of this session, migrated to the newest schema."""
    from flask_migrate import upgrade

    url = database_factory(backend)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


# Settings that would send the test apps to real services; each test that wants one sets it.
SERVICES = (
    "REDIS_URL",
    "MAIL_SERVER",
    "LIBRETRANSLATE_URL",
    "LIBRETRANSLATE_API_KEY",
    "MS_TRANSLATOR_KEY",
    "MS_TRANSLATOR_REGION",
    "MS_TRANSLATOR_URL",
    "TRUSTED_HOSTS",
    "TRUSTED_PROXIES",
    # Links in mail point to the default PUBLIC_URL, http://127.0.0.1:5000.
    "PUBLIC_URL",
    "HOST",
    "PORT",
)


@pytest.fixture(autouse=True)
def _no_services_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps run jobs in threads and write mail to files, whatever the developer's shell says."""
    for name in SERVICES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on this test's (emptied) database, with an instance folder (mail) of its own;
    its job threads are done before the test ends."""
    app = make_app(database_url)
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        _empty(db.engine)
    yield app
    _close(app)


@pytest.fixture
def make_other_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Another app with settings of its own (a second server); on the test's (emptied)
    database unless told, its job threads done before the test ends."""
    made: list[Flask] = []

    def make(database: str | None = None, **overrides: Any) -> Flask:
        other = make_app(database or database_url, **overrides)
        other.instance_path = str(tmp_path / f"instance-{len(made) + 1}")
        made.append(other)
        return other

    yield make
    for other in made:
        _close(other)


def _close(app: Flask) -> None:
    stop_jobs(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        else:
            for table in TABLES:
                conn.exec_driver_sql(f"DELETE FROM {table}")
            # AUTOINCREMENT tables remember their last id; start each test from 1 again.
            conn.exec_driver_sql("DELETE FROM sqlite_sequence")


@pytest.fixture
def smtp_inbox() -> Inbox:
    """Where `smtp_server` keeps the mail it receives; a module may override it (a slow
    server in tests/security/test_authentication.py)."""
    return Inbox()


@pytest.fixture
def smtp_server(smtp_inbox: Inbox) -> Iterator[tuple[str, int, Inbox]]:
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1: (host, port, inbox)."""
    with running_smtp(smtp_inbox) as port:
        yield "127.0.0.1", port, smtp_inbox


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class StatementCounter:
    """SQL statements sent while active, transaction control (BEGIN, COMMIT ...) left out."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            self.statements.append(statement)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """`with count_queries() as counted:` ... `counted.count`."""
    import contextlib

    @contextlib.contextmanager
    def counting() -> Iterator[StatementCounter]:
        counter = StatementCounter()
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)

    return counting


@pytest.fixture
def make_user(client: FlaskClient) -> Callable[..., ApiUser]:
    """Registers a user through the API and gets them a token."""

    def make(username: str = "susan", password: str = "correct-horse", **extra: str) -> ApiUser:
        email = extra.pop("email", f"{username.lower()}@example.com")
        response = client.post(
            "/api/users",
            json={"username": username, "email": email, "password": password, **extra},
        )
        assert response.status_code == 201, response.json
        token = client.post("/api/tokens", headers=basic_auth(username, password))
        assert token.status_code == 200, token.json
        return ApiUser(response.json["id"], username, email, password, token.json["token"])

    return make


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    """The tests' Redis and a key prefix of this test's own, whose keys are deleted after."""
    url = redis_or_skip()
    prefix = unique_prefix()
    yield url, prefix
    delete_rate_limit_keys(url, prefix)
