"""Writing, editing and deleting posts, and the timelines made of them."""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.dml import Insert, Update

from microblog import totals
from microblog.accounts.models import User
from microblog.accounts.services import no_such_user
from microblog.db import MAX_ID, Db, utcnow
from microblog.errors import N_, Forbidden, Invalid, NotFound
from microblog.posts.language import detect_language
from microblog.posts.models import Post
from microblog.social.models import Follow
from microblog.text import storable

BODY_MAX = 280


def clean_body(body: str) -> str:
    """The body as stored: trimmed, 1 to 280 characters."""
    body = storable("body", body).strip()
    if not body:
        raise Invalid("body", N_("body must not be empty"))
    if len(body) > BODY_MAX:
        raise Invalid("body", N_("body must be at most %(max)s characters"), max=BODY_MAX)
    return body


def get_post(session: Db, post_id: int) -> Post:
    if not 0 < post_id <= MAX_ID:
        raise NotFound(N_("post %(post_id)s does not exist"), post_id=post_id)
    post = session.scalar(select(Post).options(joinedload(Post.author)).where(Post.id == post_id))
    if post is None:
        raise NotFound(N_("post %(post_id)s does not exist"), post_id=post_id)
    return post


def create_post(session: Db, author: User, body: str) -> Post:
    # The checks and the language detection first, before the first statement: on SQLite
    # that statement takes the write lock, which every other writer then waits for.
    body = clean_body(body)
    language = detect_language(body)
    if not _move_post_count(session, author.id, +1):
        raise no_such_user(author.id)
    post = _insert_post(session, author, body, language)
    totals.count_in(session, totals.POSTS, 1, post.id)
    return post


def _insert_post(session: Db, author: User, body: str, language: str | None) -> Post:
    """The new post's row, written by one Core INSERT ... RETURNING and handed to the session
    as if it had been loaded: the unit of work's flush of one new row costs several times the
    statement, and on SQLite it runs under the write lock."""
    values = {"body": body, "timestamp": utcnow(), "user_id": author.id, "language": language}
    post_id = session.connection().scalar(_insert_post_statement(), values)
    post = Post(id=post_id, **values)
    make_transient_to_detached(post)
    session.add(post)
    set_committed_value(post, "author", author)
    return post


@functools.cache
def _insert_post_statement() -> Insert:
    return insert(Post).returning(Post.id)


def edit_post(session: Db, post: Post, body: str) -> Post:
    """Change a post's text (the caller has checked it is the actor's, with `own_post`)."""
    post.body = clean_body(body)
    post.language = detect_language(post.body)
    session.flush()
    return post


def delete_post(session: Db, post: Post) -> None:
    """Delete a post (the caller has checked it is the actor's, with `own_post`)."""
    author_id, post_id = post.user_id, post.id
    if not _move_post_count(session, author_id, -1):
        raise NotFound(N_("post %(post_id)s does not exist"), post_id=post_id)
    session.delete(post)
    session.flush()
    totals.count_in(session, totals.POSTS, -1, post_id)


def _move_post_count(session: Db, author_id: int, step: int) -> bool:
    """Move the author's post count, before the post row is written: False if the author is
    gone.

    The author's row is locked first, as an account deletion locks it: a deletion under way is
    waited for and then seen as a missing author (a 4xx), rather than as a foreign key
    violation (a 500) or a deadlock with its cascade over the posts.
    """
    # Core, built once, on the session's connection: the ORM's bulk update costs several times
    # the statement, and on SQLite that cost is paid under the write lock. RETURNING gives
    # the count as stored, for an author the session holds.
    count = session.connection().scalar(_moved_post_count(), {"author": author_id, "step": step})
    if count is None:
        return False
    author = session.identity_map.get(identity_key(User, author_id))
    if author is not None:
        set_committed_value(author, "post_count", count)
    return True


@functools.cache
def _moved_post_count() -> Update:
    return (
        update(User)
        .where(User.id == bindparam("author"))
        .values(post_count=User.post_count + bindparam("step"))
        .returning(User.post_count)
    )


def own_post(session: Db, actor: User, post_id: int) -> Post:
    """The post, if `actor` wrote it: 404 if there is none, 403 if it is someone else's."""
    post = get_post(session, post_id)
    if post.user_id != actor.id:
        raise Forbidden(N_("you can only change your own posts"))
    return post


def _newest_first(query: Select[Post]) -> Select[Post]:
    return query.options(joinedload(Post.author)).order_by(Post.id.desc())


def everyone() -> Select[Post]:
    """Every post, newest first (explore)."""
    return _newest_first(select(Post))


def posts_by(user_id: int) -> Select[Post]:
    return _newest_first(select(Post).where(Post.user_id == user_id))


def feed_size(session: Db, user: User) -> int:
    """How many posts `user`'s feed holds, from the counters: no COUNT over posts.

    Summed through the follows join (one index probe per followed user), never as `id = me
    OR id IN (...)`, which PostgreSQL answers by scanning every user.
    """
    # A plain Core statement, built once, run on the session's connection: the ORM adds
    # nothing to a single number but a third of the cost.
    followed = session.connection().scalar(_followed_posts(), {"follower": user.id})
    return user.post_count + int(followed or 0)


@functools.cache
def _followed_posts() -> Select[int]:
    return (
        select(func.coalesce(func.sum(User.post_count), 0))
        .join(Follow, Follow.followed_id == User.id)
        .where(Follow.follower_id == bindparam("follower"))
    )


def feed_of(user_id: int) -> Select[Post]:
    """The posts of `user_id` and of everyone they follow, newest first."""
    followed = select(Follow.followed_id).where(Follow.follower_id == user_id)
    return _newest_first(
        select(Post).where(or_(Post.user_id == user_id, Post.user_id.in_(followed)))
    )
