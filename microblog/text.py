"""The one rule every text a user gives us follows, whatever door it came through."""

from __future__ import annotations

from microblog.errors import Invalid


def storable(field: str, value: str) -> str:
    """`value` if it can be stored and searched: PostgreSQL text cannot hold NUL, so no
    backend accepts it, and the refusal names the field."""
    if "\x00" in value:
        raise Invalid(field, f"{field} must not contain NUL characters")
    return value
