"""The search page when a query asks too much: the limit is named on the page, never a 500."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from microblog.accounts import services as accounts
from microblog.extensions import db
from microblog.posts.search_query import MAX_ALTERNATIVES, MAX_WORDS
from tests.posts.search_support import stalled_search
from tests.tasks.task_support import insert_posts
from tests.web.web_support import Browser, post_bodies, text


def test_too_many_words_or_ors_are_named_on_the_page(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan")
    words = susan.get("/search", query_string={"q": " ".join(["fox"] * (MAX_WORDS + 1))})
    ors = susan.get("/search", query_string={"q": " OR ".join(["fox"] * (MAX_ALTERNATIVES + 2))})
    assert f"q may hold at most {MAX_WORDS} words" in text(words)
    assert f"q may use OR at most {MAX_ALTERNATIVES} times" in text(ors)


def test_a_search_past_the_time_limit_is_a_503_page_naming_it(
    app: Flask, signed_in: Callable[..., Browser], backend: str
) -> None:
    susan = signed_in("susan")
    with app.app_context():
        insert_posts(app, accounts.get_by_username(db.session, "susan").id, 300)
    with stalled_search(app, backend) as limit:
        app.config["SEARCH_TIMEOUT_SECONDS"] = limit
        page = susan.get("/search", query_string={"q": "post OR number"})

    assert page.status_code == 503
    assert f"the search took longer than {limit:g} s; try fewer or less common words" in text(page)
    assert post_bodies(page) == []
