"""The HTML door: server-rendered pages for browsers, on the same domain layer as the API."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_login import current_user

from microblog.accounts.avatars import avatar_url
from microblog.accounts.models import User
from microblog.extensions import babel, bootstrap, csrf, db, login_manager
from microblog.posts.translation import TranslatorSettings
from microblog.web.session_user import SessionUser

LANGUAGES = ("en", "es")


def select_locale() -> str | None:
    return request.accept_languages.best_match(LANGUAGES) or "en"


def init_app(app: Flask) -> None:
    from microblog.web import auth, exports, fragments, main, messages, security

    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    app.config.setdefault("UNREAD_POLL_SECONDS", 10)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    security.init_app(app)
    for module in (auth, main, messages, exports):
        app.register_blueprint(module.bp)
    app.register_blueprint(fragments.bp, url_prefix="/fragments")
    app.context_processor(_template_globals)


@login_manager.user_loader
def load_user(session_id: str) -> SessionUser | None:
    """The user of a session, if the password has not changed since it began."""
    from microblog.web.session_user import session_id as id_of

    user_id, _sep, _version = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or id_of(user) != session_id:
        return None
    return SessionUser(user)


def _template_globals() -> dict[str, Any]:
    from microblog.messaging.services import unread_count

    unread = unread_count(db.session, current_user.user) if current_user.is_authenticated else 0
    return {
        "avatar": avatar_url,
        "current_locale": str(get_locale() or "en"),
        "unread_message_count": unread,
        "translation_enabled": TranslatorSettings.from_config(current_app.config).configured,
        "unread_poll_seconds": current_app.config["UNREAD_POLL_SECONDS"],
    }
