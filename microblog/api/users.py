"""Users: registration, profiles, and who follows whom."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from flask_babel import get_locale
from sqlalchemy import Select, select

from microblog import totals
from microblog.accounts.models import User
from microblog.accounts.services import get_user, register_user, update_user
from microblog.api.auth import current_token, current_user
from microblog.api.conditional import require_current
from microblog.api.pagination import as_rows, paginate
from microblog.api.representations import USER_FIELDS, user_json, user_url
from microblog.api.schemas import Collection, PageQuery, UserCreate, UserOut, UserUpdate
from microblog.api.spec import RESPONSE_ID, Link, Reply, operation, serialize
from microblog.errors import Forbidden
from microblog.extensions import db
from microblog.social.services import followed_by, followers_of
from microblog.tasks.executors import current_executor

bp = Blueprint("users", __name__)


def _as_seen_by_viewer(user: User) -> dict[str, Any]:
    return user_json(user, with_email=user.id == current_user().id)


@bp.post("/users")
@operation(
    tag="users",
    auth=None,
    body=UserCreate,
    response=UserOut,
    status=201,
    errors=(400, 409),
    headers=("Location",),
    links=(
        Link("GetUser", "api.users.get_one_user", {"user_id": RESPONSE_ID}),
        Link(
            "EditUser",
            "api.users.edit_user",
            {"user_id": RESPONSE_ID},
            description="403 unless it is you.",
        ),
        Link("ListFollowers", "api.users.list_followers", {"user_id": RESPONSE_ID}),
        Link("ListFollowing", "api.users.list_following", {"user_id": RESPONSE_ID}),
        Link("ListPosts", "api.posts.user_posts", {"user_id": RESPONSE_ID}),
        Link("Follow", "api.me.follow_user", {"user_id": RESPONSE_ID}),
        Link("SendMessage", "api.messages.send_message", body={"recipient_id": RESPONSE_ID}),
    ),
)
def create_user(body: UserCreate) -> Reply:
    """Register a new account. No authentication needed."""
    user = register_user(db.session, **body.model_dump())
    return Reply(user_json(user, with_email=True), headers={"Location": user_url(user.id)})


@bp.get("/users")
@operation(tag="users", query=PageQuery, response=Collection[UserOut], errors=(400,))
def list_users(query: PageQuery) -> Reply:
    """All users, by id."""
    return paginate(
        select(*USER_FIELDS).order_by(User.id),
        query,
        user_json,
        total=lambda: totals.total(db.session, totals.USERS),
        fetch=as_rows,
        ids_first=User.id,
    )


@bp.get("/users/<int:user_id>")
@operation(tag="users", response=UserOut, errors=(404,))
def get_one_user(user_id: int) -> dict[str, Any]:
    """One user; the email address is shown only to the user themself."""
    return _as_seen_by_viewer(get_user(db.session, user_id))


@bp.put("/users/<int:user_id>")
@operation(
    tag="users",
    body=UserUpdate,
    response=UserOut,
    errors=(400, 403, 404, 409, 503),
    conditional=True,
    links=(Link("GetUser", "api.users.get_one_user", {"user_id": RESPONSE_ID}),),
)
def edit_user(user_id: int, body: UserUpdate) -> dict[str, Any]:
    """Change your own account.

    Send any of `username`, `email`, `about_me`; to change the password send `password`,
    to change the email address `email`, either together with the current password as
    `old_password`. Every value is checked before anything changes. A new password ends every
    other token and web session of the account (the token of this request stays); a new email
    address is announced by mail to the old one. With `If-Match`, the change is refused (412)
    if the account changed since you read it.
    """
    user = get_user(db.session, user_id)
    if user.id != current_user().id:
        raise Forbidden("you can only edit your own account")
    # The account as the client read it: before this very request refreshed last_seen.
    as_read = {**user_json(user, with_email=True), "last_seen": g.stored_last_seen}
    require_current(serialize(UserOut, as_read))
    update_user(
        db.session,
        user,
        **body.model_dump(exclude_unset=True, exclude_none=True),
        signed_in_with=current_token(),
        executor=current_executor(),
        language=str(get_locale() or "en"),
    )
    return user_json(user, with_email=True)


@bp.get("/users/<int:user_id>/followers")
@operation(tag="users", query=PageQuery, response=Collection[UserOut], errors=(400, 404))
def list_followers(user_id: int, query: PageQuery) -> Reply:
    """The users following this user, by username."""
    user = get_user(db.session, user_id)
    return _user_page(followers_of(user.id), query, user.follower_count)


@bp.get("/users/<int:user_id>/following")
@operation(tag="users", query=PageQuery, response=Collection[UserOut], errors=(400, 404))
def list_following(user_id: int, query: PageQuery) -> Reply:
    """The users this user follows, by username."""
    user = get_user(db.session, user_id)
    return _user_page(followed_by(user.id), query, user.following_count)


def _user_page(users: Select[User], query: PageQuery, total: int) -> Reply:
    """A page of `users`, read as rows of what a user's representation shows."""
    return paginate(
        users.with_only_columns(*USER_FIELDS),
        query,
        user_json,
        total=lambda: total,
        fetch=as_rows,
    )
