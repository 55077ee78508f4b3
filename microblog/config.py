"""Settings read from the environment, each with an embedded default that needs no server."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any


def normalize_database_url(url: str) -> str:
    """Accept the URLs hosting platforms hand out and pick the psycopg 3 driver for PostgreSQL.

    `postgres://` (Heroku, Render, ...) is not a scheme SQLAlchemy knows, and a bare
    `postgresql://` would ask for psycopg2, which we do not install.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def from_environment(instance_path: str) -> dict[str, Any]:
    """The configuration of a running server, taken from the process environment."""
    default_db = "sqlite:///" + os.path.join(instance_path, "microblog.db")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-not-secret"),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(
            os.environ.get("DATABASE_URL") or default_db
        ),
        "TOKEN_LIFETIME": timedelta(seconds=int(os.environ.get("TOKEN_LIFETIME", "3600"))),
        # Background jobs go to this Redis through RQ; unset, they run in the server's threads.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # The RQ queue jobs go to; clusters sharing one Redis database need one each.
        "TASK_QUEUE": os.environ.get("TASK_QUEUE") or "microblog",
        # Host names this server answers to (comma-separated). Set it in production: links in
        # emails (password reset) are built from the request's Host, which a client can forge.
        "TRUSTED_HOSTS": [host.strip() for host in os.environ["TRUSTED_HOSTS"].split(",")]
        if os.environ.get("TRUSTED_HOSTS")
        else None,
        "UNREAD_POLL_SECONDS": int(os.environ.get("UNREAD_POLL_SECONDS") or "10"),
        # How many reverse proxies (nginx, a load balancer) stand in front and are believed
        # about the client's address and scheme (X-Forwarded-For/-Proto).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES") or "0"),
        **mail_from_environment(),
        **translator_from_environment(),
        **rate_limits_from_environment(),
    }


def rate_limits_from_environment() -> dict[str, Any]:
    """Flask-Limiter's settings (see microblog.api.ratelimits). Limits are strings such as
    "10 per minute" or "10/minute; 100/hour"; they are counted in Redis at REDIS_URL when it is
    set (so every app server shares the counts), in each process's memory otherwise."""
    return {
        "RATELIMIT_ENABLED": _flag(os.environ.get("RATELIMIT_ENABLED") or "true"),
        # POST /api/tokens, per client address and, separately, per username tried.
        "RATELIMIT_TOKENS": os.environ.get("RATELIMIT_TOKENS") or "30 per minute",
        # Sign-ups (POST /api/users and the web site's form) per client address.
        "RATELIMIT_SIGNUPS": os.environ.get("RATELIMIT_SIGNUPS") or "100 per hour",
        # Every API request, per bearer token (or per client address without one).
        "RATELIMIT_API": os.environ.get("RATELIMIT_API") or "600 per minute",
        # Keys in Redis start with this: deployments sharing one Redis keep apart.
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX") or "microblog",
    }


def translator_from_environment() -> dict[str, Any]:
    """A LibreTranslate-compatible server, or Microsoft Translator; neither: no Translate link."""
    return {
        "LIBRETRANSLATE_URL": os.environ.get("LIBRETRANSLATE_URL") or None,
        "LIBRETRANSLATE_API_KEY": os.environ.get("LIBRETRANSLATE_API_KEY") or None,
        "MS_TRANSLATOR_KEY": os.environ.get("MS_TRANSLATOR_KEY") or None,
        "MS_TRANSLATOR_REGION": os.environ.get("MS_TRANSLATOR_REGION") or None,
        "MS_TRANSLATOR_URL": os.environ.get("MS_TRANSLATOR_URL") or None,
    }


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def mail_from_environment() -> dict[str, Any]:
    """Flask-Mail's settings. Without MAIL_SERVER, mail is written to <instance>/mail/."""
    return {
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT") or "25"),
        "MAIL_USE_TLS": _flag(os.environ.get("MAIL_USE_TLS")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER") or "microblog@localhost",
    }


DEFAULTS: dict[str, Any] = {
    # A body over this size is refused with 413 before it is read.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # Argon2id parameters (argon2-cffi's RFC 9106 low-memory profile by default).
    # Tests lower them to stay fast; hashes made with other parameters are upgraded on login.
    "PASSWORD_HASH": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
    # last_seen is written at most this often, so authenticated reads stay reads.
    "LAST_SEEN_RESOLUTION": timedelta(minutes=1),
}
