"""Full-text search over posts and users: one query language, two backends.

`search_posts` and `search_users` parse what people typed (`search_query.parse`, which raises
`Invalid`) and return a statement of the matches, best first and then newest, for the caller
to page through. The backend follows the session's database:

- SQLite: FTS5 tables (`posts_fts`, `users_fts`) ranked with `bm25()`;
- PostgreSQL: generated `tsvector` columns (`search_vector`) with GIN indexes, ranked with
  `ts_rank()`.

Both are built by migration 0003, kept in step by the database itself (triggers, generated
columns), and deliberately absent from the models: `SEARCH_OBJECTS` names them.

Only the newest MAX_MATCHES matches are ranked (and counted): ranking reads every row it
orders, so a few common words over a large table would otherwise cost a scan of it all. The
newest matches come from the index in id order, and stop at the limit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, column, func, literal_column, select, table
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import InstrumentedAttribute, joinedload
from sqlalchemy.sql.expression import TableClause

from microblog.accounts.models import User
from microblog.db import Db
from microblog.posts.models import Post
from microblog.posts.search_query import (
    Query,
    as_one_phrase,
    parse,
    to_fts5,
    to_tsquery,
    wanted_terms,
)

FTS5_TABLES = ("posts_fts", "users_fts")
# FTS5 keeps each index in shadow tables (external content tables have no `_content`).
FTS5_SHADOW_SUFFIXES = ("_data", "_idx", "_docsize", "_config")
# What migration 0003 adds and the models leave out: tables and indexes by name, columns as
# "table.column". (The SQLite triggers are not compared by Alembic at all.)
SEARCH_OBJECTS = frozenset(
    {
        *FTS5_TABLES,
        *(fts + suffix for fts in FTS5_TABLES for suffix in FTS5_SHADOW_SUFFIXES),
        "posts.search_vector",
        "users.search_vector",
        "ix_posts_search_vector",
        "ix_users_search_vector",
    }
)

# Username matches weigh ten times about_me matches (FTS5 column weights; on PostgreSQL the
# vector's weights A and D, which ts_rank scores 1.0 and 0.1).
_USERNAME_WEIGHT, _ABOUT_ME_WEIGHT = 10.0, 1.0
MAX_MATCHES = 1000


def search_posts(session: Db, text: str) -> Select[Post]:
    """Posts matching `text`, best match first, then newest, with their authors loaded."""
    query = parse(text)
    if _dialect(session) == "postgresql":
        found = _postgresql(select(Post), Post.__tablename__, query)
    else:
        found = _sqlite(select(Post), Post.id, _fts5_table("posts_fts"), query)
    return found.options(joinedload(Post.author)).order_by(Post.id.desc())


def search_users(session: Db, text: str) -> Select[User]:
    """Users whose username or about_me match `text`, best match first, then newest."""
    query = parse(text)
    if _dialect(session) == "postgresql":
        found = _postgresql(select(User), User.__tablename__, query)
    else:
        weights = (_USERNAME_WEIGHT, _ABOUT_ME_WEIGHT)
        found = _sqlite(select(User), User.id, _fts5_table("users_fts"), query, weights)
    return found.order_by(User.id.desc())


def _dialect(session: Db) -> str:
    return session.get_bind().dialect.name


def _fts5_table(name: str) -> TableClause:
    # An FTS5 table has a hidden column named after it: the left side of MATCH, and what
    # bm25() takes.
    return table(name, column("rowid", Integer), column(name))


def _sqlite(
    found: Select[Any],
    id_column: InstrumentedAttribute[int],
    fts: TableClause,
    query: Query,
    weights: tuple[float, ...] = (),
) -> Select[Any]:
    """`found` narrowed to the FTS5 matches of `query`, ordered best first (bm25 is lower)."""
    hidden = fts.c[fts.name]
    found = found.join(fts, fts.c.rowid == id_column).where(hidden.op("MATCH")(to_fts5(query)))
    newest = fts.alias(f"{fts.name}_newest")
    newest_matches = (
        select(newest.c.rowid)
        .where(newest.c[fts.name].op("MATCH")(to_fts5(query)))
        .order_by(newest.c.rowid.desc())
        .limit(MAX_MATCHES)
    )
    found = found.where(fts.c.rowid.in_(newest_matches))
    phrase = as_one_phrase(query)
    if phrase is not None:
        other = fts.alias(f"{fts.name}_phrase")
        holding = select(other.c.rowid).where(other.c[fts.name].op("MATCH")(to_fts5(phrase)))
        found = found.order_by(id_column.in_(holding).desc())
    return found.order_by(func.bm25(hidden, *weights))


def _postgresql(found: Select[Any], table_name: str, query: Query) -> Select[Any]:
    """`found` narrowed to the rows whose search vector matches `query`, best first."""
    vector = literal_column(f"{table_name}.search_vector", TSVECTOR)
    rows = table(table_name, column("id", Integer), column("search_vector", TSVECTOR)).alias(
        f"{table_name}_newest"
    )
    newest_matches = (
        select(rows.c.id)
        .where(rows.c.search_vector.bool_op("@@")(to_tsquery(query)))
        .order_by(rows.c.id.desc())
        .limit(MAX_MATCHES)
    )
    found = found.where(literal_column(f"{table_name}.id").in_(newest_matches))
    phrase = as_one_phrase(query)
    if phrase is not None:
        found = found.order_by(vector.bool_op("@@")(to_tsquery(phrase)).desc())
    # Ranked by the wanted terms only: ts_rank scores "a && !!b" by how close a is to the
    # absent b. Not normalized by length, so more occurrences always rank higher.
    rank = func.ts_rank(vector, to_tsquery(wanted_terms(query)))
    return found.order_by(rank.desc())
