"""The authenticated user's own view: themself, whom they follow, and deleting themself."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from microblog.accounts.deletion import delete_account
from microblog.api.auth import current_user
from microblog.api.representations import user_json
from microblog.api.schemas import AccountDeletion, UserOut
from microblog.api.spec import RESPONSE_ID, Link, operation
from microblog.errors import N_, NotFound
from microblog.extensions import db
from microblog.messaging.services import unread_count
from microblog.social.services import follow, is_following, unfollow

bp = Blueprint("me", __name__)


@bp.get("/me")
@operation(
    tag="me",
    response=UserOut,
    links=(
        Link("EditMe", "api.users.edit_user", {"user_id": RESPONSE_ID}),
        Link("ListMyPosts", "api.posts.user_posts", {"user_id": RESPONSE_ID}),
        Link("ListMyFollowers", "api.users.list_followers", {"user_id": RESPONSE_ID}),
    ),
)
def get_me() -> dict[str, Any]:
    """Yourself, with your email address and the number of unread messages."""
    me = current_user()
    return {**user_json(me, with_email=True), "unread_message_count": unread_count(db.session, me)}


# No OpenAPI link leads here: a client (or a stateful test walking the links) reaches it only by
# sending the password on purpose.
@bp.delete("/me")
@operation(tag="me", body=AccountDeletion, errors=(400, 404, 503))
def delete_me(body: AccountDeletion) -> None:
    """Delete your account, and everything of yours, for good.

    Send your current `password` to confirm: a wrong one answers 400 naming `password`, and
    nothing changes. Your posts, your follows both ways, the messages you sent and received,
    your notifications, tokens and tasks go with it; the token you sent stops working at once.
    """
    delete_account(db.session, current_user(), body.password)


@bp.post("/me/following/<int:user_id>")
@operation(
    tag="me",
    errors=(400, 404, 409),
    links=(
        Link("ListFollowers", "api.users.list_followers", {"user_id": "$request.path.user_id"}),
        Link("CheckFollowing", "api.me.check_following", {"user_id": "$request.path.user_id"}),
        Link("Unfollow", "api.me.unfollow_user", {"user_id": "$request.path.user_id"}),
    ),
)
def follow_user(user_id: int) -> None:
    """Follow a user: 409 if you already do, 400 for yourself."""
    follow(db.session, current_user(), user_id)


@bp.delete("/me/following/<int:user_id>")
@operation(
    tag="me",
    errors=(404, 409),
    links=(
        Link("CheckFollowing", "api.me.check_following", {"user_id": "$request.path.user_id"}),
        Link("Follow", "api.me.follow_user", {"user_id": "$request.path.user_id"}),
    ),
)
def unfollow_user(user_id: int) -> None:
    """Stop following a user: 409 if you do not follow them."""
    unfollow(db.session, current_user(), user_id)


@bp.get("/me/following/<int:user_id>")
@operation(tag="me", errors=(404,))
def check_following(user_id: int) -> None:
    """Whether you follow a user: 204 if you do, 404 otherwise."""
    if not is_following(db.session, current_user().id, user_id):
        raise NotFound(N_("you do not follow user %(user_id)s"), user_id=user_id)
