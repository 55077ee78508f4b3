"""How API clients prove who they are: HTTP Basic to obtain a token, Bearer to use it."""

from __future__ import annotations

from collections.abc import Callable

from flask import g, request
from flask_httpauth import HTTPBasicAuth, HTTPTokenAuth
from werkzeug.wrappers import Response

from microblog.accounts.models import Token, User
from microblog.accounts.services import authenticate
from microblog.accounts.tokens import authenticate_token
from microblog.api.ratelimits import (
    bearer_token,
    charge_credentials,
    charge_refusal,
    client_address,
)
from microblog.boundary import count_as_activity
from microblog.db import before_the_write_lock, utcnow
from microblog.errors import Unauthenticated
from microblog.extensions import db
from microblog.http_errors import error_response

basic_auth = HTTPBasicAuth()
token_auth = HTTPTokenAuth(scheme="Bearer")


BASIC_REQUIRED = "a username and password are required (HTTP Basic)"
BEARER_REQUIRED = "a bearer token is required (Authorization: Bearer <token>)"


@basic_auth.verify_password
def verify_password(username: str, password: str) -> User | None:
    # Flask-HTTPAuth decodes credentials after any scheme: `Bearer <base64 of user:password>`
    # must not be taken for Basic.
    scheme = request.headers.get("Authorization", "").partition(" ")[0]
    if scheme.lower() != "basic" or not username or not password:
        g.auth_failure = BASIC_REQUIRED
        return None
    user = authenticate(db.session, username, password)
    if user is None:
        # One message for unknown user and wrong password: no account enumeration.
        g.auth_failure = "invalid username or password"
        return None
    charge_credentials(client_address())
    return user


@token_auth.verify_token
def verify_token(plaintext: str) -> User | None:
    if not plaintext:
        g.auth_failure = BEARER_REQUIRED
        return None
    now = utcnow()
    try:
        # Who is asking needs no write lock: a writer takes it after this, at its first write.
        with before_the_write_lock():
            token = authenticate_token(db.session, plaintext, now)
    except Unauthenticated as exc:
        g.auth_failure = exc.message
        return None
    charge_credentials(bearer_token())
    g.current_token = token
    # As stored before this request refreshes it: what the client's ETag was computed from.
    g.stored_last_seen = token.user.last_seen
    count_as_activity(token)
    return token.user


def current_token() -> Token:
    token: Token = g.current_token
    return token


def current_user() -> User:
    user: User = token_auth.current_user()
    return user


def _auth_error(default: str) -> Callable[[int], Response]:
    """The 401 answer; `default` when the check never ran (Flask-HTTPAuth calls
    `verify_token` only when a token follows the scheme, so a bare `Bearer`, another scheme
    or no header at all reach here with nothing said)."""

    def answer(status: int) -> Response:
        too_many = charge_refusal()
        if too_many is not None:
            return error_response(429, too_many)
        return error_response(status, g.pop("auth_failure", default))

    return answer


# Registered on each separately: stacked, the outer wrapper would keep the inner one's
# WWW-Authenticate, and /api/tokens would challenge for Bearer instead of Basic.
basic_auth.error_handler(_auth_error(BASIC_REQUIRED))
token_auth.error_handler(_auth_error(BEARER_REQUIRED))
