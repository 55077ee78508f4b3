"""full-text search over posts and users

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 10:12:00

Each backend gets its own full-text index, kept in step with `posts` and `users` in the same
transaction as the rows, whoever writes them (the ORM, Core bulk inserts, `fake posts`, psql):

- SQLite: external-content FTS5 tables `posts_fts(body)` and `users_fts(username, about_me)`
  (tokenizer unicode61, diacritics kept, as PostgreSQL's 'simple' configuration keeps them),
  filled by AFTER INSERT / DELETE / UPDATE OF triggers, and rebuilt here from existing rows.
- PostgreSQL: stored generated `tsvector` columns `posts.search_vector` and
  `users.search_vector` ('simple' configuration) with GIN indexes. Adding a stored column
  rewrites the table, under an exclusive lock, once.

None of these objects are in the models: `microblog.posts.search.SEARCH_OBJECTS` names them,
and the schema comparison in tests/test_migrations.py leaves them out.

WARNING for future migrations on SQLite: `op.batch_alter_table("posts")` or
`op.batch_alter_table("users")` that recreates the table (any change SQLite cannot ALTER in
place) drops the triggers below WITHOUT ANY ERROR, and from then on the index silently misses
every write. Such a migration must drop and create the triggers again (copy
`_sqlite_triggers`) and rebuild the index: `INSERT INTO posts_fts(posts_fts) VALUES('rebuild')`.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# table -> (FTS5 table, the indexed columns)
_FTS = {"posts": ("posts_fts", ("body",)), "users": ("users_fts", ("username", "about_me"))}

# PostgreSQL's parser reads "a.b@c.d", "x-y" or a URL as one token; FTS5 (and the query
# parser) cut them into words. Punctuation becomes spaces first, so both cut text alike.
_WORDS_OF = "to_tsvector('simple', regexp_replace({column}, '[[:punct:]]', ' ', 'g'))"
_POSTS_VECTOR = _WORDS_OF.format(column="body")
# The username weighs more than about_me (weights A and D, as bm25's 10 to 1 on SQLite). The
# lexeme '_' (no query can contain it) takes a position between them so that no phrase spans
# the two, as none spans two FTS5 columns. "\\:" keeps SQLAlchemy from reading ":1" as a bound
# parameter (it would write NULL there).
_USERS_VECTOR = (
    f"setweight({_WORDS_OF.format(column='username')}, 'A')"
    " || '''_''\\:1'::tsvector"
    f" || setweight({_WORDS_OF.format(column='about_me')}, 'D')"
)


def _sqlite_triggers(table: str) -> list[str]:
    fts, columns = _FTS[table]
    names = ", ".join(columns)
    new = ", ".join(f"new.{column}" for column in columns)
    old = ", ".join(f"old.{column}" for column in columns)
    insert = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
    delete = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
    return [
        f"CREATE TRIGGER {fts}_after_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_after_delete AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_after_update AFTER UPDATE OF id, {names} ON {table} "
        f"BEGIN {delete} {insert} END",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _FTS:
            op.drop_index(f"ix_{table}_search_vector", table_name=table)
            op.drop_column(table, "search_vector")
    else:
        for fts, _columns in _FTS.values():
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {fts}_after_{event}")
            op.execute(f"DROP TABLE {fts}")


def _upgrade_sqlite() -> None:
    for table, (fts, columns) in _FTS.items():
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(columns)}, "
            f"content='{table}', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 0')"
        )
        for trigger in _sqlite_triggers(table):
            op.execute(trigger)
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _upgrade_postgresql() -> None:
    for table, vector in (("posts", _POSTS_VECTOR), ("users", _USERS_VECTOR)):
        op.add_column(
            table,
            sa.Column(
                "search_vector", TSVECTOR(), sa.Computed(vector, persisted=True), nullable=True
            ),
        )
        op.create_index(
            f"ix_{table}_search_vector", table, ["search_vector"], postgresql_using="gin"
        )
