"""A user's picture: the Gravatar of their email address (an identicon when they have none)."""

from __future__ import annotations

import hashlib
from functools import lru_cache


def avatar_url(email: str, size: int = 128) -> str:
    return f"https://www.gravatar.com/avatar/{_digest(email)}?d=identicon&s={size}"


@lru_cache(maxsize=65_536)
def _digest(email: str) -> str:
    """Remembered: a page of 100 users would otherwise hash 100 addresses on every request."""
    return hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()
