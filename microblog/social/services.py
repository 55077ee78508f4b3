"""Following and unfollowing, with the counters kept in the same transaction as the rows."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from microblog.accounts.models import User
from microblog.accounts.services import lock_counterpart, no_such_user
from microblog.db import MAX_ID, Db
from microblog.errors import N_, Conflict, Invalid
from microblog.messaging.notifications import notify
from microblog.social.models import Follow


def follow(session: Db, actor: User, target_id: int) -> User:
    if target_id == actor.id:
        raise Invalid("id", N_("you cannot follow yourself"))
    target = _locked_target(session, actor, target_id)
    try:
        with session.begin_nested():
            session.add(Follow(follower_id=actor.id, followed_id=target.id))
    except IntegrityError:
        raise Conflict(N_("you already follow %(username)s"), username=target.username) from None
    _move_counters(session, actor, target, +1)
    notify(
        session,
        target.id,
        "new_follower",
        {"user_id": actor.id, "username": actor.username},
        subject_id=actor.id,
    )
    return target


def unfollow(session: Db, actor: User, target_id: int) -> User:
    target = _locked_target(session, actor, target_id)
    deleted = session.execute(
        delete(Follow).where(Follow.follower_id == actor.id, Follow.followed_id == target.id)
    )
    if deleted.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(N_("you do not follow %(username)s"), username=target.username)
    _move_counters(session, actor, target, -1)
    return target


def forget_follows(session: Db, user_id: int) -> None:
    """Uncount the follows of `user_id`, whose account is being deleted (the rows themselves go
    with it, by the foreign keys' cascade): whoever they follow loses a follower, whoever
    follows them one followed. (The `new_follower` notices naming them go by the cascade of
    `Notification.subject_id`, those of follows since undone too.)

    The caller holds the user's row, so no follow of them can start meanwhile. A fixed number
    of statements, whatever the number of follows.
    """
    followed = select(Follow.followed_id).where(Follow.follower_id == user_id)
    followers = select(Follow.follower_id).where(Follow.followed_id == user_id)
    _lock_in_id_order(session, or_(User.id.in_(followed), User.id.in_(followers)))
    for ids, column in ((followed, User.follower_count), (followers, User.following_count)):
        session.execute(
            update(User)
            .where(User.id.in_(ids))
            .values({column: column - 1})
            .execution_options(synchronize_session=False)
        )


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


def _locked_target(session: Db, actor: User, target_id: int) -> User:
    """The user to follow or unfollow, both rows locked before the follow row is touched, so
    that an account deletion under way ends this as a 404 (see `lock_counterpart`)."""
    target = lock_counterpart(session, actor, target_id)
    if target is None:
        raise no_such_user(target_id)
    return target


def _move_counters(session: Db, actor: User, target: User, step: int) -> None:
    # Rows are updated in id order, so two people following each other at the same moment
    # lock their rows in the same order and cannot deadlock.
    moves = sorted(
        [(actor.id, User.following_count), (target.id, User.follower_count)],
        key=lambda move: move[0],
    )
    for user_id, column in moves:
        session.execute(update(User).where(User.id == user_id).values({column: column + step}))


def _lock_in_id_order(session: Db, users: ColumnElement[bool]) -> None:
    """Lock the rows of `users` for their counters, in id order as `_move_counters` does, so a
    follow between two of them cannot deadlock with the updates that follow (which lock rows in
    whatever order they find them). PostgreSQL only: SQLite's writers are serialised."""
    if session.connection().dialect.name != "postgresql":
        return
    rows = select(User.id).where(users).order_by(User.id).with_for_update(key_share=True)
    # Counted, not fetched: a user may have millions of followers.
    session.execute(select(func.count()).select_from(rows.subquery()))
