"""What the account deletion tests look at: the rows left of a person, and every counter beside
the rows it counts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from microblog import totals
from microblog.accounts.models import User
from microblog.db import Base
from microblog.extensions import db
from microblog.messaging.models import Notification
from microblog.posts.models import Post
from microblog.social.models import Follow


def count_of(model: Any, *where: Any) -> Any:
    """COUNT(*) of the rows of `model` that match, as a scalar subquery."""
    return sa.select(sa.func.count()).select_from(model).where(*where).scalar_subquery()


# One statement recomputes every counter of every user beside its stored value: (id, posts
# stored, posts counted, followers stored, ... counted, following stored, ... counted).
COUNTERS = sa.select(
    User.id,
    User.post_count,
    count_of(Post, Post.user_id == User.id),
    User.follower_count,
    count_of(Follow, Follow.followed_id == User.id),
    User.following_count,
    count_of(Follow, Follow.follower_id == User.id),
).order_by(User.id)


def _session(app: Flask) -> Session:
    """A session of its own on the app's database (usable from any thread)."""
    with app.app_context():
        return Session(db.engine)


def counters_out_of_step(app: Flask) -> list[Any]:
    """Every user whose counters differ from the rows they count, and every site total that
    differs from its table's COUNT(*): empty when all is well."""
    with _session(app) as session:
        wrong: list[Any] = [
            tuple(row)
            for row in session.execute(COUNTERS)
            if (row[1], row[3], row[5]) != (row[2], row[4], row[6])
        ]
        for name, model in ((totals.USERS, User), (totals.POSTS, Post)):
            stored = totals.total(session, name)
            rows = session.scalar(sa.select(sa.func.count()).select_from(model))
            if stored != rows:
                wrong.append((name, stored, rows))
    return wrong


def rows_of(app: Flask, user_id: int) -> dict[str, int]:
    """How many rows of each table refer to the user through a foreign key to users.id (found
    in the metadata, so a table added later is counted too), their own row, and the
    notifications whose payload names them."""
    users_id = User.__table__.c.id
    counts: dict[str, int] = {}
    with _session(app) as session:
        for table in Base.metadata.sorted_tables:
            columns = [
                column
                for column in table.columns
                if column is users_id or any(fk.column is users_id for fk in column.foreign_keys)
            ]
            if columns:
                where = sa.or_(*(column == user_id for column in columns))
                counts[table.name] = (
                    session.scalar(sa.select(sa.func.count()).select_from(table).where(where)) or 0
                )
        naming = Notification.payload["user_id"].as_integer() == user_id
        counts["notifications naming them"] = (
            session.scalar(sa.select(sa.func.count()).where(naming)) or 0
        )
    return counts
