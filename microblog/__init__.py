"""Microblog: a microblogging server with a JSON API and a web site over one domain layer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from microblog import config as settings
from microblog.jsonprovider import OrjsonProvider
from microblog.private_files import private_directory
from microblog.request_body import LimitedBodyRequest


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; `config` overrides the environment (tests pass theirs)."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.json = OrjsonProvider(app)
    app.request_class = LimitedBodyRequest
    # It holds the signing key, the SQLite database and the mail outbox: the server's alone.
    private_directory(Path(app.instance_path))
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment(app.instance_path))
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.normalize_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = settings.engine_options(
        app.config["SQLALCHEMY_ENGINE_OPTIONS"], app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config["SECRET_KEY"] = settings.secret_key(app.config, app.instance_path)

    _init_extensions(app)

    from microblog import api, cli, http_errors, mail, pipeline, web
    from microblog.api import cors, ratelimits
    from microblog.ops import healthz, metrics
    from microblog.ops import logging as request_logging
    from microblog.tasks import executors

    # What runs on each request, door by door, is declared in microblog/pipeline.py.
    request_logging.init_app(app)
    metrics.init_app(app)
    healthz.init_app(app)
    mail.init_app(app)
    executors.init_app(app)
    http_errors.init_app(app)
    api.init_app(app)
    cors.init_app(app)
    web.init_app(app)
    # After both doors: it wraps views they registered.
    ratelimits.init_app(app)
    cli.init_app(app)
    pipeline.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from microblog import db as database
    from microblog import totals as _totals  # noqa: F401
    from microblog.accounts import avatars, passwords

    # Import every model so the metadata (and Alembic) sees all tables.
    from microblog.accounts import models as _accounts  # noqa: F401
    from microblog.api import idempotency as _idempotency  # noqa: F401
    from microblog.extensions import db, migrate
    from microblog.messaging import models as _messaging  # noqa: F401
    from microblog.posts import models as _posts  # noqa: F401
    from microblog.social import models as _social  # noqa: F401
    from microblog.tasks import models as _tasks  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    with app.app_context():
        database.configure_engine(db.engine)
    passwords.configure(app.config["PASSWORD_HASH"])
    avatars.configure(app.config["AVATARS"])
