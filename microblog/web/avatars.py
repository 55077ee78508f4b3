"""The identicons this server draws for accounts (see microblog/accounts/avatars.py).

A picture is a pure function of the user id, so it is answered without the database, and a
browser or proxy may keep it for a year: no page ever waits on another host for an avatar.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort

from microblog.accounts.avatars import identicon_svg
from microblog.db import MAX_ID

bp = Blueprint("avatars", __name__)

CACHE_CONTROL = "public, max-age=31536000, immutable"


@bp.get("/avatars/<int:user_id>.svg")
def identicon(user_id: int) -> Response:
    if not 0 < user_id <= MAX_ID:
        abort(404)
    response = Response(identicon_svg(user_id), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
