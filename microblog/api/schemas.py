"""Request bodies the API accepts. Types are checked here; the rules live in the domain."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Body(BaseModel):
    # Unknown fields (an `id`, a `password_hash`, ...) are ignored, so they can never be
    # mass-assigned; strict so that 123 is not quietly taken for "123".
    model_config = ConfigDict(extra="ignore", strict=True)


class UserCreate(_Body):
    username: str
    email: str
    password: str
    about_me: str = ""


class UserUpdate(_Body):
    username: str | None = None
    email: str | None = None
    about_me: str | None = None
    password: str | None = None
    old_password: str | None = None
