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


def test_no_integer_id_of_any_table_is_ever_handed_out_twice(engine: sa.Engine) -> None:
    """SQLite reuses the highest rowid after a delete unless the table says AUTOINCREMENT;
    PostgreSQL's serial sequences never go back. Every table with an integer id is checked,
    a table added later too."""
    tables = [
        table.name
        for table in db.metadata.sorted_tables
        if [column.type.python_type for column in table.primary_key.columns] == [int]
    ]
    assert {"users", "tokens", "posts", "messages", "notifications"} <= set(tables)
    with engine.connect() as conn:
        for table in tables:
            if engine.dialect.name == "sqlite":
                sql = conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
                ).scalar_one()
                assert "AUTOINCREMENT" in sql, table
            else:
                sequence = conn.exec_driver_sql(
                    "SELECT pg_get_serial_sequence(%s, 'id')", (table,)
                ).scalar_one()
                assert sequence, table


def test_upgrading_to_ids_never_reused_keeps_every_row_and_names_the_followers(
    backend: str, database_factory: Callable[[str], str]
) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_factory(backend)})
    with app.app_context():
        try:
            upgrade(revision="0005")
            with db.engine.begin() as conn:
                _rows_before_0006(conn)

            upgrade(revision="0006_ids_never_reused")

            with db.engine.begin() as conn:
                counts = {
                    table: conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
                    for table in ("users", "posts", "follows", "tokens", "messages")
                }
                notices = conn.exec_driver_sql(
                    "SELECT user_id, subject_id FROM notifications ORDER BY id"
                ).all()
                conn.exec_driver_sql("DELETE FROM users WHERE id = 3")
                conn.execute(sa.insert(User), [_user_row("dave")])
                ids = conn.exec_driver_sql("SELECT id FROM users ORDER BY id").scalars().all()
                found = [_users_found(conn, name) for name in ("alice", "carol", "dave")]
            assert counts == {"users": 3, "posts": 2, "follows": 2, "tokens": 1, "messages": 1}
            # bob's notice of alice stays, now tied to her; those naming "zed" (gone) and "carl"
            # (id 3 is carol's, not his) go.
            assert notices == [(2, 1)]
            assert ids == [1, 2, 4]
            assert found == [1, 0, 1]  # the index was rebuilt, and its triggers made again
            upgrade()  # the migrations after it, to compare with the models
            assert schema_differences(db.engine) == []
        finally:
            db.engine.dispose()


def _user_row(username: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "username": username,
        "email": f"{username}@example.com",
        "password_hash": "x",
        "created_at": now,
        "last_seen": now,
    }


def _rows_before_0006(conn: sa.Connection) -> None:
    """alice (1), bob (2), carol (3): a post each of alice and carol, follows, a token, a
    message, and new_follower notices naming alice, a deleted user and a renamed id."""
    users = sa.table("users", *(sa.column(name) for name in _user_row("x")))
    conn.execute(sa.insert(users), [_user_row(name) for name in ("alice", "bob", "carol")])
    now = datetime.now(UTC).replace(tzinfo=None)
    for statement, rows in (
        ("INSERT INTO posts (body, timestamp, user_id) VALUES ('alice wrote', :t, 1)", [{}]),
        ("INSERT INTO posts (body, timestamp, user_id) VALUES ('carol wrote', :t, 3)", [{}]),
        ("INSERT INTO follows (follower_id, followed_id, since) VALUES (1, 2, :t)", [{}]),
        ("INSERT INTO follows (follower_id, followed_id, since) VALUES (3, 1, :t)", [{}]),
        (
            "INSERT INTO tokens (user_id, hash, created_at, expires_at) VALUES (1, 'h', :t, :t)",
            [{}],
        ),
        (
            "INSERT INTO messages (sender_id, recipient_id, body, timestamp) "
            "VALUES (1, 2, 'hi', :t)",
            [{}],
        ),
        (
            "INSERT INTO notifications (user_id, name, payload, timestamp) "
            "VALUES (2, 'new_follower', :payload, :t)",
            [
                {"payload": '{"user_id": 1, "username": "alice"}'},
                {"payload": '{"user_id": 9, "username": "zed"}'},
                {"payload": '{"user_id": 3, "username": "carl"}'},
            ],
        ),
    ):
        conn.execute(sa.text(statement), [{"t": now, **row} for row in rows])


def _users_found(conn: sa.Connection, word: str) -> int:
    """How many users the full-text index finds by `word` (its SQLite triggers were rebuilt)."""
    if conn.dialect.name != "sqlite":
        return int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM users WHERE search_vector @@ to_tsquery('simple', %s)",
                (word,),
            ).scalar_one()
        )
    return int(
        conn.exec_driver_sql(
            "SELECT count(*) FROM users_fts WHERE users_fts MATCH ?", (word,)
        ).scalar_one()
    )


def test_accounts_named_dot_or_dot_dot_are_renamed_to_a_free_name(
    backend: str, database_factory: Callable[[str], str]
) -> None:
    """Their profile links led elsewhere in browsers (/user/.. is /); the rule now refuses
    such names, and migration 0006 renames the accounts that had one."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_factory(backend)})
    now = datetime.now(UTC)
    with app.app_context():
        try:
            upgrade(revision="0005")
            with db.engine.begin() as conn:
                for username in (".", "..", "susan"):
                    conn.execute(
                        sa.insert(User).values(
                            username=username,
                            email=f"{len(username)}{username}@example.com",
                            password_hash="x",
                            created_at=now,
                            last_seen=now,
                        )
                    )
                ids = dict(conn.execute(sa.select(User.username, User.id)).all())
                # The name the second one would get is taken (in another case).
                conn.execute(
                    sa.update(User)
                    .where(User.username == "susan")
                    .values(username=f"USER-{ids['..']}")
                )

            upgrade()

            with db.engine.connect() as conn:
                names = dict(conn.execute(sa.select(User.id, User.username)).all())
            assert names == {
                ids["."]: f"user-{ids['.']}",
                ids[".."]: f"user-{ids['..']}-2",
                ids["susan"]: f"USER-{ids['..']}",
            }
        finally:
            db.engine.dispose()


BEFORE_TASK_EXPIRY = "0006_ids_never_reused"


def test_stored_export_results_move_to_their_own_table_and_back(
    backend: str, database_factory: Callable[[str], str]
) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_factory(backend)})
    now = datetime.now(UTC).isoformat()
    with app.app_context():
        try:
            upgrade(revision=BEFORE_TASK_EXPIRY)
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

            downgrade(revision=BEFORE_TASK_EXPIRY)
            with db.engine.connect() as conn:
                back = conn.execute(sa.text("SELECT id, result FROM tasks ORDER BY id")).all()
            assert [tuple(row) for row in back] == [("t1", '{"posts": []}'), ("t2", None)]
        finally:
            db.engine.dispose()
