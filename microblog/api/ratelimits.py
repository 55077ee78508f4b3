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
  client address for requests without one. Requests whose credentials are refused (401) are
  counted per client address instead, against a budget of the same size, where the refusal
  happens: inventing a new token for each request buys no fresh budget, and once that budget
  is spent the address's refusals become 429s. A request spends from exactly one of these
  budgets, with one storage operation (`microblog.api.counters`): an anonymous one before its
  view, one with credentials once they are checked (`charge_credentials`,
  `charge_refusal`), one with credentials its view never checked after the view.

Counts live in Redis at REDIS_URL (shared by every process and server), or in the process's
memory without it. If Redis stops answering, requests go on: the limiter counts in memory, per
process, until Redis answers again (Flask-Limiter's in-memory fallback, rechecked with a
backoff), and any other error of the limiter is logged and swallowed. Its Redis client gives up
after half a second, so a Redis that hangs costs a request about a second at most.

A refused request answers 429 with the API's JSON error and `Retry-After`; every response to a
rate-limited request carries the IETF `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (seconds until the window resets) headers of one of its limits: the one it
broke, or else the route's own (tokens, sign-ups) before the API-wide budget. The routes' own
limits (signing in and up, resets) are Flask-Limiter's, checked by the views they wrap.

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

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from microblog.accounts import rules
from microblog.api import guess_budget
from microblog.api.counters import Counters, Window
from microblog.errors import Invalid
from microblog.extension_hooks import adopt
from microblog.extensions import LIMITER
from microblog.http_errors import error_response

# Where an application keeps its API budget (none when RATELIMIT_ENABLED is off).
API_BUDGET = "microblog.api_budget"

log = logging.getLogger(__name__)

TOKEN_ENDPOINT = "api.tokens.create_token"
LOGIN_ENDPOINT = "auth.login"
SIGN_IN_ENDPOINTS = (TOKEN_ENDPOINT, LOGIN_ENDPOINT)
SIGNUP_ENDPOINTS = ("api.users.create_user", "auth.register")
RESET_REQUEST_ENDPOINT = "auth.reset_password_request"
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
    # Its request hooks are left out of every door: no limit of it applies app-wide, and the
    # views its limits wrap check them themselves.
    adopt(app, "limiter", lambda: limiter.init_app(app))
    app.extensions[LIMITER] = limiter
    if not limiter.enabled:
        return

    counters = Counters(
        limiter.storage if config.get("REDIS_URL") else None, config["RATELIMIT_KEY_PREFIX"]
    )
    app.extensions[API_BUDGET] = ApiBudget(counters, api_budget)
    guess_budget.init_app(app, counters, tokens)

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


class ApiBudget:
    """RATELIMIT_API per client (scope `api`), and as much again per address for refused
    credentials (scope `api-refused`)."""

    def __init__(self, counters: Counters, amount: str) -> None:
        self.amount = amount
        self._items: list[RateLimitItem] = parse_many(amount)
        self._counters = counters

    def spend(self, scope: str, key: str) -> Window:
        """Count one request; the window that refused it, or else the one nearest its end."""
        windows = [self._counters.spend(item, scope, key) for item in self._items]
        refused = [window for window in windows if window.refused]
        return refused[0] if refused else min(windows, key=lambda window: window.remaining)


def spend_before_authentication() -> None:
    """Pipeline step of the API: a request without credentials spends its address's budget
    now; one with credentials spends once they are checked."""
    budget: ApiBudget | None = current_app.extensions.get(API_BUDGET)
    if budget is None:
        return
    if "Authorization" in request.headers:
        g.api_budget_pending = True
        return
    _spend(budget, "api", client_address(), _spent_message(budget))


def charge_credentials(key: str) -> None:
    """The request's credentials were accepted: it spends the budget of `key` (a token's
    digest, as `bearer_token` makes it, or the client's address). Raises TooManyRequests."""
    budget: ApiBudget | None = current_app.extensions.get(API_BUDGET)
    if budget is not None and g.pop("api_budget_pending", False):
        _spend(budget, "api", key, _spent_message(budget))


def charge_refusal() -> str | None:
    """The request's credentials were refused: it spends its address's budget of refusals.
    The 429 message once that budget is spent, None before."""
    budget: ApiBudget | None = current_app.extensions.get(API_BUDGET)
    if budget is None or not g.pop("api_budget_pending", False):
        return None
    message = f"too many requests with refused credentials from this address ({budget.amount})"
    try:
        _spend(budget, "api-refused", client_address(), message)
    except TooManyRequests:
        return message
    return None


def settle_and_tell(response: Response) -> Response:
    """Pipeline step of the API: a request whose credentials no view checked (a public route)
    spends its address's budget now; then the rate-limit headers."""
    budget: ApiBudget | None = current_app.extensions.get(API_BUDGET)
    if budget is not None and g.pop("api_budget_pending", False):
        try:
            _spend(budget, "api", client_address(), _spent_message(budget))
        except TooManyRequests as refused:
            response = error_response(429, str(refused.description))
    window: Window | None = g.get("api_window")
    if window is not None and (window.refused or response.status_code != 429):
        limiter: Limiter = current_app.extensions[LIMITER]
        if window.refused or limiter.current_limit is None:
            return _window_headers(response, window)
    return tell_route_limit(response)


def tell_route_limit(response: Response) -> Response:
    """Pipeline step of the site (and the API's fallback): the headers of the route's own
    limit, where it has one (signing in and up, resets)."""
    limiter: Limiter = current_app.extensions[LIMITER]
    return add_limit_headers(limiter, response)


def _spent_message(budget: ApiBudget) -> str:
    return f"this token's (or address's) budget of {budget.amount} is spent"


def _spend(budget: ApiBudget, scope: str, key: str, message: str) -> None:
    window = budget.spend(scope, key)
    g.api_window = window
    if window.refused:
        raise TooManyRequests(message)


def _window_headers(response: Response, window: Window) -> Response:
    seconds = window.seconds_left()
    response.headers["RateLimit-Limit"] = str(window.limit.amount)
    response.headers["RateLimit-Remaining"] = str(window.remaining)
    response.headers["RateLimit-Reset"] = str(seconds)
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, seconds))
    return response


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
