"""A user's picture: where it is found, and the picture drawn here when none is chosen.

By default every account shows an identicon drawn by this server from its user id: the
address `/avatars/<id>.svg` says nothing the id does not, and pages load nothing from another
host. `AVATARS=gravatar` (opt-in) shows Gravatar's picture instead, at the price of putting
an MD5 of the email address in every representation and page, where anyone can confirm a
guessed address (docs/configuration.md).

`avatar_url` is the one place that says where a user's picture is: both doors call it. The
choice is the process's, made by `configure` when the app is created (as the password hasher's
parameters are): reading the app's config there on each call would cost a page of 100 users
some 100 context lookups.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Protocol

# The cells of an identicon: 5 x 5, the right two columns mirroring the left two.
GRID = 5
CELL = 20
MARGIN = 10


class Pictured(Protocol):
    """What `avatar_url` reads of a user (a `User`, or a row of the API's user fields)."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


_gravatar = False


def configure(style: str) -> None:
    """Show Gravatar's pictures (`"gravatar"`) or the identicons drawn here (`"identicon"`)."""
    global _gravatar
    _gravatar = style == "gravatar"


def avatar_url(user: Pictured, size: int = 128) -> str:
    """Where `user`'s picture is, `size` pixels wide (a hint: the identicon is a vector)."""
    if _gravatar:
        return f"https://www.gravatar.com/avatar/{_digest(user.email)}?d=identicon&s={size}"
    return identicon_url(user.id)


def identicon_url(user_id: int) -> str:
    """The identicon's address: the same for every size, so a browser fetches it once."""
    return f"/avatars/{user_id}.svg"


@lru_cache(maxsize=65_536)
def _digest(email: str) -> str:
    """Remembered: a page of 100 users would otherwise hash 100 addresses on every request."""
    return hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()


@lru_cache(maxsize=4096)
def identicon_svg(user_id: int) -> str:
    """A symmetric 5 x 5 pattern in one colour, both taken from a SHA-256 of the user id.

    The id alone decides it (never the email, nor anything else of the person), and ids are
    never given to another account, so the picture of an id never changes: it may be cached
    for good.
    """
    digest = hashlib.sha256(f"microblog-identicon:{user_id}".encode()).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    colour = f"hsl({hue},55%,50%)"
    half = (GRID + 1) // 2
    cells = []
    for row in range(GRID):
        for column in range(half):
            if digest[2 + row * half + column] % 2:
                for x in {column, GRID - 1 - column}:
                    cells.append(
                        f'<rect x="{MARGIN + x * CELL}" y="{MARGIN + row * CELL}" '
                        f'width="{CELL}" height="{CELL}"/>'
                    )
    side = GRID * CELL + 2 * MARGIN
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" '
        f'width="{side}" height="{side}">'
        f'<rect width="{side}" height="{side}" fill="#f0f0f0"/>'
        f'<g fill="{colour}">{"".join(cells)}</g></svg>'
    )
