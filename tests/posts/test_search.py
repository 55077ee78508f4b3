"""Full-text search through the services, on both backends (SQLite FTS5, PostgreSQL tsvector).

Every test here runs on SQLite and on PostgreSQL, and expects the same answer from both: the
search query language means the same whatever the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from microblog.accounts.models import User
from microblog.accounts.services import register_user, update_user
from microblog.db import Db
from microblog.errors import Invalid
from microblog.extensions import db
from microblog.fake import fake_posts
from microblog.posts import search as search_module
from microblog.posts.models import Post
from microblog.posts.search import search_posts, search_users
from microblog.posts.search_budget import SearchTimedOut, time_limit
from microblog.posts.services import create_post, delete_post, edit_post
from tests.api.api_helpers import insert_users
from tests.posts.hostile_queries import SEARCHED
from tests.posts.search_support import stalled_search


@pytest.fixture
def session(app: Flask) -> Iterator[Db]:
    with app.app_context():
        yield db.session


@pytest.fixture
def author(session: Db) -> User:
    user = register_user(
        session, username="writer", email="writer@example.com", password="correct-horse"
    )
    session.commit()
    return user


def write(session: Db, author: User, *bodies: str) -> list[Post]:
    """Posts by `author`, oldest first, committed."""
    posts = [create_post(session, author, body) for body in bodies]
    session.commit()
    return posts


def found(session: Db, text: str) -> list[str]:
    """The bodies of the posts matching `text`, in the order the search gives them."""
    return [post.body for post in session.scalars(search_posts(session, text))]


def found_users(session: Db, text: str) -> list[str]:
    return [user.username for user in session.scalars(search_users(session, text))]


def assert_index_consistent(session: Db) -> None:
    """On SQLite, FTS5 checks its index against the posts and users tables (an external
    content index that missed a write fails this). PostgreSQL's vectors are generated
    columns: they cannot disagree with the row."""
    if session.get_bind().dialect.name == "sqlite":
        for fts in ("posts_fts", "users_fts"):
            check = f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)"
            session.execute(sa.text(check))


# --- what matches ----------------------------------------------------------------------------


def test_every_word_must_be_there(session: Db, author: User) -> None:
    write(session, author, "the quick brown fox", "a quick cat", "a brown dog")

    assert found(session, "quick") == ["a quick cat", "the quick brown fox"]
    assert found(session, "quick brown") == ["the quick brown fox"]
    assert found(session, "quick zebra") == []


def test_a_quoted_phrase_finds_only_those_words_in_that_order(session: Db, author: User) -> None:
    write(session, author, "the red fox runs", "the fox is red", "red paint and a fox")

    assert found(session, '"red fox"') == ["the red fox runs"]
    assert found(session, '"fox red"') == []


def test_excluded_words_and_phrases_leave_posts_out(session: Db, author: User) -> None:
    write(session, author, "fox in the red hat", "fox in the green hat", "fox in a red car")

    assert found(session, "fox -red") == ["fox in the green hat"]
    assert found(session, 'fox -"red car"') == ["fox in the green hat", "fox in the red hat"]
    assert found(session, "fox -red -green") == []


def test_or_accepts_either_word(session: Db, author: User) -> None:
    write(session, author, "a cat sleeps", "a dog sleeps", "a bird sings", "a dog sings")

    assert set(found(session, "cat OR dog")) == {"a cat sleeps", "a dog sleeps", "a dog sings"}
    assert set(found(session, "cat OR dog sleeps")) == {"a cat sleeps", "a dog sleeps"}
    assert set(found(session, '"bird sings" OR cat')) == {"a bird sings", "a cat sleeps"}
    # Lower-case "or" is just a word.
    assert found(session, "cat or dog") == []


def test_case_does_not_matter_on_either_side(session: Db, author: User) -> None:
    write(session, author, "Flask IS Great", "ÜBER Straße")

    assert found(session, "flask") == ["Flask IS Great"]
    assert found(session, "GREAT is") == ["Flask IS Great"]
    assert found(session, '"flask is great"') == ["Flask IS Great"]
    assert found(session, "über STRASSE") == []  # ß is not "ss"
    assert found(session, "über straße") == ["ÜBER Straße"]


def test_words_are_cut_at_punctuation_alike(session: Db, author: User) -> None:
    # PostgreSQL's parser alone would keep an address, a URL, "red-fox" or "v1.2" whole.
    write(session, author, "mail susan@example.com or see https://example.org/red-fox v1.2")

    for text in ("susan", "example com", '"example org red fox"', "red-fox", "v1", "2", "https"):
        assert len(found(session, text)) == 1, text


def test_diacritics_count(session: Db, author: User) -> None:
    write(session, author, "un café crème")

    assert found(session, "café") == ["un café crème"]
    assert found(session, "CAFÉ CRÈME") == ["un café crème"]
    assert found(session, "cafe") == []


# --- ranking ---------------------------------------------------------------------------------


def test_a_post_with_the_word_twice_ranks_above_one_with_it_once(session: Db, author: User) -> None:
    # Same length; the one with the word once is newer, so only the rank puts the other first.
    write(session, author, "fox runs and fox jumps", "fox runs and cat jumps")

    assert found(session, "fox") == ["fox runs and fox jumps", "fox runs and cat jumps"]


def test_a_post_with_the_words_as_typed_ranks_above_one_that_merely_contains_them(
    session: Db, author: User
) -> None:
    # The other post is newer and shorter, and holds "fox" twice.
    write(
        session,
        author,
        "yesterday I saw a red fox near the old barn",
        "a fox, a red car, a fox",
    )

    assert found(session, "red fox") == [
        "yesterday I saw a red fox near the old barn",
        "a fox, a red car, a fox",
    ]


def test_equal_matches_come_newest_first(session: Db, author: User) -> None:
    posts = write(session, author, "same words", "same words", "same words")

    ids = [post.id for post in session.scalars(search_posts(session, "same"))]

    assert ids == [post.id for post in reversed(posts)]


# --- the index follows every write ---------------------------------------------------------


def test_an_edited_post_is_found_by_its_new_text_and_not_its_old(session: Db, author: User) -> None:
    (post,) = write(session, author, "an original thought")

    edit_post(session, post, "a revised idea")
    session.commit()

    assert found(session, "original") == []
    assert found(session, "revised") == ["a revised idea"]
    assert_index_consistent(session)


def test_a_deleted_post_is_no_longer_found(session: Db, author: User) -> None:
    gone, _ = write(session, author, "ephemeral words", "lasting words")

    delete_post(session, gone)
    session.commit()

    assert found(session, "ephemeral") == []
    assert found(session, "words") == ["lasting words"]
    assert_index_consistent(session)


def test_the_posts_of_a_deleted_user_are_no_longer_found(session: Db, author: User) -> None:
    write(session, author, "words of a leaver")

    session.execute(sa.delete(User).where(User.id == author.id))
    session.commit()

    assert found(session, "leaver") == []
    assert found_users(session, "writer") == []
    assert_index_consistent(session)


def test_posts_inserted_in_bulk_are_found(session: Db, author: User) -> None:
    session.execute(
        sa.insert(Post),
        [{"body": f"bulk post number {n}", "user_id": author.id} for n in range(50)],
    )
    session.commit()

    assert len(found(session, "bulk")) == 50
    assert found(session, '"number 7"') == ["bulk post number 7"]
    assert_index_consistent(session)


def test_posts_made_by_the_fake_command_are_found(session: Db, author: User) -> None:
    fake_posts(session, 20, seed=7, progress=lambda _done: None)
    session.commit()
    post = session.scalars(sa.select(Post).order_by(Post.id.desc())).first()
    assert post is not None

    first_words = " ".join(post.body.split()[:4])
    ids = [one.id for one in session.scalars(search_posts(session, f'"{first_words}"'))]

    assert post.id in ids


def test_deleting_every_row_empties_the_index(session: Db, author: User) -> None:
    # As the test suite empties the tables between tests: DELETE without WHERE on SQLite
    # (which fires the triggers), TRUNCATE on PostgreSQL (the vectors go with the rows).
    write(session, author, "soon gone", "also gone")

    session.execute(sa.delete(Post))
    session.commit()

    assert found(session, "gone") == []
    assert_index_consistent(session)
    if session.get_bind().dialect.name == "sqlite":
        rows = session.scalar(sa.text("SELECT count(*) FROM posts_fts_docsize"))
        assert rows == 0


# --- users ---------------------------------------------------------------------------------


def test_users_are_found_by_username_and_about_me(session: Db) -> None:
    register_user(
        session,
        username="susan.kim",
        email="susan@example.com",
        password="correct-horse",
        about_me="I photograph foxes",
    )
    register_user(
        session,
        username="bob",
        email="zebra@example.com",
        password="correct-horse",
        about_me="Nothing here",
    )
    session.commit()

    assert found_users(session, "susan") == ["susan.kim"]
    assert found_users(session, "KIM") == ["susan.kim"]
    assert found_users(session, "foxes") == ["susan.kim"]
    assert found_users(session, "susan foxes") == ["susan.kim"]
    assert found_users(session, "zebra") == []  # never the email


def test_a_username_match_ranks_above_an_about_me_match(session: Db) -> None:
    register_user(
        session, username="otter", email="o@example.com", password="correct-horse", about_me="x"
    )
    register_user(
        session,
        username="newer",
        email="n@example.com",
        password="correct-horse",
        about_me="I love the otter",
    )
    session.commit()

    assert found_users(session, "otter") == ["otter", "newer"]


def test_a_phrase_does_not_span_username_and_about_me(session: Db) -> None:
    register_user(
        session,
        username="susan",
        email="s@example.com",
        password="correct-horse",
        about_me="likes cats",
    )
    session.commit()

    assert found_users(session, '"likes cats"') == ["susan"]
    assert found_users(session, '"susan likes"') == []


def test_an_edited_profile_is_found_by_its_new_text(session: Db) -> None:
    user = register_user(
        session, username="susan", email="s@example.com", password="correct-horse", about_me="old"
    )
    session.commit()

    update_user(session, user, username="susanna", about_me="new words")
    session.commit()

    assert found_users(session, "old") == []
    assert found_users(session, "susan") == []
    assert found_users(session, "susanna new") == ["susanna"]
    assert_index_consistent(session)


def test_users_inserted_in_bulk_are_found(app: Flask, session: Db) -> None:
    insert_users(app, [f"member{n}" for n in range(30)])

    assert len(found_users(session, "member7")) == 1
    assert_index_consistent(session)


# --- what cannot be searched ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "  ", "-fox", '"red fox', "a" * 201, "?!"])
@pytest.mark.parametrize("search", [search_posts, search_users])
def test_what_cannot_be_searched_is_invalid(session: Db, search: Any, text: str) -> None:
    with pytest.raises(Invalid) as refused:
        search(session, text)

    assert refused.value.field == "q"


@pytest.mark.parametrize("text", SEARCHED)
def test_hostile_queries_are_searched_as_plain_words(session: Db, author: User, text: str) -> None:
    write(session, author, "a b c: a & b | !a 'quoted' NEAR(a b) 100% \\ 日本語 ünïcode ab")

    for search in (search_posts, search_users):
        statement = search(session, text)
        session.scalars(statement.limit(10)).all()
        session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))


# --- what one search may cost ----------------------------------------------------------------


def test_only_the_newest_matches_are_ranked_and_counted(
    session: Db, author: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few common words over a large table rank the newest MAX_MATCHES matches, not all."""
    monkeypatch.setattr(search_module, "MAX_MATCHES", 3)
    write(
        session, author, "needle needle needle, the best match", *[f"needle {n}" for n in range(4)]
    )

    results = found(session, "needle")
    total = session.scalar(
        sa.select(sa.func.count()).select_from(search_posts(session, "needle").subquery())
    )

    assert sorted(results) == ["needle 1", "needle 2", "needle 3"]
    assert total == 3


def test_a_search_past_its_time_limit_is_stopped_and_the_limit_named(
    app: Flask, session: Db, author: User, backend: str
) -> None:
    write(session, author, *[f"needle {n} in a haystack" for n in range(300)])
    started = time.monotonic()
    with stalled_search(app, backend) as limit:
        with pytest.raises(SearchTimedOut) as stopped, time_limit(session, limit):
            found(session, "needle OR haystack")
        session.rollback()
    assert time.monotonic() - started < 5
    assert stopped.value.message.startswith(f"the search took longer than {limit:g} s")

    # The limit ended with the block: the connection searches (and waits) as before.
    assert len(found(session, "needle")) == 300
    if backend == "postgresql":
        assert session.scalar(sa.text("SHOW statement_timeout")) == "0"
        assert session.scalar(sa.text("SHOW plan_cache_mode")) == "auto"
