"""The forms leave the rules to the domain: its messages show on the fields, in the reader's
language, and text the domain accepts (once trimmed) is not refused by a form. The browser
still gets the limits as attributes of the inputs."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask

from microblog.accounts import rules
from microblog.accounts.services import get_by_username
from microblog.extensions import db
from microblog.messaging.models import MESSAGE_MAX
from microblog.posts.services import BODY_MAX
from microblog.web.auth import reset_token
from tests.web.web_support import (
    PASSWORD,
    Browser,
    field_errors,
    message_bodies,
    post_bodies,
    text,
)

TOO_LONG_USERNAME = "u" * (rules.USERNAME_MAX + 1)
USERNAME_RULE = {
    "en": "username must be 1 to 64 characters of letters, digits, '_', '.' or '-'",
    "es": "el nombre de usuario debe tener de 1 a 64 caracteres: letras, dígitos, '_', '.' o '-'",
}
# Spaces, a tab and line breaks: all trimmed by the domain.
AROUND = (" \t\r\n ", " \r\n")


def around(core: str) -> str:
    return AROUND[0] + core + AROUND[1]


def reset_link(app: Flask, username: str) -> str:
    with app.app_context():
        return f"/reset_password/{reset_token(get_by_username(db.session, username))}"


def registration(**fields: str) -> dict[str, str]:
    return {
        "username": "susan",
        "email": "susan@example.com",
        "password": PASSWORD,
        "password2": PASSWORD,
        **fields,
    }


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_too_long_username_on_registration_shows_the_domain_s_message(
    app: Flask, language: str
) -> None:
    person = Browser(app.test_client(), language=language)
    page = person.submit("/register", registration(username=TOO_LONG_USERNAME))
    assert page.status_code == 200
    assert field_errors(page) == [USERNAME_RULE[language]]
    assert 'id="username" maxlength="64" name="username"' in text(page)  # marked, kept
    assert person.login(TOO_LONG_USERNAME).status_code == 200  # no account was made


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_too_long_username_on_the_profile_shows_the_domain_s_message(
    signed_in: Callable[..., Browser], language: str
) -> None:
    susan = signed_in("susan", language=language)
    page = susan.submit(
        "/edit_profile",
        {"username": TOO_LONG_USERNAME, "email": "susan@example.com", "about_me": ""},
    )
    assert page.status_code == 200
    assert field_errors(page) == [USERNAME_RULE[language]]
    assert susan.signed_in_as() == "susan"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "email must be at most 254 characters"),
        ("es", "el correo debe tener como máximo 254 caracteres"),
    ],
)
def test_a_too_long_email_on_registration_shows_the_domain_s_message(
    app: Flask, language: str, message: str
) -> None:
    person = Browser(app.test_client(), language=language)
    address = "s" * (rules.EMAIL_MAX - len("@example.com") + 1) + "@example.com"
    page = person.submit("/register", registration(email=address))
    assert field_errors(page) == [message]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "password must be 8 to 256 characters"),
        ("es", "la contraseña debe tener de 8 a 256 caracteres"),
    ],
)
@pytest.mark.parametrize("length", [rules.PASSWORD_MIN - 1, rules.PASSWORD_MAX + 1])
def test_a_password_of_the_wrong_length_shows_the_domain_s_message_on_registration_and_reset(
    app: Flask, signed_in: Callable[..., Browser], language: str, message: str, length: int
) -> None:
    password = "p" * length
    person = Browser(app.test_client(), language=language)
    page = person.submit("/register", registration(password=password, password2=password))
    assert field_errors(page) == [message]

    signed_in("john")
    link = reset_link(app, "john")
    page = person.submit(link, {"password": password, "password2": password})
    assert page.status_code == 200
    assert field_errors(page) == [message]
    assert person.login("john").location == "/"  # the password is unchanged


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", f"body must be at most {BODY_MAX} characters"),
        ("es", f"el texto debe tener como máximo {BODY_MAX} caracteres"),
    ],
)
def test_a_post_over_the_longest_length_shows_the_domain_s_message(
    signed_in: Callable[..., Browser], language: str, message: str
) -> None:
    susan = signed_in("susan", language=language)
    page = susan.write(around("x" * (BODY_MAX + 1)))
    assert page.status_code == 200
    assert field_errors(page) == [message]
    assert post_bodies(susan.get("/explore")) == []


def test_a_post_within_the_limit_once_trimmed_is_taken_not_refused(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan")
    assert susan.write(around("y" * BODY_MAX)).status_code == 302
    assert post_bodies(susan.get("/")) == ["y" * BODY_MAX]


def test_an_about_me_within_the_limit_once_trimmed_is_saved_not_refused(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan")
    about = "a" * rules.ABOUT_ME_MAX
    saved = susan.submit(
        "/edit_profile",
        {"username": "susan", "email": "susan@example.com", "about_me": around(about)},
    )
    assert (saved.status_code, saved.location) == (302, "/user/susan")
    assert f'<p class="about-me">{about}</p>' in text(susan.get("/user/susan"))


def test_a_message_within_the_limit_once_trimmed_is_sent_not_refused(
    signed_in: Callable[..., Browser],
) -> None:
    john = signed_in("john")
    susan = signed_in("susan")
    sent = susan.send_message("john", around("m" * MESSAGE_MAX))
    assert sent.status_code == 302
    assert john.get("/fragments/unread").json == {"count": 1}
    assert message_bodies(john.get("/messages")) == ["m" * MESSAGE_MAX]


INPUT = re.compile(r"<(?:input|textarea)\b[^>]*>")


def attributes(page: str, name: str) -> dict[str, str]:
    """The attributes of the form's input (or textarea) named `name`."""
    [tag] = [tag for tag in INPUT.findall(page) if f'name="{name}"' in tag]
    return dict(re.findall(r'(\w+)(?:="([^"]*)")?', tag[1:-1])[1:])


LIMITS = {
    "/register": {
        "username": {"maxlength": "64"},
        "email": {"maxlength": "254"},
        "password": {"minlength": "8", "maxlength": "256"},
    },
    "/reset_password_request": {"email": {"maxlength": "254"}},
    "{reset}": {"password": {"minlength": "8", "maxlength": "256"}},
    "/edit_profile": {
        "username": {"maxlength": "64"},
        "email": {"maxlength": "254"},
        "about_me": {"maxlength": "140"},
        "password": {"minlength": "8", "maxlength": "256"},
    },
    "/": {"post": {"maxlength": "280"}},
    "/send_message/john": {"message": {"maxlength": "1000"}},
}
SIGNED_OUT_PAGES = ("/register", "/reset_password_request", "{reset}")
# Left empty, they keep what is there: the about-me may be cleared, the password kept.
OPTIONAL = {("/edit_profile", "about_me"), ("/edit_profile", "password")}


@pytest.mark.parametrize("page", list(LIMITS))
def test_the_inputs_still_carry_the_domain_s_limits_for_the_browser(
    app: Flask, signed_in: Callable[..., Browser], page: str
) -> None:
    john = signed_in("john")
    person = Browser(app.test_client()) if page in SIGNED_OUT_PAGES else john
    html = text(person.get(page.format(reset=reset_link(app, "john"))))
    for name, limits in LIMITS[page].items():
        shown = attributes(html, name)
        assert {key: shown.get(key) for key in limits} == limits, name
        # Required where the form (or the domain) refuses an empty field.
        assert ("required" in shown) == ((page, name) not in OPTIONAL), name
