"""Home, explore, profiles, editing one's profile, following, search."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from microblog.accounts.models import User
from microblog.db import utcnow
from microblog.extensions import db
from microblog.posts.services import BODY_MAX
from tests.tasks.task_support import insert_posts
from tests.web.web_support import Browser, field_errors, flashes, labels, post_bodies, text


@pytest.fixture
def susan(signed_in: Callable[..., Browser]) -> Browser:
    return signed_in("susan")


@pytest.fixture
def john(signed_in: Callable[..., Browser]) -> Browser:
    return signed_in("john")


def test_home_has_a_form_that_posts_and_the_feed_of_me_and_whom_i_follow(
    susan: Browser, john: Browser, signed_in: Callable[..., Browser]
) -> None:
    carol = signed_in("carol")
    carol.write("carol is not followed")
    john.write("hello from john")
    posted = susan.write("hello from susan")
    assert (posted.status_code, posted.location) == (302, "/")
    home = susan.get("/")
    assert flashes(home) == ["Your post is now live!"]
    assert labels(home) == ["Say something"]
    assert post_bodies(home) == ["hello from susan"]

    susan.follow("john")
    assert post_bodies(susan.get("/")) == ["hello from susan", "hello from john"]
    assert post_bodies(susan.get("/index")) == ["hello from susan", "hello from john"]
    assert post_bodies(susan.get("/explore")) == [
        "hello from susan",
        "hello from john",
        "carol is not followed",
    ]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * (BODY_MAX + 1), f"body must be at most {BODY_MAX} characters"),
        ("nul \x00 inside", "body must not contain NUL characters"),
    ],
)
def test_an_empty_or_too_long_post_is_refused_on_the_form(
    susan: Browser, body: str, error: str
) -> None:
    page = susan.write(body)
    assert page.status_code == 200
    assert field_errors(page) == [error]
    assert post_bodies(susan.get("/explore")) == []


def test_a_post_of_exactly_the_longest_length_is_taken(susan: Browser) -> None:
    assert susan.write("y" * BODY_MAX).status_code == 302
    assert post_bodies(susan.get("/")) == ["y" * BODY_MAX]


def test_pages_go_back_twenty_posts_at_a_time(app: Flask, susan: Browser) -> None:
    insert_posts(app, 1, 45)
    pages, path = [], "/explore"
    while path:
        page = susan.get(path)
        pages.append(post_bodies(page))
        older = re.search(r'href="(/explore\?max_id=\d+)">Older posts', text(page))
        path = older.group(1) if older else ""
    assert [len(bodies) for bodies in pages] == [20, 20, 5]
    shown = [body for bodies in pages for body in bodies]
    assert shown == [f"post number {n}" for n in reversed(range(45))]

    profile = susan.get("/user/susan")
    assert 'href="/user/susan?max_id=' in text(profile)
    assert susan.get("/explore?max_id=not-a-number").status_code == 200
    assert susan.get("/explore?max_id=99999999999999999999").status_code == 200


def test_a_profile_shows_avatar_about_last_seen_counts_posts_and_buttons(
    susan: Browser, john: Browser
) -> None:
    john.submit(
        "/edit_profile",
        {"username": "john", "email": "john@example.com", "about_me": "I like trains"},
    )
    john.write("john's only post")
    susan.follow("john")

    page = susan.get("/user/john")
    assert page.status_code == 200
    html = text(page)
    assert re.search(r'<img class="avatar[^"]*" src="/avatars/\d+\.svg"', html)
    assert '<p class="about-me">I like trains</p>' in html
    assert re.search(r'Last seen <time datetime="\d{4}-\d\d-\d\dT[\d:.]+\+00:00">', html)
    counts = re.findall(r"<strong[^>]*>(\d+)</strong> (\w+)", html)
    # Singular for one: "1 post", "1 follower".
    assert counts == [("1", "post"), ("1", "follower"), ("0", "following")]
    assert post_bodies(page) == ["john's only post"]
    assert 'action="/unfollow/john"' in html and ">\n          Unfollow</button>" in html
    assert 'href="/send_message/john">Send private message</a>' in html
    assert "Edit your profile" not in html and "Export my posts" not in html

    own = text(susan.get("/user/susan"))
    assert 'href="/edit_profile">Edit your profile</a>' in own
    assert 'id="export-button">Export my posts</button>' in own
    assert "Send private message" not in own and "follow-button" not in own


def test_the_profile_of_nobody_is_a_404_page(susan: Browser) -> None:
    for path in ("/user/nobody", "/user/nobody/popup", "/send_message/nobody"):
        page = susan.get(path)
        assert page.status_code == 404, path
        assert "Not Found" in text(page)


def test_profiles_are_found_whatever_the_case_of_the_name(susan: Browser) -> None:
    assert "<h1>susan</h1>" in text(susan.get("/user/SUSAN"))


def test_follow_then_unfollow_moves_the_button_and_the_counts(
    susan: Browser, john: Browser
) -> None:
    followed = susan.follow("john")
    assert (followed.status_code, followed.location) == (302, "/user/john")
    page = susan.get("/user/john")
    assert flashes(page) == ["You are following john."]
    assert re.search(r'<strong class="follower-count">1</strong>', text(page))
    again = susan.get(susan.follow("john").location)
    assert flashes(again) == ["you already follow john"]

    unfollowed = susan.get(susan.unfollow("john").location)
    assert flashes(unfollowed) == ["You are not following john any more."]
    assert '<strong class="follower-count">0</strong>' in text(unfollowed)
    assert 'action="/follow/john"' in text(unfollowed)
    assert flashes(susan.get(susan.unfollow("john").location)) == ["you do not follow john"]


def test_following_yourself_is_a_flashed_error_not_a_500(susan: Browser) -> None:
    response = susan.post("/follow/susan", token_from="/user/susan")
    assert (response.status_code, response.location) == (302, "/user/susan")
    page = susan.get("/user/susan")
    assert flashes(page) == ["you cannot follow yourself"]
    assert re.search(r'<strong class="follower-count">0</strong>', text(page))


def test_following_nobody_is_a_404(susan: Browser) -> None:
    assert susan.post("/follow/nobody").status_code == 404
    assert susan.post("/unfollow/nobody").status_code == 404


def test_edit_profile_changes_your_own_username_and_about_me(susan: Browser, john: Browser) -> None:
    form = susan.get("/edit_profile")
    assert labels(form) == [
        "Username",
        "Email",
        "About me",
        "New password (leave empty to keep yours)",
        "Repeat new password",
        "Current password (to change email or password)",
    ]
    assert 'value="susan"' in text(form)
    saved = susan.submit(
        "/edit_profile",
        {"username": "Susie", "email": "susan@example.com", "about_me": "  Hi there  "},
    )
    assert (saved.status_code, saved.location) == (302, "/user/Susie")
    page = susan.get("/user/Susie")
    assert flashes(page) == ["Your changes have been saved."]
    assert '<p class="about-me">Hi there</p>' in text(page)
    assert "<h1>john</h1>" in text(john.get("/user/john"))  # only susan changed
    assert susan.get("/user/susan").status_code == 404


def test_edit_profile_only_ever_edits_the_one_signed_in(susan: Browser, john: Browser) -> None:
    # There is no address for editing someone else, and a form naming someone else's
    # username is a taken name, not a way into their profile.
    assert susan.get("/edit_profile/john").status_code == 404
    taken = susan.submit(
        "/edit_profile", {"username": "JOHN", "email": "susan@example.com", "about_me": "hacked"}
    )
    assert taken.status_code == 200
    assert field_errors(taken) == ["please use a different username"]
    assert "hacked" not in text(susan.get("/user/john"))
    assert "hacked" not in text(susan.get("/user/susan"))


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"username": "no spaces"}, "username must be 1 to 64 characters"),
        ({"username": ""}, "This field is required."),
        ({"about_me": "z" * 141}, "about_me must be at most 140 characters"),
        ({"about_me": "nul\x00"}, "about_me must not contain NUL characters"),
    ],
)
def test_edit_profile_mistakes_are_shown_on_their_field(
    susan: Browser, form: dict[str, str], error: str
) -> None:
    page = susan.submit(
        "/edit_profile",
        {"username": "susan", "email": "susan@example.com", "about_me": "", **form},
    )
    assert page.status_code == 200
    [shown] = field_errors(page)
    assert shown.startswith(error)


def test_search_finds_posts_and_people_and_says_when_nothing_matches(
    susan: Browser, john: Browser
) -> None:
    john.submit(
        "/edit_profile",
        {"username": "john", "email": "john@example.com", "about_me": "I like trains"},
    )
    john.write("steam trains are wonderful")
    susan.write("I prefer boats")

    posts = susan.get("/search?q=trains")
    assert posts.status_code == 200
    assert post_bodies(posts) == ["steam trains are wonderful"]
    assert 'value="trains"' in text(posts)  # echoed in the navigation's box

    people = text(susan.get("/search?q=trains&type=users"))
    assert 'href="/user/john">john</a>' in people and "/user/susan" not in people.split("<h1>")[1]

    assert 'No posts match "planes".' in text(susan.get("/search?q=planes"))
    assert 'No one matches "planes".' in text(susan.get("/search?q=planes&type=users"))
    empty = susan.get("/search?q=")
    assert empty.status_code == 200 and post_bodies(empty) == []


@pytest.mark.parametrize("query", ['"unclosed', "a\x00b", "-", "*" * 300])
def test_a_search_that_cannot_be_run_says_why_without_failing(susan: Browser, query: str) -> None:
    page = susan.get("/search", query_string={"q": query})
    assert page.status_code == 200
    assert post_bodies(page) == []


def test_the_search_error_is_shown(susan: Browser) -> None:
    page = susan.get("/search", query_string={"q": '"unclosed'})
    assert '<div class="alert alert-warning">q has an unclosed quote (&#34;)</div>' in text(page)


def test_pages_for_people_who_are_signed_in_send_others_to_sign_in(browser: Browser) -> None:
    for path in ("/", "/index", "/explore", "/user/x", "/edit_profile", "/messages", "/search"):
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/login?next="), path


def test_a_signed_in_visit_moves_last_seen_at_most_once_a_minute(
    app: Flask, susan: Browser, john: Browser, count_queries: Callable[[], Any]
) -> None:
    long_ago = datetime(2024, 1, 1, tzinfo=UTC)
    with app.app_context():
        db.session.execute(update(User).values(last_seen=long_ago))
        db.session.commit()
    assert 'datetime="2024-01-01T00:00:00+00:00"' in text(john.get("/user/susan"))

    before = utcnow()
    with count_queries() as first:
        susan.get("/explore")
    with count_queries() as second:
        susan.get("/explore")

    with app.app_context():
        seen = db.session.scalar(select(User.last_seen).where(User.username == "susan"))
    assert seen is not None and seen >= before - timedelta(seconds=1)
    assert "2024-01-01" not in text(john.get("/user/susan"))
    assert [s for s in first.statements if s.startswith("UPDATE users SET last_seen")]
    assert not [s for s in second.statements if s.startswith("UPDATE")]
