"""Microblog: a microblogging server with a JSON API and a web site over one domain layer."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, g, request
from werkzeug.wrappers import Response

from microblog import config as settings
from microblog.jsonprovider import OrjsonProvider

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; `config` overrides the environment (tests pass theirs)."""
    app = Flask(__name__, instance_relative_config=True)
    app.json = OrjsonProvider(app)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment(app.instance_path))
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.normalize_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )

    _init_extensions(app)
    _init_request_boundary(app)

    from microblog import api, cli, http_errors

    http_errors.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from microblog import db as database

    # Import every model so the metadata (and Alembic) sees all tables.
    from microblog.accounts import models as _accounts  # noqa: F401
    from microblog.api import idempotency as _idempotency  # noqa: F401
    from microblog.messaging import models as _messaging  # noqa: F401
    from microblog.accounts import passwords
    from microblog.extensions import db, migrate
    from microblog.posts import models as _posts  # noqa: F401
    from microblog.social import models as _social  # noqa: F401
    from microblog.tasks import models as _tasks  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    with app.app_context():
        database.configure_engine(db.engine)
    passwords.configure(app.config["PASSWORD_HASH"])


def _init_request_boundary(app: Flask) -> None:
    """One transaction per request: services flush, the request commits once on success."""
    from microblog.accounts.services import save_last_seen
    from microblog.db import reset_write_intent, set_write_intent
    from microblog.extensions import db

    @app.before_request
    def declare_write_intent() -> None:
        g.write_intent = set_write_intent(request.method not in SAFE_METHODS)

    @app.after_request
    def commit(response: Response) -> Response:
        if response.status_code < 400:
            seen = g.pop("seen", None)
            if seen is not None:
                save_last_seen(db.session, *seen)
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def forget_write_intent(_exc: BaseException | None) -> None:
        token = g.pop("write_intent", None)
        if token is not None:
            reset_write_intent(token)
