"""A user's picture: the Gravatar of their email address (an identicon when they have none)."""

from __future__ import annotations

import hashlib


def avatar_url(email: str, size: int = 128) -> str:
    digest = hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=identicon&s={size}"
