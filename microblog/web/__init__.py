"""The HTML door: server-rendered pages for browsers, on the same domain layer as the API."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, flash, redirect, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_url
from werkzeug.wrappers import Response

from microblog.accounts.avatars import avatar_url
from microblog.accounts.models import WEB
from microblog.accounts.tokens import authenticate_token
from microblog.boundary import count_as_activity
from microblog.db import before_the_write_lock, utcnow
from microblog.errors import Unauthenticated
from microblog.extension_hooks import adopt
from microblog.extensions import babel, bootstrap, csrf, db, login_manager
from microblog.http_errors import error_response, wants_json
from microblog.posts.translation import TranslatorSettings
from microblog.web.session_user import SessionUser

LANGUAGES = ("en", "es")


def select_locale() -> str:
    """The reader's most preferred language that the site speaks, a regional variant counting
    as its language (en-US is en). Werkzeug's `best_match` would not do: it prefers any exact
    match, so "en-US,es;q=0.5" (an American who reads some Spanish) would get Spanish."""
    for tag, quality in request.accept_languages:
        language = tag.replace("_", "-").split("-", 1)[0].lower()
        if quality > 0 and language in LANGUAGES:
            return language
    return "en"


def init_app(app: Flask) -> None:
    from microblog.web import (
        auth,
        avatars,
        exports,
        fragments,
        main,
        messages,
        security,
        sessions,
    )

    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    app.config.setdefault("UNREAD_POLL_SECONDS", 10)
    adopt(app, "csrf", lambda: csrf.init_app(app))
    babel.init_app(app, locale_selector=select_locale)
    bootstrap.init_app(app)
    adopt(app, "login", lambda: login_manager.init_app(app))
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(unauthorized)
    security.init_app(app)
    for module in (auth, main, messages, exports, avatars, sessions):
        app.register_blueprint(module.bp)
    app.register_blueprint(fragments.bp, url_prefix="/fragments")
    app.context_processor(_template_globals)


@login_manager.user_loader
def load_user(key: str) -> SessionUser | None:
    """The person signed in with the session `key` (from the session cookie or the remember-me
    cookie), if that session has not ended: one indexed statement reads it and its user.

    A signed-in visit counts as activity: `last_seen` and the session's `last_used_at` move (at
    most once per LAST_SEEN_RESOLUTION, written at the end of the request), as for API clients.
    """
    try:
        # Who is asking needs no write lock: a form that writes takes it at its first write.
        with before_the_write_lock():
            token = authenticate_token(db.session, key, utcnow(), kind=WEB)
    except Unauthenticated:
        return None
    count_as_activity(token)
    return SessionUser(token, key)


def unauthorized() -> Response:
    """A page sends the person to sign in (and back afterwards); a script's fetch (the unread
    badge, a profile card, a translation) gets a 401 it can recognise, not the sign-in page."""
    if wants_json():
        return error_response(401, "sign in to see this")
    flash(_("Please sign in to see this page."), "info")
    response = redirect(login_url("auth.login", next_url=request.url))
    response.vary.add("Accept")  # a script asking for JSON gets the 401 above
    return response


def vary_by_language(response: Response) -> Response:
    """Pipeline step of the site: its answers speak the reader's language (`select_locale`),
    so a shared cache must keep one copy per Accept-Language. Not a static file or an
    identicon (the same for everyone; its 404 page is in a language, though)."""
    endpoint = request.endpoint or ""
    static = endpoint in {"static", "avatars.identicon"} or endpoint.endswith(".static")
    if not (static and response.status_code < 400):
        response.vary.add("Accept-Language")
    return response


def _template_globals() -> dict[str, Any]:
    return {
        "avatar": avatar_url,
        "current_locale": str(get_locale() or "en"),
        # A function, so only pages that show the badge ask the database (not fragments or
        # error pages).
        "unread_messages": _unread_messages,
        "translation_enabled": TranslatorSettings.from_config(current_app.config).configured,
        "unread_poll_seconds": current_app.config["UNREAD_POLL_SECONDS"],
    }


def _unread_messages() -> int:
    from microblog.messaging.services import unread_count

    return unread_count(db.session, current_user.user) if current_user.is_authenticated else 0
