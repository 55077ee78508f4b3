"""Rate limits, with Flask-Limiter, counted where every app server sees the same counts.

- Signing in, `POST /api/tokens` and the web site's `POST /login` together: RATELIMIT_TOKENS
  per client address, every request counted whatever it carries. And every password check,
  signing in or confirming one's current password (changing the password, deleting the
  account, changing the email address), spends from a budget of RATELIMIT_TOKENS per account:
  the account the name resolved to, whichever name or encoding was used (`guess_budget`,
  spent by the domain, `microblog.accounts.guessing`). So a password cannot be guessed quickly
  from one address nor from many, and using both doors buys no more guesses.
- Sign-ups, `POST /api/users` and the web site's `POST /register` together: RATELIMIT_SIGNUPS
  per client address.
- Password reset requests, the web site's `POST /reset_password_request`: RATELIMIT_RESETS per
  client address, and the same again per address asked about (normalised as stored, never
  looked up, so the answer is the same for known and unknown addresses).
- The whole API: RATELIMIT_API per bearer token (the token's SHA-256, as stored), or per
  client address for requests without one. Requests that bring credentials which are refused
  (401) are also counted per client address against the same budget, so inventing a new token
  for each request buys no fresh budget.

Counts live in Redis at REDIS_URL (shared by every process and server), or in the process's
memory without it. If Redis stops answering, requests go on: the limiter counts in memory, per
process, until Redis answers again (Flask-Limiter's in-memory fallback, rechecked with a
backoff), and any other error of the limiter is logged and swallowed. Its Redis client gives up
after half a second, so a Redis that hangs costs a request about a second at most.

A refused request answers 429 with the API's JSON error and `Retry-After`; every response to a
rate-limited request carries the IETF `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (seconds until the window resets) headers of one of its limits: the one it
broke, or else the route's own (tokens, sign-ups) before the API-wide budget.

The client address is `request.remote_addr`: behind nginx, set TRUSTED_PROXIES so it is the
client's, not the proxy's (or every client shares one budget).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from flask_limiter import ApplicationLimit, Limiter
from limits import parse_many
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug.wrappers import Response

from microblog.accounts import rules
from microblog.api import guess_budget
from microblog.errors import Invalid
from microblog.extensions import LIMITER
from microblog.http_errors import is_api_request

log = logging.getLogger(__name__)

TOKEN_ENDPOINT = "api.tokens.create_token"
LOGIN_ENDPOINT = "auth.login"
SIGN_IN_ENDPOINTS = (TOKEN_ENDPOINT, LOGIN_ENDPOINT)
SIGNUP_ENDPOINTS = ("api.users.create_user", "auth.register")
RESET_REQUEST_ENDPOINT = "auth.reset_password_request"
# Endpoints the limiter looks at besides the API.
WEB_LIMITED_ENDPOINTS = (LOGIN_ENDPOINT, *SIGNUP_ENDPOINTS, RESET_REQUEST_ENDPOINT)
# Seconds the limiter's Redis client waits to connect or for an answer, and no retries: a
# Redis that is down must not hold a request up. (Redis answers in a millisecond; a request
# that finds it hung may wait twice, once to fail and once to see if it came back.)
REDIS_TIMEOUT = 0.5
LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def client_address() -> str:
    return f"address:{request.remote_addr or 'unknown'}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def reset_target() -> str:
    """The address a reset is asked for, normalised as accounts store addresses (so case and
    Unicode forms of one address share a budget), hashed; never looked up."""
    address = (request.form.get("email") or "").strip()
    try:
        address = rules.email(address)
    except Invalid:
        address = address.lower()
    return "reset-target:" + _digest(address)


def _sign_in_door() -> str:
    return "sign-in attempts" if request.endpoint == LOGIN_ENDPOINT else "token requests"


def bearer_token() -> str:
    """The SHA-256 of the bearer token presented (as the tokens table stores it), unchecked."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        return ""
    return "token:" + _digest(credentials)


def api_client() -> str:
    return bearer_token() or client_address()


def _not_api() -> bool:
    return not is_api_request()


def _no_credentials() -> bool:
    return not is_api_request() or not request.headers.get("Authorization")


def _refused(response: Response) -> bool:
    return response.status_code == 401


def _checked(setting: str, value: str) -> str:
    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"{setting}={value!r} is not a rate limit ({exc})") from None
    return value


def _storage(app: Flask) -> tuple[str, dict[str, Any]]:
    url = app.config.get("REDIS_URL")
    if not url:
        return "memory://", {}
    options: dict[str, Any] = {
        "socket_connect_timeout": REDIS_TIMEOUT,
        "socket_timeout": REDIS_TIMEOUT,
        "retry": Retry(NoBackoff(), 0),
    }
    return url, options


def init_app(app: Flask) -> None:
    """Give `app` a Limiter of its own and, when RATELIMIT_ENABLED, apply the limits."""
    config = app.config
    config.setdefault("RATELIMIT_ENABLED", True)
    config.setdefault("RATELIMIT_KEY_PREFIX", "microblog")
    api_budget = _checked("RATELIMIT_API", config.get("RATELIMIT_API", "600 per minute"))
    tokens = _checked("RATELIMIT_TOKENS", config.get("RATELIMIT_TOKENS", "30 per minute"))
    signups = _checked("RATELIMIT_SIGNUPS", config.get("RATELIMIT_SIGNUPS", "100 per hour"))
    resets = _checked("RATELIMIT_RESETS", config.get("RATELIMIT_RESETS", "10 per hour"))
    storage_uri, storage_options = _storage(app)

    limiter = Limiter(
        key_func=client_address,
        application_limits=[
            ApplicationLimit(
                api_budget,
                key_function=api_client,
                scope="api",
                exempt_when=_not_api,
                error_message=f"this token's (or address's) budget of {api_budget} is spent",
            ),
            ApplicationLimit(
                api_budget,
                key_function=client_address,
                scope="api-refused",
                exempt_when=_no_credentials,
                deduct_when=_refused,
                error_message="too many requests with refused credentials from this address "
                f"({api_budget})",
            ),
        ],
        storage_uri=storage_uri,
        storage_options=storage_options,
        strategy="fixed-window",
        # Flask-Limiter's own headers give the reset as a timestamp; the IETF draft's
        # RateLimit-Reset is seconds, so `_limit_headers` writes them.
        headers_enabled=False,
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        enabled=bool(config["RATELIMIT_ENABLED"]),
    )
    limiter.init_app(app)
    app.extensions[LIMITER] = limiter
    if not limiter.enabled:
        return

    guess_budget.init_app(app, limiter, tokens)

    # The limiter looks at nothing but the API, signing in and up, and reset requests: pages,
    # static files, /healthz and /metrics cost it nothing and never wait for its storage.
    @limiter.request_filter
    def _unlimited() -> bool:
        return not (is_api_request() or request.endpoint in WEB_LIMITED_ENDPOINTS)

    # Shared by both doors: a guess through the web form counts as one through the API. Keyed
    # on nothing the request says, so no header or body can be exempt from it; the budget per
    # account is spent where the name is resolved (`guess_budget`).
    sign_in_limit = limiter.shared_limit(
        tokens,
        scope="sign-in-address",
        key_func=client_address,
        methods=["POST"],
        override_defaults=False,
        error_message=lambda: f"too many {_sign_in_door()} from this address ({tokens})",
    )
    for endpoint in SIGN_IN_ENDPOINTS:
        if endpoint in app.view_functions:
            _limit_view(app, endpoint, sign_in_limit)
    if RESET_REQUEST_ENDPOINT in app.view_functions:
        _limit_view(app, RESET_REQUEST_ENDPOINT, *_reset_limits(limiter, resets))
    signup_limit = limiter.shared_limit(
        signups,
        scope="signups",
        key_func=client_address,
        methods=["POST"],
        override_defaults=False,
        error_message=f"too many sign-ups from this address ({signups})",
    )
    for endpoint in SIGNUP_ENDPOINTS:
        if endpoint in app.view_functions:
            _limit_view(app, endpoint, signup_limit)

    @app.after_request
    def _limit_headers(response: Response) -> Response:
        return add_limit_headers(limiter, response)


def _reset_limits(limiter: Limiter, resets: str) -> tuple[Callable[[Any], Any], ...]:
    """Reset requests per client address, and per address asked about."""
    keys = (
        ("reset-address", client_address, "from this address"),
        ("reset-target", reset_target, "for this email address"),
    )
    return tuple(
        limiter.limit(
            resets,
            scope=scope,
            key_func=key,
            methods=["POST"],
            override_defaults=False,
            error_message=f"too many password reset requests {whom} ({resets})",
        )
        for scope, key, whom in keys
    )


def _limit_view(app: Flask, endpoint: str, *limits: Callable[[Any], Any]) -> None:
    """Wrap the view of `endpoint` in `limits` (the views' own modules are left untouched)."""
    view = app.view_functions[endpoint]
    for limit in limits:
        view = limit(view)
    app.view_functions[endpoint] = view


def add_limit_headers(limiter: Limiter, response: Response) -> Response:
    """The IETF RateLimit-* headers of the limit Flask-Limiter reports for this request (the
    one it broke, on a 429), and `Retry-After` on a 429. A response that states its own (the
    guess budget's refusal) keeps them."""
    current = limiter.current_limit
    if current is None or "RateLimit-Limit" in response.headers:
        return response
    try:
        reset_at, remaining = current.window
    except Exception:
        # The storage failed between the check and now; the next request falls back.
        log.warning("the rate limit headers could not be computed", exc_info=True)
        return response
    seconds = max(0, math.ceil(reset_at - time.time()))
    response.headers["RateLimit-Limit"] = str(current.limit.amount)
    response.headers["RateLimit-Remaining"] = str(max(0, remaining))
    response.headers["RateLimit-Reset"] = str(seconds)
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, seconds))
    return response
