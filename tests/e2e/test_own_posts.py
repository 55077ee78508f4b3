"""What one person does with their own posts: find them, export them, see when they were
written; and what the page makes of a post that holds markup."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Browsing, Person, Screenshot

pytestmark = pytest.mark.live

# What Intl.RelativeTimeFormat("en", {numeric: "auto"}) says of a moment ago.
JUST_NOW = re.compile(r"^(now|\d+ seconds? ago|1 minute ago)$")
TOKYO = timezone(timedelta(hours=9))  # the contexts' time zone (conftest.TIME_ZONE)


def post(person: Person, body: str) -> None:
    page = person.page
    page.get_by_role("link", name="Home", exact=True).click()
    page.get_by_label("Say something").fill(body)
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Your post is now live!")


def test_the_search_box_finds_a_post_by_one_of_its_words(
    browsing: Browsing, screenshot: Screenshot
) -> None:
    susan = browsing.newcomer("susan")
    word = f"marmalade{uuid.uuid4().hex[:8]}"
    post(susan, f"Breakfast today: toast and {word}, as always")
    page = susan.page

    search = page.get_by_role("navigation").get_by_role("searchbox", name="Search")
    search.fill(word)
    search.press("Enter")

    expect(page).to_have_url(re.compile(rf"/search\?q={word}$"))
    results = page.locator("article.post")
    expect(results).to_have_count(1)
    expect(results.first.locator(".post-body")).to_contain_text(word)
    expect(results.first.get_by_role("link", name=susan.username)).to_be_visible()
    # The box keeps what was looked for.
    expect(search).to_have_value(word)
    screenshot(page, "search")


def test_exporting_posts_shows_progress_and_downloads_them(
    browsing: Browsing, screenshot: Screenshot
) -> None:
    susan = browsing.newcomer("susan")
    body = f"A post worth keeping {uuid.uuid4().hex[:8]}"
    post(susan, body)
    page = susan.page
    page.get_by_role("link", name="Profile", exact=True).click()

    page.get_by_role("button", name="Export my posts").click()

    expect(page.get_by_role("heading", name="Export my posts")).to_be_visible()
    expect(page.locator("#export-bar")).to_have_text("100%", timeout=15_000)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    # The bar fills its track once its width transition is over.
    page.wait_for_function(
        """() => {
            const bar = document.getElementById("export-bar");
            return bar.getBoundingClientRect().width >= bar.parentElement.clientWidth - 1;
        }"""
    )
    download_link = page.get_by_role("link", name="Download")
    expect(download_link).to_be_visible()
    screenshot(page, "export")
    with page.expect_download() as started:
        download_link.click()
    download = started.value
    assert download.suggested_filename == f"microblog-{susan.username}-posts.json"
    document = json.loads(Path(download.path()).read_text())
    assert document["user"]["username"] == susan.username
    assert [exported["body"] for exported in document["posts"]] == [body]


def test_times_are_relative_with_the_local_time_in_the_title(browsing: Browsing) -> None:
    susan = browsing.newcomer("susan")
    post(susan, "What time is it?")

    stamp = susan.page.locator("article.post time").first
    expect(stamp).to_have_text(JUST_NOW)
    written = datetime.fromisoformat(str(stamp.get_attribute("datetime")))
    local = written.astimezone(TOKYO)
    hour = local.hour % 12 or 12
    title = str(stamp.get_attribute("title"))
    # "Jan 5, 2026, 9:03 PM" in Tokyo, where the server wrote 12:03 UTC.
    assert f"{local:%b} {local.day}, {local.year}" in title, title
    assert re.search(rf"\b{hour}:{local:%M}\W*{local:%p}\b", title), (title, local)


def test_a_post_with_a_script_tag_shows_as_text(browsing: Browsing) -> None:
    susan = browsing.newcomer("susan")
    body = "<script>alert(1)</script> <b>bold?</b>"
    post(susan, body)
    john = browsing.newcomer("john")

    for page in (susan.page, john.page):
        page.get_by_role("link", name="Explore", exact=True).click()
        shown = page.locator("article.post", has_text="<script>alert(1)</script>").first
        expect(shown.locator(".post-body")).to_have_text(body)
        assert shown.locator("script, b").count() == 0
    # Long enough for a script that did get in to have run; the fixture fails on any dialog.
    john.page.wait_for_load_state("load")
    assert browsing.dialogs == []
