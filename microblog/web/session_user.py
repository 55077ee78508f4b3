"""The logged-in person as Flask-Login sees them: the domain User, plus a session id that
changes with the password, so changing (or resetting) a password logs out every other session.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask_login import UserMixin

from microblog.accounts.models import User


def session_id(user: User) -> str:
    version = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
    return f"{user.id}:{version}"


class SessionUser(UserMixin):
    """Wraps a User for Flask-Login; attribute reads go to the user (templates use them)."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return session_id(self.user)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)
