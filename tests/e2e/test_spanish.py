"""A browser that asks for Spanish gets the site in Spanish, times included."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Browsing, Screenshot

pytestmark = pytest.mark.live

# Intl.RelativeTimeFormat("es", {numeric: "auto"}) of a moment ago.
JUST_NOW = re.compile(r"^(ahora|hace \d+ segundos?|hace 1 minuto)$")


def test_a_spanish_browser_gets_spanish_pages(browsing: Browsing, screenshot: Screenshot) -> None:
    susan = browsing.newcomer("susan")
    susan.page.get_by_label("Say something").fill("Buenos días a todos")
    susan.page.get_by_role("button", name="Post", exact=True).click()
    expect(susan.page.get_by_role("alert")).to_have_text("Your post is now live!")

    # The same account in a browser set to Spanish (it sends Accept-Language: es-ES).
    page = browsing.window(locale="es-ES", storage_state=susan.context.storage_state())
    with page.expect_request("**/") as sent:
        page.goto("/")
    assert sent.value.all_headers()["accept-language"].startswith("es")

    expect(page.locator("html")).to_have_attribute("lang", "es")
    navigation = page.get_by_role("navigation")
    for name in ("Inicio", "Explorar", "Mensajes"):
        expect(navigation.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(navigation.get_by_role("link", name="Home", exact=True)).to_have_count(0)
    stamp = page.locator("article.post time").first
    expect(stamp).to_have_text(JUST_NOW)
    screenshot(page, "spanish-home")
