"""Search: posts (or users) matching a query, best match first, paged like every collection."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, current_app
from pydantic import Discriminator, Field, Tag

from microblog.api.pagination import paginate
from microblog.api.representations import post_json, user_json
from microblog.api.schemas import Collection, PageQuery, PostOut, UserOut
from microblog.api.spec import Reply, operation
from microblog.extensions import db
from microblog.posts.search import search_posts, search_users
from microblog.posts.search_budget import time_limit
from microblog.posts.search_query import MAX_ALTERNATIVES, MAX_QUERY_LENGTH, MAX_WORDS

bp = Blueprint("search", __name__)


class SearchQuery(PageQuery):
    q: str = Field(
        description=(
            f'words, "quoted phrases", -excluded words and OR between alternatives; '
            f"at most {MAX_QUERY_LENGTH} characters, {MAX_WORDS} words and "
            f"{MAX_ALTERNATIVES} ORs"
        )
    )
    type: Literal["posts", "users"] = Field("posts", description="what to search")


def _kind(data: Any) -> str:
    """Which collection `data` is, so it is serialized by its own type, never the other."""
    items = data.get("items") if isinstance(data, dict) else None
    return "users" if items and "follower_count" in items[0] else "posts"


SearchResults = Annotated[
    Annotated[Collection[PostOut], Tag("posts")] | Annotated[Collection[UserOut], Tag("users")],
    Discriminator(_kind),
]


@bp.get("/search")
@operation(tag="search", query=SearchQuery, response=SearchResults, errors=(400, 503))
def search(query: SearchQuery) -> Reply:
    """Search posts, or users with `type=users`.

    Posts are searched by their text, users by username and about_me. A post or user holding
    every word typed, in a row, comes first; then the best matches (words that occur more
    often, in shorter texts, in the username rather than about_me); then the newest.

    A search that runs longer than the server's limit (SEARCH_TIMEOUT_SECONDS) is stopped and
    answered 503: fewer or less common words make it cheaper.
    """
    with time_limit(db.session, current_app.config["SEARCH_TIMEOUT_SECONDS"]):
        if query.type == "users":
            return paginate(search_users(db.session, query.q), query, user_json)
        return paginate(search_posts(db.session, query.q), query, post_json)
