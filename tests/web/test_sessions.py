"""Web sessions live on the server: signing out, a new password or the sessions page end them,
and a copy of their cookies then opens nothing."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from tests.support import basic_auth, wait_for_jobs
from tests.web.web_support import PASSWORD, Browser, field_errors, flashes, text

COOKIES = ("session", "remember_token")
ROW = re.compile(r'id="session-(\d+)">.*?<td class="label">(.*?)</td>', re.S)


def listed(person: Browser) -> dict[str, int]:
    """{device: id} of the rows of the sessions page."""
    return {label: int(id_) for id_, label in ROW.findall(text(person.get("/sessions")))}


def copy_of(app: Flask, person: Browser, names: tuple[str, ...] = COOKIES) -> Browser:
    """Another browser holding copies of `person`'s cookies (stolen, say)."""
    thief = Browser(app.test_client())
    for name in names:
        cookie = person.client.get_cookie(name)
        assert cookie is not None, name
        thief.client.set_cookie(name, cookie.value)
    return thief


def api_token(app: Flask, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = app.test_client().post("/api/tokens", headers=basic_auth(username, password))
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def api_works(app: Flask, headers: dict[str, str]) -> bool:
    return app.test_client().get("/api/me", headers=headers).status_code == 200


def test_signing_out_ends_the_session_so_copied_cookies_open_nothing(
    app: Flask, browser: Browser
) -> None:
    browser.register("susan")
    browser.login("susan", remember=True)
    both = copy_of(app, browser)
    remembered = copy_of(app, browser, ("remember_token",))
    assert both.signed_in_as() == "susan"
    assert remembered.signed_in_as() == "susan"

    browser.logout()

    assert browser.signed_in_as() is None
    assert both.signed_in_as() is None
    assert copy_of(app, both, ("remember_token",)).signed_in_as() is None
    assert remembered.signed_in_as() is None


def test_the_session_cookie_carries_a_key_the_database_keeps_only_hashed(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    susan = signed_in("susan")
    with susan.client.session_transaction() as session:
        key = session["_user_id"]
    assert len(key) == 64 and not key.startswith("1:")  # not the user's id: a secret
    assert copy_of(app, susan, ("session",)).signed_in_as() == "susan"
    with app.app_context():
        from sqlalchemy import select

        from microblog.accounts.models import Token
        from microblog.extensions import db

        stored = list(db.session.scalars(select(Token.hash)))
    assert key not in stored and len(stored) == 1


def test_the_sessions_page_lists_where_you_are_signed_in_and_ends_one(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    susan = signed_in("susan")
    laptop = Browser(app.test_client(), headers={"User-Agent": "Laptop Firefox"})
    laptop.login("susan", remember=True)
    token = api_token(app, "susan")
    signed_in("bob")

    page = susan.get("/sessions")

    assert page.status_code == 200
    body = text(page)
    assert body.count('class="session"') == 3  # her two browsers and her token, not bob's
    assert "Laptop Firefox" in body
    assert body.count("this one") == 1
    assert 'href="/sessions"' in text(susan.get("/edit_profile"))

    laptop_id = listed(susan)["Laptop Firefox"]
    ended = susan.post(f"/sessions/{laptop_id}/end", token_from="/sessions")

    assert ended.location == "/sessions"
    assert flashes(susan.get("/sessions")) == ["It has ended: whoever used it is signed out."]
    assert laptop.signed_in_as() is None
    laptop.client.delete_cookie("session")
    assert laptop.signed_in_as() is None  # nor does its remember-me cookie sign it in
    assert susan.signed_in_as() == "susan"
    assert api_works(app, token)


def test_sign_out_everywhere_else_ends_every_other_session_and_token(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    susan = signed_in("susan")
    laptop = Browser(app.test_client())
    laptop.login("susan", remember=True)
    token = api_token(app, "susan")

    response = susan.post("/sessions/end_others", token_from="/sessions")

    assert response.location == "/sessions"
    assert flashes(susan.get("/sessions")) == ["You are signed out everywhere else."]
    assert susan.signed_in_as() == "susan"
    assert laptop.signed_in_as() is None
    assert not api_works(app, token)
    assert text(susan.get("/sessions")).count('class="session"') == 1


def test_ending_this_session_from_the_list_signs_out(signed_in: Callable[..., Browser]) -> None:
    susan = signed_in("susan")
    [this_one] = listed(susan).values()

    response = susan.post(f"/sessions/{this_one}/end", token_from="/sessions")

    assert response.location == "/login"
    assert susan.signed_in_as() is None


def test_someone_elses_session_cannot_be_ended(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    bob = signed_in("bob")  # session 1
    susan = signed_in("susan")

    response = susan.post("/sessions/1/end", token_from="/sessions", follow_redirects=True)

    assert flashes(response) == ["you have no token 1"]
    assert bob.signed_in_as() == "bob"


def _profile(person: Browser, **changes: str) -> dict[str, str]:
    return {"username": "susan", "email": "susan@example.com", "about_me": "", **changes}


def test_a_password_change_on_the_profile_page_needs_the_current_password_and_ends_other_sessions(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    susan = signed_in("susan")
    laptop = Browser(app.test_client())
    laptop.login("susan", remember=True)
    token = api_token(app, "susan")
    new = {"password": "brand-new-pass", "password2": "brand-new-pass"}

    missing = susan.submit("/edit_profile", _profile(susan, **new))
    wrong = susan.submit("/edit_profile", _profile(susan, **new, current_password="wrong-pass"))

    assert field_errors(missing) == ["old_password is required to change the password"]
    assert field_errors(wrong) == ["old_password is not the current password"]
    assert laptop.signed_in_as() == "susan" and api_works(app, token)

    done = susan.submit("/edit_profile", _profile(susan, **new, current_password=PASSWORD))

    assert done.location == "/user/susan"
    assert susan.signed_in_as() == "susan"  # the session making the change stays
    assert laptop.signed_in_as() is None
    laptop.client.delete_cookie("session")
    assert laptop.signed_in_as() is None
    assert not api_works(app, token)
    assert laptop.login("susan", "brand-new-pass").location == "/"


def test_the_profile_page_changes_the_email_only_with_the_current_password_and_tells_the_old_one(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    susan = signed_in("susan")
    outbox = Path(app.instance_path) / "mail"

    refused = susan.submit("/edit_profile", _profile(susan, email="mallory@example.com"))

    assert field_errors(refused) == ["old_password is required to change the email address"]
    wait_for_jobs(app)
    assert not outbox.exists()

    done = susan.submit(
        "/edit_profile",
        _profile(susan, email="susan@new.example.org", current_password=PASSWORD),
    )

    assert done.location == "/user/susan"
    wait_for_jobs(app)
    [mail] = outbox.glob("*.eml")
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["To"] == "susan@example.com"
    assert message["Subject"] == "[Microblog] Your email address was changed"
    assert 'value="susan@new.example.org"' in text(susan.get("/edit_profile"))


def test_the_current_password_typed_for_no_sensitive_change_is_not_a_password_change(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan")

    done = susan.submit("/edit_profile", _profile(susan, about_me="hi", current_password=PASSWORD))

    assert done.location == "/user/susan"
    assert flashes(susan.get(done.location)) == ["Your changes have been saved."]
    susan.logout()
    assert susan.login("susan", PASSWORD).location == "/"  # the password is as it was
