"""Following and unfollowing, with the counters kept in the same transaction as the rows."""

from __future__ import annotations

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from microblog.accounts.models import User
from microblog.accounts.services import get_user
from microblog.db import MAX_ID, Db
from microblog.errors import N_, Conflict, Invalid
from microblog.messaging.notifications import notify
from microblog.social.models import Follow


def follow(session: Db, actor: User, target_id: int) -> User:
    if target_id == actor.id:
        raise Invalid("id", N_("you cannot follow yourself"))
    target = get_user(session, target_id)
    try:
        with session.begin_nested():
            session.add(Follow(follower_id=actor.id, followed_id=target.id))
    except IntegrityError:
        raise Conflict(N_("you already follow %(username)s"), username=target.username) from None
    _move_counters(session, actor, target, +1)
    notify(session, target.id, "new_follower", {"user_id": actor.id, "username": actor.username})
    return target


def unfollow(session: Db, actor: User, target_id: int) -> User:
    target = get_user(session, target_id)
    deleted = session.execute(
        delete(Follow).where(Follow.follower_id == actor.id, Follow.followed_id == target.id)
    )
    if deleted.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(N_("you do not follow %(username)s"), username=target.username)
    _move_counters(session, actor, target, -1)
    return target


def is_following(session: Db, follower_id: int, followed_id: int) -> bool:
    if not 0 < followed_id <= MAX_ID:
        return False
    return (
        session.scalar(
            select(func.count())
            .select_from(Follow)
            .where(Follow.follower_id == follower_id, Follow.followed_id == followed_id)
        )
        == 1
    )


def followers_of(user_id: int) -> Select[User]:
    """Users following `user_id`, by username."""
    return (
        select(User)
        .join(Follow, Follow.follower_id == User.id)
        .where(Follow.followed_id == user_id)
        .order_by(func.lower(User.username), User.id)
    )


def followed_by(user_id: int) -> Select[User]:
    """Users `user_id` follows, by username."""
    return (
        select(User)
        .join(Follow, Follow.followed_id == User.id)
        .where(Follow.follower_id == user_id)
        .order_by(func.lower(User.username), User.id)
    )


def _move_counters(session: Db, actor: User, target: User, step: int) -> None:
    # Rows are updated in id order, so two people following each other at the same moment
    # lock their rows in the same order and cannot deadlock.
    moves = sorted(
        [(actor.id, User.following_count), (target.id, User.follower_count)],
        key=lambda move: move[0],
    )
    for user_id, column in moves:
        session.execute(update(User).where(User.id == user_id).values({column: column + step}))
