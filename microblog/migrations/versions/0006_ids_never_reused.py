"""ids never reused; what names a person goes with their account

Revision ID: 0006_ids_never_reused
Revises: 0006_dot_usernames
Create Date: 2026-12-03 17:00:00

1. On SQLite an INTEGER PRIMARY KEY without AUTOINCREMENT gives the next row the highest id in
   use plus one: delete the newest account and the next sign-up gets its id, so notices,
   cached ids and signed cookies naming the old account point at a new person. `users`,
   `tokens` and `idempotent_requests` are rebuilt with AUTOINCREMENT (posts, messages and
   notifications have it since 0001/0002; tasks have UUIDs). Ids deleted before this
   migration may still come back once: SQLite kept no record of them. PostgreSQL's serial
   sequences never hand out an id twice: nothing to do there.

2. `notifications.subject_id` and `idempotent_requests.subject_id` name the other person a
   notice or a stored answer shows, with ON DELETE CASCADE: erasing an account takes them
   along, in the same DELETE. Existing `new_follower` notices get the follower named in their
   payload, if that account still exists under that name; the others (they name an account
   already erased, or another person now holding its id) are deleted. Stored answers from
   before the migration cannot be told apart and expire within 24 hours.

The SQLite rebuilds follow SQLite's documented procedure, foreign keys off (see
`_foreign_keys_off`): with them on, dropping the old `users` table would delete every row
that refers to it. Recreating `users` drops its full-text triggers and its lower(username)
index (see 0003): both are made again and the index rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0006_ids_never_reused"
down_revision = "0006_dot_usernames"
branch_labels = None
depends_on = None

REBUILT = ("users", "tokens", "idempotent_requests")
SUBJECTS = ("notifications", "idempotent_requests")
USERNAME_INDEX = "uq_users_username_lower"


def upgrade() -> None:
    if _sqlite():
        with _foreign_keys_off():
            for table in REBUILT:
                with _rebuilding_users(table):
                    _rebuild(table, autoincrement=True, subject=table in SUBJECTS)
            # notifications has AUTOINCREMENT already, and gains only its subject.
            _rebuild("notifications", autoincrement=True, subject=True)
    else:
        for table in SUBJECTS:
            op.add_column(table, sa.Column("subject_id", sa.Integer(), nullable=True))
            op.create_foreign_key(
                op.f(f"fk_{table}_subject_id_users"),
                table,
                "users",
                ["subject_id"],
                ["id"],
                ondelete="CASCADE",
            )
            op.create_index(op.f(f"ix_{table}_subject_id"), table, ["subject_id"])
    _name_the_followers()


def downgrade() -> None:
    if _sqlite():
        with _foreign_keys_off():
            _rebuild("notifications", autoincrement=True, subject=False, drop_subject=True)
            for table in REBUILT:
                with _rebuilding_users(table):
                    _rebuild(table, autoincrement=False, drop_subject=table in SUBJECTS)
            op.execute(
                "DELETE FROM sqlite_sequence WHERE name IN "
                f"({', '.join(repr(table) for table in REBUILT)})"
            )
    else:
        for table in SUBJECTS:
            op.drop_index(op.f(f"ix_{table}_subject_id"), table_name=table)
            op.drop_constraint(op.f(f"fk_{table}_subject_id_users"), table, type_="foreignkey")
            op.drop_column(table, "subject_id")


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _rebuild(
    table: str, *, autoincrement: bool, subject: bool = False, drop_subject: bool = False
) -> None:
    """Recreate `table` (batch mode), with or without AUTOINCREMENT, adding or dropping the
    `subject_id` column, its foreign key and its index."""
    with op.batch_alter_table(
        table,
        recreate="always",
        table_kwargs={"sqlite_autoincrement": autoincrement},
        # Not `users` too: its lower(username) index cannot be reflected (and is not needed).
        reflect_kwargs={"resolve_fks": False},
    ) as batch:
        if subject:
            batch.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                batch.f(f"fk_{table}_subject_id_users"),
                "users",
                ["subject_id"],
                ["id"],
                ondelete="CASCADE",
            )
            batch.create_index(batch.f(f"ix_{table}_subject_id"), ["subject_id"])
        if drop_subject:
            batch.drop_index(batch.f(f"ix_{table}_subject_id"))
            batch.drop_constraint(batch.f(f"fk_{table}_subject_id_users"), type_="foreignkey")
            batch.drop_column("subject_id")


@contextmanager
def _rebuilding_users(table: str) -> Iterator[None]:
    """Around a rebuild of `users`: what SQLite's reflection cannot copy is made again (the
    lower(username) index, the full-text triggers) and the full-text index rebuilt."""
    if table != "users":
        yield
        return
    op.drop_index(USERNAME_INDEX, table_name="users")
    yield
    op.create_index(USERNAME_INDEX, "users", [sa.text("lower(username)")], unique=True)
    for trigger in _users_fts_triggers():
        op.execute(trigger)
    op.execute("INSERT INTO users_fts(users_fts) VALUES ('rebuild')")


def _users_fts_triggers() -> list[str]:
    """0003's triggers on `users`, as 0003 made them (`_sqlite_triggers("users")`)."""
    names = "username, about_me"
    insert = (
        "INSERT INTO users_fts(rowid, username, about_me) "
        "VALUES (new.id, new.username, new.about_me);"
    )
    delete = (
        "INSERT INTO users_fts(users_fts, rowid, username, about_me) "
        "VALUES ('delete', old.id, old.username, old.about_me);"
    )
    return [
        f"CREATE TRIGGER users_fts_after_insert AFTER INSERT ON users BEGIN {insert} END",
        f"CREATE TRIGGER users_fts_after_delete AFTER DELETE ON users BEGIN {delete} END",
        f"CREATE TRIGGER users_fts_after_update AFTER UPDATE OF id, {names} ON users "
        f"BEGIN {delete} {insert} END",
    ]


@contextmanager
def _foreign_keys_off() -> Iterator[None]:
    """Run the body in a transaction of its own with SQLite's foreign keys off, and check them
    all before it commits.

    SQLite ignores PRAGMA foreign_keys inside a transaction, so the migration's transaction is
    committed first (nothing of this migration is in it yet). Whatever happens, the
    connection gets its foreign keys back, in a new transaction for Alembic to finish in.
    """
    bind = op.get_bind()
    if bind.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        yield
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"rows refer to rows that do not exist: {broken[:10]}")
        bind.exec_driver_sql("COMMIT")
    except BaseException:
        bind.exec_driver_sql("ROLLBACK")
        raise
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        bind.exec_driver_sql("BEGIN")


def _name_the_followers() -> None:
    """Each `new_follower` notice names its follower in `subject_id`, if the account of that id
    still bears that name; the notices naming anyone else go."""
    notifications = sa.table(
        "notifications",
        sa.column("name", sa.String()),
        sa.column("subject_id", sa.Integer()),
        sa.column("payload", sa.JSON()),
    )
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("username", sa.String()))
    follower = notifications.c.payload
    same_person = (
        sa.select(users.c.id)
        .where(
            users.c.id == follower["user_id"].as_integer(),
            users.c.username == follower["username"].as_string(),
        )
        .scalar_subquery()
    )
    new_follower = notifications.c.name == "new_follower"
    op.execute(notifications.update().where(new_follower).values(subject_id=same_person))
    op.execute(notifications.delete().where(new_follower, notifications.c.subject_id.is_(None)))
