"""The one rule every text a user gives us follows, whatever door it came through."""

from __future__ import annotations

import re

from microblog.errors import N_, Invalid

# Control characters but tab and line breaks: invisible on a page, and in a terminal (a log, an
# export read with `cat`) they move the cursor or recolour text.
_CONTROL_CHARACTERS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def storable(field: str, value: str) -> str:
    """`value` if it can be stored, searched and shown; the refusal names the field.

    PostgreSQL text cannot hold NUL, so no backend accepts it.
    """
    if "\x00" in value:
        raise Invalid(field, N_("%(field)s must not contain NUL characters"), field=field)
    found = _CONTROL_CHARACTERS.search(value)
    if found:
        raise Invalid(
            field,
            N_(
                "%(field)s must not contain control characters "
                "(%(character)s at position %(position)s)"
            ),
            field=field,
            character=f"U+{ord(found.group()):04X}",
            position=found.start(),
        )
    return value
