"""Obtaining and revoking bearer tokens."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from microblog.accounts.tokens import issue_token, revoke_token
from microblog.api.auth import basic_auth, current_token, token_auth
from microblog.db import utcnow
from microblog.extensions import db

bp = Blueprint("tokens", __name__)


@bp.post("/tokens")
@basic_auth.login_required
def create_token() -> Response:
    """Exchange a username (or email) and password for a bearer token valid for one hour."""
    plaintext, token = issue_token(
        db.session, basic_auth.current_user(), current_app.config["TOKEN_LIFETIME"]
    )
    return jsonify(token=plaintext, expires_at=token.expires_at)


@bp.delete("/tokens")
@token_auth.login_required
def delete_token() -> tuple[str, int]:
    """Revoke the token this request was made with; it stops working at once."""
    revoke_token(current_token(), utcnow())
    db.session.flush()
    return "", 204
