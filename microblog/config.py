"""Settings read from the environment, each with an embedded default that needs no server."""

from __future__ import annotations

import functools
import logging
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from microblog.private_files import private_directory

log = logging.getLogger(__name__)

# Keys that were ever published with Microblog (the old embedded default, the deployment
# example's placeholder): anyone could forge sessions and reset links signed with them.
PUBLISHED_SECRET_KEYS = frozenset({"dev-only-not-secret", "change-me-to-a-long-random-string"})
# Where a server without SECRET_KEY keeps the key it generated, in its instance folder.
SECRET_KEY_FILE = "secret_key"
# Where `make run` (gunicorn.conf.py) listens unless HOST and PORT say otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "5000"


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
        # Unset: see `secret_key` (one generated and kept in the instance folder).
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(
            os.environ.get("DATABASE_URL") or default_db
        ),
        "TOKEN_LIFETIME": timedelta(seconds=int(os.environ.get("TOKEN_LIFETIME", "3600"))),
        # Background jobs go to this Redis through RQ; unset, they run in the server's threads.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # The RQ queue jobs go to; clusters sharing one Redis database need one each.
        "TASK_QUEUE": os.environ.get("TASK_QUEUE") or "microblog",
        # Mail jobs (reset links) run in threads of their own, at most MAIL_BACKLOG waiting
        # (in the server, or in Redis): past that, more are dropped, and exports never wait.
        "MAIL_THREADS": int(os.environ.get("MAIL_THREADS") or "1"),
        "MAIL_BACKLOG": int(os.environ.get("MAIL_BACKLOG") or "100"),
        # How long a finished export's result is kept (seconds; 3 days by default).
        "EXPORT_RESULT_TTL": timedelta(
            seconds=int(os.environ.get("EXPORT_RESULT_TTL") or str(3 * 24 * 3600))
        ),
        # Posts an export reads per statement; its progress is committed after each batch.
        "EXPORT_BATCH_SIZE": int(os.environ.get("EXPORT_BATCH_SIZE") or "500"),
        # Where people reach this site: every absolute link sent out of band (mail, later
        # federation) starts with it, never with a request's Host (see microblog.links).
        "PUBLIC_URL": public_url(os.environ),
        # Host names this server answers to (comma-separated); others get a 400. Defence in
        # depth: no link is built from the Host header.
        "TRUSTED_HOSTS": [host.strip() for host in os.environ["TRUSTED_HOSTS"].split(",")]
        if os.environ.get("TRUSTED_HOSTS")
        else None,
        "UNREAD_POLL_SECONDS": int(os.environ.get("UNREAD_POLL_SECONDS") or "10"),
        # How long one search's statements may run before they are stopped (a 503); 0: no limit.
        "SEARCH_TIMEOUT_SECONDS": float(os.environ.get("SEARCH_TIMEOUT_SECONDS") or "1.5"),
        # How many reverse proxies (nginx, a load balancer) stand in front and are believed
        # about the client's address and scheme (X-Forwarded-For/-Proto).
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES") or "0"),
        # Origins (https://app.example.com, comma-separated, or *) whose pages may call the
        # API from a browser. Unset: none may, and no Access-Control-* header is ever sent.
        "CORS_ORIGINS": [origin.strip() for origin in os.environ["CORS_ORIGINS"].split(",")]
        if (os.environ.get("CORS_ORIGINS") or "").strip()
        else [],
        # Whose avatars pages and representations show: "identicon" (drawn here from the user
        # id) or "gravatar" (opt-in: puts an MD5 of each email address in every answer).
        "AVATARS": avatars_from_environment(),
        **mail_from_environment(),
        **translator_from_environment(),
        **rate_limits_from_environment(),
    }


# Where avatars come from (microblog/accounts/avatars.py); the first is the default.
AVATAR_STYLES = ("identicon", "gravatar")


def avatars_from_environment() -> str:
    style = (os.environ.get("AVATARS") or AVATAR_STYLES[0]).strip().lower()
    if style not in AVATAR_STYLES:
        raise ValueError(f"AVATARS must be one of {', '.join(AVATAR_STYLES)}, not {style!r}")
    return style


def default_public_url(environ: Mapping[str, str]) -> str:
    """The address `make run` serves on (HOST and PORT, as gunicorn.conf.py reads them), so a
    fresh clone mails links that work on the machine it runs on."""
    host = environ.get("HOST") or DEFAULT_HOST
    port = environ.get("PORT") or DEFAULT_PORT
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def public_url(environ: Mapping[str, str]) -> str:
    """PUBLIC_URL, checked (http or https, a host, no query or fragment), without a trailing
    slash; the address `make run` serves on when it is unset."""
    given = (environ.get("PUBLIC_URL") or "").strip()
    if not given:
        return default_public_url(environ)
    parts = urlsplit(given)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise RuntimeError(
            f"PUBLIC_URL is {given!r}: give the address people reach this site at, such as "
            "https://microblog.example.com (http or https, a host, optionally a port and a path)"
        )
    return given.rstrip("/")


def public_url_warning(environ: Mapping[str, str]) -> str | None:
    """What to say at start when a server behind a proxy would mail links to the address it
    listens on (the proxy's upstream, unreachable for the people who get them)."""
    if (
        int(environ.get("TRUSTED_PROXIES") or "0") > 0
        and not (environ.get("PUBLIC_URL") or "").strip()
    ):
        return (
            f"PUBLIC_URL is not set: links in mail (password reset) point to "
            f"{default_public_url(environ)}, the address this server listens on behind its "
            "proxy. Set PUBLIC_URL to the address people use (https://microblog.example.com)."
        )
    return None


def secret_key(config: Mapping[str, Any], instance_path: str) -> str:
    """The key that signs sessions, remember-me cookies and password-reset links.

    - SECRET_KEY given: used as it is, unless it is one that Microblog ever published (anyone
      could forge a session with it), which only a test or debug app may use.
    - Not given, in a test app: a random key for this process (nothing to keep).
    - Not given otherwise (`make run` on a newcomer's machine): the key kept in
      `<instance>/secret_key`, generated on first start (mode 0600). Every worker of the
      server reads the same file, so they accept each other's cookies and a restart keeps
      everyone signed in. Servers on other machines cannot share it: set SECRET_KEY there.
    """
    relaxed = bool(config.get("TESTING") or config.get("DEBUG"))
    given = config.get("SECRET_KEY")
    if given:
        key = given.decode() if isinstance(given, bytes) else str(given)
        if key in PUBLISHED_SECRET_KEYS and not relaxed:
            raise RuntimeError(
                f"SECRET_KEY is {key!r}, a published example: anyone could forge sessions with "
                "it. Set SECRET_KEY to a long random string (python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'), or unset it to have one generated."
            )
        return key
    if config.get("TESTING"):
        return _process_key()
    return _instance_key(Path(instance_path) / SECRET_KEY_FILE)


@functools.cache
def _process_key() -> str:
    # One per process, not per app: a test's second app (another server) accepts the first
    # one's cookies, as servers sharing SECRET_KEY do.
    return secrets.token_hex(32)


def _instance_key(path: Path) -> str:
    """The key in `path`, made there first if there is none.

    Written to a temporary file and linked into place, so several workers starting at once
    agree on one key and none reads a half-written file.
    """
    if not path.exists():
        private_directory(path.parent)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another worker was first: use its key
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it to have a new key generated")
    log.warning(
        "SECRET_KEY is not set: signing with the key kept in %s. Servers of one deployment "
        "must all sign with the same key: set SECRET_KEY on each.",
        path,
    )
    return key


def rate_limits_from_environment() -> dict[str, Any]:
    """Flask-Limiter's settings (see microblog.api.ratelimits). Limits are strings such as
    "10 per minute" or "10/minute; 100/hour"; they are counted in Redis at REDIS_URL when it is
    set (so every app server shares the counts), in each process's memory otherwise."""
    return {
        "RATELIMIT_ENABLED": _flag(os.environ.get("RATELIMIT_ENABLED") or "true"),
        # Signing in (both doors) per client address; and, separately, password checks (signing
        # in, confirming one's current password) per account.
        "RATELIMIT_TOKENS": os.environ.get("RATELIMIT_TOKENS") or "30 per minute",
        # Sign-ups (POST /api/users and the web site's form) per client address.
        "RATELIMIT_SIGNUPS": os.environ.get("RATELIMIT_SIGNUPS") or "100 per hour",
        # Password reset requests per client address, and separately per address asked about.
        "RATELIMIT_RESETS": os.environ.get("RATELIMIT_RESETS") or "10 per hour",
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
        # Seconds the translator has to accept the connection, and to send its whole answer.
        "TRANSLATOR_CONNECT_TIMEOUT": float(os.environ.get("TRANSLATOR_CONNECT_TIMEOUT") or "1"),
        "TRANSLATOR_TIMEOUT": float(os.environ.get("TRANSLATOR_TIMEOUT") or "3"),
        # Translations each signed-in person may ask for (a rate limit, like RATELIMIT_API).
        "RATELIMIT_TRANSLATIONS": os.environ.get("RATELIMIT_TRANSLATIONS") or "30 per minute",
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


def engine_options(options: dict[str, Any], database_url: str) -> dict[str, Any]:
    """`options` for the database at `database_url`. A SQLite file has no server that could
    restart under a pooled connection: testing each connection as it leaves the pool (a
    `SELECT 1`) cost 28 µs a checkout there, measured, for nothing."""
    if database_url.startswith("sqlite"):
        return {**options, "pool_pre_ping": False}
    return options


DEFAULTS: dict[str, Any] = {
    # A body over this size is refused with 413 before it is read.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # PostgreSQL's pooled connections are tested before use (pool_pre_ping), so a restarted
    # server costs no request a 503; SQLite's are not (`engine_options`).
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # Argon2id parameters (argon2-cffi's RFC 9106 low-memory profile by default).
    # Tests lower them to stay fast; hashes made with other parameters are upgraded on login.
    "PASSWORD_HASH": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
    # last_seen is written at most this often, so authenticated reads stay reads.
    "LAST_SEEN_RESOLUTION": timedelta(minutes=1),
}
