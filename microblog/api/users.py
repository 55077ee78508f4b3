"""Users: registration, profiles, and who follows whom."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select
from werkzeug.wrappers import Response

from microblog.accounts.models import User
from microblog.accounts.services import get_user, register_user, update_user
from microblog.api.auth import current_user, token_auth
from microblog.api.pagination import paginate
from microblog.api.representations import user_json, user_url
from microblog.api.schemas import UserCreate, UserUpdate
from microblog.api.validation import parse_body
from microblog.errors import Forbidden
from microblog.extensions import db
from microblog.social.services import followed_by, followers_of

bp = Blueprint("users", __name__)


def _public(user: User) -> dict[str, object]:
    return user_json(user)


@bp.post("/users")
def create_user() -> tuple[Response, int, dict[str, str]]:
    """Register a new account. No authentication needed."""
    body = parse_body(UserCreate)
    user = register_user(db.session, **body.model_dump())
    return jsonify(user_json(user, with_email=True)), 201, {"Location": user_url(user.id)}


@bp.get("/users")
@token_auth.login_required
def list_users() -> Response:
    """All users, by id."""
    return paginate(select(User).order_by(User.id), _public)


@bp.get("/users/<int:user_id>")
@token_auth.login_required
def get_one_user(user_id: int) -> Response:
    """One user; the email address is shown only to the user themself."""
    user = get_user(db.session, user_id)
    return jsonify(user_json(user, with_email=user.id == current_user().id))


@bp.put("/users/<int:user_id>")
@token_auth.login_required
def edit_user(user_id: int) -> Response:
    """Change your own username, email, about_me or (with old_password) password."""
    user = get_user(db.session, user_id)
    if user.id != current_user().id:
        raise Forbidden("you can only edit your own account")
    body = parse_body(UserUpdate)
    update_user(db.session, user, **body.model_dump(exclude_unset=True, exclude_none=True))
    return jsonify(user_json(user, with_email=True))


@bp.get("/users/<int:user_id>/followers")
@token_auth.login_required
def list_followers(user_id: int) -> Response:
    """The users following this user, by username."""
    user = get_user(db.session, user_id)
    return paginate(followers_of(user.id), _public)


@bp.get("/users/<int:user_id>/following")
@token_auth.login_required
def list_following(user_id: int) -> Response:
    """The users this user follows, by username."""
    user = get_user(db.session, user_id)
    return paginate(followed_by(user.id), _public)
