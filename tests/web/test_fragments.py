"""Small answers the pages' script fetches: the unread count and the profile card."""

from __future__ import annotations

from collections.abc import Callable

from tests.web.web_support import Browser, text


def test_the_unread_count_is_json(signed_in: Callable[..., Browser]) -> None:
    john = signed_in("john")
    susan = signed_in("susan")
    answer = john.get("/fragments/unread", headers={"Accept": "application/json"})
    assert (answer.status_code, answer.mimetype, answer.json) == (
        200,
        "application/json",
        {"count": 0},
    )
    susan.send_message("john", "hi")
    assert john.get("/fragments/unread").json == {"count": 1}


def test_the_hover_card_is_a_fragment_of_html(signed_in: Callable[..., Browser]) -> None:
    john = signed_in("john")
    john.submit("/edit_profile", {"username": "john", "about_me": "trains & boats"})
    susan = signed_in("susan")
    card = susan.get("/user/john/popup")
    assert card.status_code == 200 and card.mimetype == "text/html"
    html = text(card)
    assert html.lstrip().startswith('<div class="user-card">')
    assert "<html" not in html and "<nav" not in html
    assert '<a href="/user/john"><strong>john</strong></a>' in html
    assert "trains &amp; boats" in html
    assert "0 followers · 0 following" in html and "You follow them" not in html

    susan.follow("john")
    html = text(susan.get("/user/JOHN/popup"))
    assert "1 follower · 0 following · You follow them" in html
    assert "You follow them" not in text(john.get("/user/susan/popup"))
    assert "You follow them" not in text(susan.get("/user/susan/popup"))
