"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade

from microblog import create_app
from microblog.accounts.models import User
from microblog.extensions import db
from microblog.posts.search import SEARCH_OBJECTS

INDEX = "uq_users_username_lower"  # lower(username): an index on an expression


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def not_a_search_object(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """False for the search backends' own objects, which migration 0003 adds to one backend
    or the other and the models deliberately leave out."""
    qualified = f"{parent_names.get('table_name')}.{name}" if type_ == "column" else name
    return qualified not in SEARCH_OBJECTS


def schema_differences(engine: sa.Engine) -> list[Any]:
    """What autogenerate would write in a new migration: the models against the database."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": not_a_search_object}
        )
        with warnings.catch_warnings():
            # SQLite's reflection cannot read an index on an expression: SQLAlchemy says so,
            # and Alembic says it leaves that index out of the comparison.
            warnings.filterwarnings(
                "ignore",
                message=f"Skipped unsupported reflection of expression-based index {INDEX}$",
                category=sa.exc.SAWarning,
            )
            warnings.filterwarnings(
                "ignore",
                message=f"autogenerate skipping .* expression-based index '{INDEX}'",
                category=UserWarning,
            )
            differences = compare_metadata(context, db.metadata)
    return differences


def test_migrated_schema_matches_the_models(engine: sa.Engine) -> None:
    # create_app (run by the database_url fixture) has imported every model.
    tables = set(db.metadata.tables)
    names = set(sa.inspect(engine).get_table_names())
    assert names - SEARCH_OBJECTS == tables | {"alembic_version"}
    assert schema_differences(engine) == []


def test_usernames_differing_only_in_case_are_refused_by_the_database(app: Flask) -> None:
    now = datetime.now(UTC)

    def row(username: str, email: str) -> dict[str, Any]:
        return {
            "username": username,
            "email": email,
            "password_hash": "x",
            "created_at": now,
            "last_seen": now,
        }

    with app.app_context(), db.engine.connect() as conn:
        conn.execute(sa.insert(User), [row("Susan", "susan@example.com")])
        # Straight to the database, past the service's own check: the index alone refuses it.
        with pytest.raises(sa.exc.IntegrityError, match=r"(?i)unique"):
            conn.execute(sa.insert(User), [row("susan", "another-susan@example.com")])
        conn.rollback()


def test_downgrade_to_base_and_upgrade_again_rebuilds_the_schema(
    backend: str, database_factory: Callable[[str], str]
) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_factory(backend)})
    tables = set(db.metadata.tables)
    with app.app_context():
        try:
            upgrade()
            assert set(sa.inspect(db.engine).get_table_names()) >= tables

            downgrade(revision="base")
            assert not tables & set(sa.inspect(db.engine).get_table_names())

            upgrade()
            assert set(sa.inspect(db.engine).get_table_names()) >= tables
            assert schema_differences(db.engine) == []
        finally:
            db.engine.dispose()


def test_stored_export_results_move_to_their_own_table_and_back(
    backend: str, database_factory: Callable[[str], str]
) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_factory(backend)})
    now = datetime.now(UTC).isoformat()
    with app.app_context():
        try:
            upgrade(revision="0005")
            with db.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO users (username, email, password_hash, created_at,"
                        " last_seen) VALUES ('susan', 'susan@example.com', 'x', :now, :now)"
                    ),
                    {"now": now},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO tasks (id, user_id, name, progress, complete, result,"
                        " created_at) VALUES ('t1', 1, 'export_posts', 100, :yes, :result,"
                        " :now), ('t2', 1, 'export_posts', 0, :no, NULL, :now)"
                    ),
                    {"now": now, "yes": True, "no": False, "result": '{"posts": []}'},
                )

            upgrade(revision="0006_task_expiry")
            with db.engine.connect() as conn:
                moved = conn.execute(sa.text("SELECT task_id, body FROM task_results")).all()
            assert [tuple(row) for row in moved] == [("t1", '{"posts": []}')]

            downgrade(revision="0005")
            with db.engine.connect() as conn:
                back = conn.execute(sa.text("SELECT id, result FROM tasks ORDER BY id")).all()
            assert [tuple(row) for row in back] == [("t1", '{"posts": []}'), ("t2", None)]
        finally:
            db.engine.dispose()
