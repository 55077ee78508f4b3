"""The request boundary: one transaction per request, committed once, on success.

Services flush; the request commits when its response is a success and rolls back otherwise.
On SQLite a request that will write takes the write lock when its transaction begins (see
`microblog.db.write_intent`): every POST/PUT/PATCH/DELETE, and the few reads that also write,
which say so with `@writes_on_read` (reading an inbox marks it read).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.wrappers import Response

from microblog.accounts.models import Token
from microblog.accounts.services import note_activity, note_use, save_last_seen, save_last_used
from microblog.db import reset_write_intent, set_write_intent, utcnow
from microblog.extensions import db
from microblog.http_errors import handle_database_unavailable

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable[..., Any])


def writes_on_read(view: F) -> F:
    """Mark a GET view that writes, so its transaction begins as a writer's."""
    view.writes_on_read = True  # type: ignore[attr-defined]
    return view


def count_as_activity(token: Token) -> None:
    """This request is activity of `token` (an API token or a site session) and its user:
    their `last_used_at` and `last_seen` move, at most once per LAST_SEEN_RESOLUTION, saved by
    `commit` after the request's own writes."""
    now = utcnow()
    resolution = current_app.config["LAST_SEEN_RESOLUTION"]
    if note_activity(token.user, now, resolution):
        g.seen = (token.user_id, now)
    if note_use(token, now, resolution):
        g.used = (token.id, now)


def _will_write() -> bool:
    if request.method not in SAFE_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "writes_on_read", False))


def declare_write_intent() -> None:
    """Pipeline step: say before the first statement whether this request's transaction writes."""
    g.write_intent = set_write_intent(_will_write())


def commit(response: Response) -> Response:
    """Pipeline step: commit on success, roll back otherwise; nothing at all when the request
    never used the database (no session, or a session that began no transaction)."""
    seen = g.pop("seen", None)
    used = g.pop("used", None)
    if not db.session.registry.has():
        return response
    session = db.session()
    if response.status_code >= 400:
        if session.in_transaction():
            session.rollback()
        return response
    try:
        if seen is not None:
            save_last_seen(session, *seen)
        if used is not None:
            save_last_used(session, *used)
        if session.in_transaction():
            session.commit()
    except (OperationalError, InterfaceError) as exc:
        # The database went away before the commit: nothing was stored, and the client
        # must hear so (503, retry), not the success it was about to get.
        return handle_database_unavailable(exc)
    return response


def forget_write_intent(_exc: BaseException | None) -> None:
    """Pipeline teardown: the next request on this thread declares its own."""
    token = g.pop("write_intent", None)
    if token is not None:
        reset_write_intent(token)
