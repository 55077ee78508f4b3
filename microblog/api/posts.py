"""Posts: writing, editing, deleting, and the timelines (explore, a user's posts, the feed)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from microblog import totals
from microblog.accounts.services import get_user
from microblog.api.auth import current_user
from microblog.api.conditional import require_current
from microblog.api.pagination import paginate_timeline
from microblog.api.representations import post_json, post_url
from microblog.api.schemas import Collection, PostBody, PostOut, TimelineQuery
from microblog.api.spec import RESPONSE_ID, Link, Reply, operation, serialize
from microblog.extensions import db
from microblog.posts import services
from microblog.posts.models import Post

bp = Blueprint("posts", __name__)

TIMELINE_ERRORS = (400,)


def _timeline(query: Any, wanted: TimelineQuery, total: Any) -> Reply:
    return paginate_timeline(query, wanted, post_json, Post.id, total, item_id=lambda post: post.id)


@bp.post("/posts")
@operation(
    tag="posts",
    body=PostBody,
    response=PostOut,
    status=201,
    errors=(400, 422),
    headers=("Location",),
    idempotent=True,
    links=(
        Link("GetPost", "api.posts.get_post", {"post_id": RESPONSE_ID}),
        Link("EditPost", "api.posts.edit_post", {"post_id": RESPONSE_ID}),
        Link("DeletePost", "api.posts.delete_post", {"post_id": RESPONSE_ID}),
        Link("ListAuthorPosts", "api.posts.user_posts", {"user_id": "$response.body#/author/id"}),
    ),
)
def create_post(body: PostBody) -> Reply:
    """Write a post.

    The body is trimmed and must then be 1 to 280 characters; its language is detected
    (`null` when unsure). Send an `Idempotency-Key` header to make retries safe: a retry with
    the same key within 24 hours answers the first response and creates nothing.
    """
    post = services.create_post(db.session, current_user(), body.body)
    return Reply(post_json(post), headers={"Location": post_url(post.id)})


@bp.get("/posts/<int:post_id>")
@operation(tag="posts", response=PostOut, errors=(404,))
def get_post(post_id: int) -> dict[str, Any]:
    """One post."""
    return post_json(services.get_post(db.session, post_id))


@bp.put("/posts/<int:post_id>")
@operation(
    tag="posts",
    body=PostBody,
    response=PostOut,
    errors=(400, 403, 404, 409),
    conditional=True,
    links=(
        Link("GetPost", "api.posts.get_post", {"post_id": RESPONSE_ID}),
        Link("DeletePost", "api.posts.delete_post", {"post_id": RESPONSE_ID}),
    ),
)
def edit_post(post_id: int, body: PostBody) -> dict[str, Any]:
    """Edit your post; with `If-Match`, refused (412) if it changed since you read it.

    409 if the post was deleted while this edit was under way (reload it: it is gone).
    """
    post = services.own_post(db.session, current_user(), post_id)
    require_current(serialize(PostOut, post_json(post)))
    return post_json(services.edit_post(db.session, post, body.body))


@bp.delete("/posts/<int:post_id>")
@operation(
    tag="posts",
    errors=(403, 404),
    links=(
        Link(
            "GetPost",
            "api.posts.get_post",
            {"post_id": "$request.path.post_id"},
            description="404: the post is gone.",
        ),
    ),
)
def delete_post(post_id: int) -> None:
    """Delete your post."""
    services.delete_post(db.session, services.own_post(db.session, current_user(), post_id))


@bp.get("/posts")
@operation(tag="posts", query=TimelineQuery, response=Collection[PostOut], errors=TIMELINE_ERRORS)
def explore(query: TimelineQuery) -> Reply:
    """Everyone's posts, newest first."""
    return _timeline(services.everyone(), query, lambda: totals.total(db.session, totals.POSTS))


@bp.get("/users/<int:user_id>/posts")
@operation(tag="posts", query=TimelineQuery, response=Collection[PostOut], errors=(400, 404))
def user_posts(user_id: int, query: TimelineQuery) -> Reply:
    """One user's posts, newest first."""
    user = get_user(db.session, user_id)
    return _timeline(services.posts_by(user.id), query, lambda: user.post_count)


@bp.get("/feed")
@operation(tag="posts", query=TimelineQuery, response=Collection[PostOut], errors=TIMELINE_ERRORS)
def feed(query: TimelineQuery) -> Reply:
    """Your feed: your posts and those of everyone you follow, newest first."""
    me = current_user()
    return _timeline(services.feed_of(me.id), query, lambda: services.feed_size(db.session, me))
