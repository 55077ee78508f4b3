"""Obtaining and revoking bearer tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from microblog.accounts.tokens import issue_token, revoke_token
from microblog.api.auth import basic_auth, current_token
from microblog.api.schemas import TokenOut
from microblog.api.spec import Link, operation
from microblog.db import utcnow
from microblog.extensions import db

bp = Blueprint("tokens", __name__)


@bp.post("/tokens")
@operation(
    tag="tokens",
    auth="basic",
    response=TokenOut,
    links=(
        Link(
            "RevokeToken",
            "api.tokens.delete_token",
            description="Revokes the bearer token the request is made with (send this one).",
        ),
    ),
)
def create_token() -> dict[str, Any]:
    """Get a bearer token.

    Exchange a username (or email address) and password, sent with HTTP Basic, for a token
    valid for one hour. Send it as `Authorization: Bearer <token>`.
    """
    plaintext, token = issue_token(
        db.session, basic_auth.current_user(), current_app.config["TOKEN_LIFETIME"]
    )
    return {"token": plaintext, "expires_at": token.expires_at}


@bp.delete("/tokens")
@operation(tag="tokens")
def delete_token() -> None:
    """Revoke the token this request was made with; it stops working at once."""
    revoke_token(current_token(), utcnow())
    db.session.flush()
