"""The authenticated user's own view: themself, and whom they follow."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from microblog.api.auth import current_user, token_auth
from microblog.api.representations import user_json
from microblog.errors import NotFound
from microblog.extensions import db
from microblog.social.services import follow, is_following, unfollow

bp = Blueprint("me", __name__)


@bp.get("/me")
@token_auth.login_required
def get_me() -> Response:
    """Yourself, with your email address."""
    return jsonify(user_json(current_user(), with_email=True))


@bp.post("/me/following/<int:user_id>")
@token_auth.login_required
def follow_user(user_id: int) -> tuple[str, int]:
    """Follow a user: 409 if you already do, 400 for yourself."""
    follow(db.session, current_user(), user_id)
    return "", 204


@bp.delete("/me/following/<int:user_id>")
@token_auth.login_required
def unfollow_user(user_id: int) -> tuple[str, int]:
    """Stop following a user: 409 if you do not follow them."""
    unfollow(db.session, current_user(), user_id)
    return "", 204


@bp.get("/me/following/<int:user_id>")
@token_auth.login_required
def check_following(user_id: int) -> tuple[str, int]:
    """204 if you follow this user, 404 otherwise."""
    if not is_following(db.session, current_user().id, user_id):
        raise NotFound(f"you do not follow user {user_id}")
    return "", 204
