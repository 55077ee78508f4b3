"""Registering, signing in and out, remember-me, and where sign-in leads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.support import basic_auth
from tests.web.web_support import (
    PASSWORD,
    Browser,
    cookies_set,
    field_errors,
    flashes,
    labels,
    text,
)


def test_register_then_sign_in_then_out(browser: Browser) -> None:
    page = browser.get("/register")
    assert page.status_code == 200
    assert labels(page) == ["Username", "Email", "Password", "Repeat password"]

    registered = browser.register("susan")
    assert registered.status_code == 302 and registered.location == "/login"
    assert flashes(browser.get("/login")) == ["Welcome to Microblog! You can sign in now."]

    signed_in = browser.login("susan")
    assert signed_in.status_code == 302 and signed_in.location == "/"
    home = browser.get("/")
    assert home.status_code == 200
    assert "Hi, susan!" in text(home)
    assert browser.signed_in_as() == "susan"

    out = browser.logout()
    assert out.status_code == 302 and out.location == "/"
    assert browser.get("/").status_code == 302
    assert browser.signed_in_as() is None


def test_sign_in_with_the_email_address_and_any_case_of_the_username(browser: Browser) -> None:
    browser.register("Susan")
    assert browser.login("SUSAN@example.com").location == "/"
    browser.logout()
    assert browser.login("sUsAn").location == "/"
    assert browser.signed_in_as() == "Susan"


@pytest.mark.parametrize(
    ("username", "email", "error"),
    [
        ("susan", "other@example.com", "please use a different username"),
        ("SUSAN", "other@example.com", "please use a different username"),
        ("other", "susan@example.com", "please use a different email address"),
        ("other", "Susan@EXAMPLE.com", "please use a different email address"),
    ],
)
def test_a_taken_username_or_email_in_any_case_is_shown_on_its_field(
    browser: Browser, username: str, email: str, error: str
) -> None:
    browser.register("susan")
    page = browser.register(username, email=email)
    assert page.status_code == 200
    assert field_errors(page) == [error]
    # No account was made: whichever of the two was free signs nobody in.
    free = email if "username" in error else username
    assert browser.login(free).status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"password2": "something-else"}, "Passwords must match."),
        ({"password": "short", "password2": "short"}, "password must be 8 to 256 characters"),
        ({"username": "no spaces"}, "username must be 1 to 64 characters"),
        ({"email": "not-an-address"}, "email is not a valid address"),
        ({"username": ""}, "This field is required."),
    ],
)
def test_registration_mistakes_are_shown_on_the_form(
    browser: Browser, form: dict[str, str], error: str
) -> None:
    data = {
        "username": "susan",
        "email": "susan@example.com",
        "password": PASSWORD,
        "password2": PASSWORD,
        **form,
    }
    page = browser.submit("/register", data)
    assert page.status_code == 200
    [shown] = field_errors(page)
    assert shown.startswith(error)
    assert browser.login("susan").status_code == 200


@pytest.mark.parametrize("who", ["susan", "nobody"])
def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    browser: Browser, who: str
) -> None:
    browser.register("susan")
    page = browser.login(who, "wrong-password")
    assert page.status_code == 200
    assert flashes(page) == ["Invalid username or password."]
    assert browser.signed_in_as() is None


@pytest.mark.parametrize(
    ("target", "lands_on"),
    [
        ("/explore", "/explore"),
        ("/user/susan?max_id=5", "/user/susan?max_id=5"),
        ("//evil.com", "/"),
        ("///evil.com", "/"),
        ("https://evil.com", "/"),
        ("https:evil.com", "/"),
        ("/%5Cevil.com", "/"),  # /\evil.com
        ("%5C%5Cevil.com", "/"),
        ("/%09/evil.com", "/"),  # a tab, which browsers drop
        ("/%0A/evil.com", "/"),
        ("%20//evil.com", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_sign_in_goes_on_to_next_only_on_this_site(
    browser: Browser, target: str, lands_on: str
) -> None:
    browser.register("susan")
    response = browser.login("susan", next=target)
    assert response.status_code == 302
    assert response.location == lands_on


def test_a_page_that_needs_signing_in_comes_back_after_it(browser: Browser) -> None:
    browser.register("susan")
    browser.get("/login")  # where registering leads, with its welcome
    away = browser.get("/explore?max_id=3")
    assert away.status_code == 302
    assert away.location == "/login?next=%2Fexplore%3Fmax_id%3D3"
    page = browser.get(away.location)
    assert flashes(page) == ["Please sign in to see this page."]
    back = browser.submit(
        away.location, {"username": "susan", "password": PASSWORD}, action=away.location
    )
    assert back.location == "/explore?max_id=3"


def test_a_script_whose_session_ended_gets_401_not_the_sign_in_page(browser: Browser) -> None:
    for path in ("/fragments/unread", "/user/susan/popup", "/fragments/translate/1"):
        response = browser.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 401, path
        assert response.json is not None and response.json["error"] == "Unauthorized"


def test_signing_out_is_post_only(signed_in: Callable[..., Browser]) -> None:
    susan = signed_in("susan")
    assert susan.get("/logout").status_code == 405
    assert susan.signed_in_as() == "susan"
    assert susan.logout().status_code == 302
    assert susan.signed_in_as() is None


def test_signed_in_people_are_sent_home_from_the_sign_in_pages(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan")
    for path in ("/login", "/register", "/reset_password_request", "/reset_password/x"):
        response = susan.get(path)
        assert (response.status_code, response.location) == (302, "/"), path


def test_remember_me_sets_an_httponly_remember_cookie_and_without_it_there_is_none(
    browser: Browser,
) -> None:
    browser.register("susan")
    plain = browser.login("susan")
    assert "remember_token" not in cookies_set(plain)
    assert "HttpOnly" in cookies_set(plain)["session"]
    browser.logout()

    remembered = browser.login("susan", remember=True)
    cookie = cookies_set(remembered)["remember_token"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie


def test_the_remember_cookie_signs_in_a_browser_whose_session_ended(
    app: Flask, browser: Browser
) -> None:
    browser.register("susan")
    browser.login("susan", remember=True)
    browser.client.delete_cookie("session")  # the browser was closed
    assert browser.signed_in_as() == "susan"

    signed_out = cookies_set(browser.logout())["remember_token"]  # signing out forgets it
    assert "Expires=Thu, 01 Jan 1970" in signed_out
    browser.client.delete_cookie("session")
    assert browser.signed_in_as() is None

    forgetful = Browser(app.test_client())
    forgetful.login("susan")
    forgetful.client.delete_cookie("session")
    assert forgetful.signed_in_as() is None


def test_changing_the_password_ends_every_other_session_and_remember_cookie(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    susan = signed_in("susan")
    laptop = Browser(app.test_client())
    laptop.login("susan", remember=True)
    api = app.test_client()
    token = api.post("/api/tokens", headers=basic_auth("susan", PASSWORD)).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = api.get("/api/me", headers=headers).get_json()

    changed = api.put(
        f"/api/users/{me['id']}",
        json={"old_password": PASSWORD, "password": "a-new-password"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.json

    assert susan.signed_in_as() is None
    laptop.client.delete_cookie("session")
    assert laptop.signed_in_as() is None
    assert laptop.login("susan").status_code == 200
    assert laptop.login("susan", "a-new-password").status_code == 302
