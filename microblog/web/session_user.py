"""The logged-in person as Flask-Login sees them: the domain User, plus a session id that
changes with the password, so changing (or resetting) a password logs out every other session.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask_login import UserMixin

from microblog.accounts.models import User
from microblog.db import MAX_ID
from microblog.extensions import db


def session_id(user: User) -> str:
    version = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
    return f"{user.id}:{version}"


def user_of(identifier: str) -> User | None:
    """The user a session id (or a reset link) names, if their password is still the one it
    was made with."""
    user_id, _sep, _version = identifier.partition(":")
    user = (
        db.session.get(User, int(user_id))
        if user_id.isdigit() and 0 < int(user_id) <= MAX_ID
        else None
    )
    if user is None or session_id(user) != identifier:
        return None
    return user


class SessionUser(UserMixin):
    """Wraps a User for Flask-Login; attribute reads go to the user (templates use them)."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return session_id(self.user)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)
