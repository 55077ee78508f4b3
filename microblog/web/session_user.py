"""The signed-in person as Flask-Login sees them: the domain User and the session they are
signed in with.

The Flask-Login id is the session's key (`accounts.sessions`): the session cookie and the
remember-me cookie carry it, the database holds only its SHA-256. Ending the session's row
(signing out, signing out elsewhere, a new password) makes every copy of those cookies worth
nothing, on every server, at once.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask_login import UserMixin

from microblog.accounts.models import Token, User
from microblog.db import MAX_ID
from microblog.extensions import db


class SessionUser(UserMixin):
    """Wraps a User for Flask-Login; attribute reads go to the user (templates use them)."""

    def __init__(self, token: Token, key: str) -> None:
        self.token = token
        self.user = token.user
        self.key = key

    def get_id(self) -> str:
        return self.key

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)


def password_stamp(user: User) -> str:
    """What a password reset link names: the user, as they are now. It changes with the
    password (so a used link cannot be used again) and with the email address (so a link
    mailed to an address the account no longer has stops working)."""
    version = hashlib.sha256(f"{user.password_hash}\n{user.email}".encode()).hexdigest()[:16]
    return f"{user.id}:{version}"


def user_of_stamp(stamp: str) -> User | None:
    """The user a reset link's stamp names, if their password and address are still the ones
    it was made with."""
    user_id, _sep, _version = stamp.partition(":")
    user = (
        db.session.get(User, int(user_id))
        if user_id.isdigit() and 0 < int(user_id) <= MAX_ID
        else None
    )
    if user is None or password_stamp(user) != stamp:
        return None
    return user
