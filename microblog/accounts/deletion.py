"""Deleting an account at its owner's request: the person and everything of theirs (erasure).

The rows go with the user's row, by the foreign keys' ON DELETE CASCADE: posts (and, through
their triggers on SQLite, the search index's entries), follows both ways, messages sent and
received, notifications, tokens, tasks, idempotency records. What a cascade cannot do is done
here, in the same transaction: every counter kept of those rows elsewhere moves with them
(others' follower and following counts, the unread counts others were told, the site's
totals), in a fixed number of statements whatever the numbers of follows, posts or messages.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from microblog import totals
from microblog.accounts.models import User
from microblog.accounts.services import confirm_password, no_such_user
from microblog.db import Db
from microblog.errors import N_
from microblog.messaging.services import recount_unread_without
from microblog.social.services import forget_follows


def delete_account(session: Db, user: User, password: str) -> None:
    """Delete `user` and all that is theirs, if `password` is their current password.

    The password is checked before any lock is taken (the KDF is slow on purpose). Then the
    user's row is locked (FOR UPDATE on PostgreSQL; on SQLite the request holds the write lock
    already): a follow of, message to or post by them that has not yet locked it
    (`lock_counterpart`, `create_post`) waits, then finds no user (a 4xx); one that has is
    waited for, and is then counted here like any other row. A deletion that lost a race with
    another of the same account raises NotFound.
    """
    _confirm_password(user, password)
    user_id = user.id
    post_count = _lock(session, user_id)
    forget_follows(session, user_id)
    recount_unread_without(session, user_id)
    totals.count_in(session, totals.USERS, -1, user_id)
    # Their posts leave the total from one slot, whichever slots counted them in: it is the sum
    # that counts. Always run, so the statements never depend on what the person had.
    totals.count_in(session, totals.POSTS, -post_count, user_id)
    session.execute(delete(User).where(User.id == user_id))


def _confirm_password(user: User, password: str) -> None:
    """Refused the way a password change refuses a wrong `old_password`: 400 naming the field."""
    confirm_password(
        user, password, field="password", missing=N_("password is required to delete the account")
    )


def _lock(session: Db, user_id: int) -> int:
    """Lock the user's row and read their post count as it stands once nothing is in flight."""
    post_count = session.scalar(select(User.post_count).where(User.id == user_id).with_for_update())
    if post_count is None:
        raise no_such_user(user_id)
    return post_count
