"""The JSON door: every route under /api."""

from __future__ import annotations

from flask import Blueprint, Flask

from microblog.extensions import csrf


def init_app(app: Flask) -> None:
    from microblog.api import (
        docs,
        errors,
        me,
        messages,
        notifications,
        ping,
        posts,
        search,
        tasks,
        tokens,
        users,
    )

    api = Blueprint("api", __name__, url_prefix="/api")
    # Bearer tokens, not cookies, authenticate the API: there is no session to forge requests
    # with. (Flask-WTF matches the innermost blueprint, so each one is exempted.)
    errors.init_blueprint(api)
    for module in (tokens, users, me, posts, messages, notifications, tasks, search, docs, ping):
        api.register_blueprint(module.bp)
        csrf.exempt(module.bp)
    app.register_blueprint(api)
