"""Obtaining, listing and revoking bearer tokens (and seeing and ending web sessions)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from microblog.accounts.models import Token
from microblog.accounts.sessions import end_token, live_tokens
from microblog.accounts.tokens import issue_token, revoke_token
from microblog.api.auth import basic_auth, current_token, current_user
from microblog.api.schemas import TokenList, TokenOut
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
        Link("ListTokens", "api.tokens.list_tokens"),
    ),
)
def create_token() -> dict[str, Any]:
    """Get a bearer token.

    Exchange a username (or email address) and password, sent with HTTP Basic, for a token
    valid for one hour. Send it as `Authorization: Bearer <token>`.
    """
    plaintext, token = issue_token(
        db.session,
        basic_auth.current_user(),
        current_app.config["TOKEN_LIFETIME"],
        label=request.user_agent.string,
    )
    return {"token": plaintext, "expires_at": token.expires_at}


@bp.delete("/tokens")
@operation(tag="tokens")
def delete_token() -> None:
    """Revoke the token this request was made with; it stops working at once."""
    revoke_token(current_token(), utcnow())
    db.session.flush()


@bp.get("/tokens")
@operation(tag="tokens", response=TokenList)
def list_tokens() -> dict[str, Any]:
    """Your live tokens and web sessions.

    Every bearer token and every signed-in browser of your account that still works, the most
    recently used first (to within a minute); the one this request is made with is `current`.
    Their secrets are never shown. End any you do not recognise with `DELETE /api/tokens/<id>`.
    """
    current = current_token()
    tokens = live_tokens(db.session, current_user(), utcnow())
    return {"items": [_token_json(token, current) for token in tokens]}


@bp.delete("/tokens/<int:token_id>")
@operation(tag="tokens", errors=(404,))
def end_one_token(token_id: int) -> None:
    """End one of your tokens or web sessions.

    It stops working at once: a browser signed in with it is signed out, its cookies open
    nothing. 404 if you have no live token with this id.
    """
    end_token(db.session, current_user(), token_id, utcnow())


def _token_json(token: Token, current: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "kind": token.kind,
        "label": token.label,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
        "current": token.id == current.id,
    }
