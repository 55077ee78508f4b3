"""Two newcomers find each other: Susan posts, John follows her and writes to her, and Susan
sees the message arrive without reloading her page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import POLL_SECONDS, Browsing, Screenshot

pytestmark = pytest.mark.live


def test_two_newcomers_follow_and_message_each_other(
    browsing: Browsing, screenshot: Screenshot
) -> None:
    susan = browsing.newcomer("susan")
    john = browsing.newcomer("john")
    body = f"Hello from Susan, my first post on {susan.username}'s microblog"

    # Susan posts from her home page.
    susan.page.get_by_label("Say something").fill(body)
    susan.page.get_by_role("button", name="Post", exact=True).click()
    expect(susan.page.get_by_role("alert")).to_have_text("Your post is now live!")
    expect(susan.page.locator(".post-body").first).to_have_text(body)
    screenshot(susan.page, "home")

    # John finds her on Explore; her name's card leads to her profile.
    page = john.page
    page.get_by_role("link", name="Explore", exact=True).click()
    post = page.locator("article.post", has_text=body)
    expect(post).to_be_visible()
    screenshot(page, "explore")
    post.get_by_role("link", name=susan.username).hover()
    card = page.locator(".user-popup")
    expect(card).to_be_visible()
    expect(card).to_contain_text(susan.username)
    expect(card).to_contain_text("0 followers")
    screenshot(page, "hover-card")
    # The card goes when the pointer leaves the name; it stays while the pointer is on it.
    page.get_by_role("heading", name="Explore").hover()
    expect(card).to_have_count(0)
    post.get_by_role("link", name=susan.username).hover()
    expect(card).to_be_visible()
    card.hover()
    page.wait_for_timeout(500)  # longer than the card's grace period
    expect(card).to_be_visible()
    card.get_by_role("link", name=susan.username).click()
    expect(page).to_have_url(re.compile(rf"/user/{susan.username}$"))
    expect(page.get_by_role("heading", name=susan.username)).to_be_visible()

    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(f"You are following {susan.username}.")
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
    expect(page.locator(".follower-count")).to_have_text("1")
    screenshot(page, "profile")

    page.get_by_role("link", name="Home", exact=True).click()
    expect(page.locator("article.post", has_text=body)).to_be_visible()

    # Susan stays on her page; the badge must not be there yet.
    badge = susan.page.locator("#unread-badge")
    expect(badge).to_be_hidden()
    susan.page.evaluate("window.stillTheSamePage = true")

    # John writes to Susan from her profile.
    page.goto(f"/user/{susan.username}")
    page.get_by_role("link", name="Send private message").click()
    page.get_by_label("Message", exact=True).fill("Hi Susan, John here. Nice post!")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_have_text("Your message has been sent.")

    # The badge appears on Susan's page by itself, within a few polls.
    expect(badge).to_be_visible(timeout=POLL_SECONDS * 5_000)
    expect(badge).to_have_text("1")
    assert susan.page.evaluate("window.stillTheSamePage") is True, "the page was reloaded"

    # Reading the messages clears it, and it stays cleared at the next poll.
    susan.page.locator("#messages-link").click()
    expect(susan.page.get_by_role("heading", name="Messages")).to_be_visible()
    message = susan.page.locator("article.message").first
    expect(message).to_contain_text(john.username)
    expect(message.locator(".message-body")).to_have_text("Hi Susan, John here. Nice post!")
    with susan.page.expect_response(lambda response: "/fragments/unread" in response.url):
        pass
    expect(badge).to_be_hidden()
    screenshot(susan.page, "messages")
