"""Migration 0003: it indexes the rows already there, and its downgrade leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from microblog.db import UTCDateTime
from microblog.extensions import db
from microblog.posts.search import SEARCH_OBJECTS, search_posts, search_users
from tests.support import make_app

# The tables as migration 0002 left them, with only the columns written here: the models may
# grow columns that 0002 never made.
USERS = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("email", sa.String),
    sa.column("password_hash", sa.String),
    sa.column("about_me", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("last_seen", UTCDateTime()),
)
POSTS = sa.table(
    "posts",
    sa.column("body", sa.String),
    sa.column("user_id", sa.Integer),
    sa.column("timestamp", UTCDateTime()),
)


def search_objects_in(engine: sa.Engine) -> set[str]:
    """The search objects present: on SQLite its tables and triggers; on PostgreSQL its
    columns (as table.column) and indexes."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT type, name FROM sqlite_master")).all()
        tables = {name for kind, name in rows if kind == "table"}
        triggers = {name for kind, name in rows if kind == "trigger"}
        return (tables & SEARCH_OBJECTS) | triggers
    inspector = sa.inspect(engine)
    present: set[str] = set()
    for table in ("posts", "users"):
        present |= {f"{table}.{column['name']}" for column in inspector.get_columns(table)}
        present |= {str(index["name"]) for index in inspector.get_indexes(table)}
    return present & SEARCH_OBJECTS


def add_user_and_post(engine: sa.Engine, username: str, body: str) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        user_id = conn.execute(
            sa.insert(USERS)
            .values(
                username=username,
                email=f"{username}@example.com",
                password_hash="x",
                about_me=f"about {username}",
                created_at=now,
                last_seen=now,
            )
            .returning(USERS.c.id)
        ).scalar_one()
        conn.execute(sa.insert(POSTS).values(body=body, user_id=user_id, timestamp=now))


def test_upgrade_indexes_existing_rows_and_downgrade_removes_every_search_object(
    backend: str, database_factory: Callable[[str], str]
) -> None:
    app = make_app(database_factory(backend))
    with app.app_context():
        try:
            upgrade(revision="0002")
            add_user_and_post(db.engine, "early", "written before search existed")

            upgrade(revision="0003")
            assert search_objects_in(db.engine) == expected_objects(backend)
            assert [post.body for post in db.session.scalars(search_posts(db.session, "before"))]
            assert [user.username for user in db.session.scalars(search_users(db.session, "early"))]
            db.session.rollback()

            downgrade(revision="0002")
            assert search_objects_in(db.engine) == set()
            # No trigger is left to write into a table that is gone.
            add_user_and_post(db.engine, "between", "written while search was away")

            upgrade(revision="0003")
            assert len(db.session.scalars(search_posts(db.session, "written")).all()) == 2
            assert len(db.session.scalars(search_users(db.session, "between")).all()) == 1
            db.session.rollback()
        finally:
            db.session.remove()
            db.engine.dispose()


def expected_objects(backend: str) -> set[str]:
    if backend == "postgresql":
        return {
            "posts.search_vector",
            "users.search_vector",
            "ix_posts_search_vector",
            "ix_users_search_vector",
        }
    tables = {name for name in SEARCH_OBJECTS if "_fts" in name}
    triggers = {
        f"{fts}_after_{event}"
        for fts in ("posts_fts", "users_fts")
        for event in ("insert", "delete", "update")
    }
    return tables | triggers
