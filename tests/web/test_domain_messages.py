"""The domain's refusals that carry values (a name, a number, a library's reason) reach a
Spanish reader in Spanish, the values filled in; an English reader sees the domain's own words."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from email_validator import EmailNotValidError, validate_email
from flask import Flask
from sqlalchemy import select

from microblog.accounts.models import User
from microblog.extensions import db
from microblog.posts.search_query import MAX_QUERY_LENGTH
from microblog.tasks.services import STARTS_ALLOWED, STARTS_WINDOW
from tests.tasks.task_support import finished_exports
from tests.web.web_support import Browser, field_errors, flashes, text


def validator_reason(address: str) -> str:
    """email-validator's own (English) reason for refusing `address`."""
    with pytest.raises(EmailNotValidError) as refused:
        validate_email(address, check_deliverability=False)
    return str(refused.value)


@pytest.mark.parametrize(
    ("language", "already", "not_following"),
    [
        ("es", "ya sigues a john", "no sigues a john"),
        ("en", "you already follow john", "you do not follow john"),
    ],
)
def test_following_twice_or_unfollowing_a_stranger_names_them_in_the_reader_s_language(
    signed_in: Callable[..., Browser], language: str, already: str, not_following: str
) -> None:
    signed_in("john")
    susan = signed_in("susan", language=language)
    susan.follow("john")
    assert flashes(susan.get(susan.follow("john").location)) == [already]
    susan.unfollow("john")
    assert flashes(susan.get(susan.unfollow("john").location)) == [not_following]


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("es", "el correo no es una dirección válida: "),
        ("en", "email is not a valid address: "),
    ],
)
def test_an_invalid_email_on_registration_translates_the_sentence_not_the_validator_s_reason(
    app: Flask, language: str, sentence: str
) -> None:
    person = Browser(app.test_client(), language=language)
    page = person.register("susan", email="not-an-address")
    assert page.status_code == 200
    assert field_errors(page) == [sentence + validator_reason("not-an-address")]


TOO_OFTEN = {
    "es": "puedes iniciar {} tareas export_posts por hora; vuelve a intentarlo dentro de {}",
    "en": "you may start {} export_posts tasks per hour; try again in {}",
}


@pytest.mark.parametrize(
    ("language", "leaves_window_in", "when"),
    [
        ("es", 10, "10 minutos"),
        ("es", 0.5, "1 minuto"),
        ("en", 10, "10 minutes"),
        ("en", 0.5, "1 minute"),
    ],
)
def test_an_export_past_the_hourly_allowance_says_when_to_retry_in_the_reader_s_language(
    app: Flask,
    signed_in: Callable[..., Browser],
    language: str,
    leaves_window_in: float,
    when: str,
) -> None:
    susan = signed_in("susan", language=language)
    window = STARTS_WINDOW.total_seconds() / 60
    with app.app_context():
        susan_id = db.session.scalar(select(User.id).where(User.username == "susan"))
    # The oldest start leaves the window in `leaves_window_in` minutes.
    finished_exports(app, susan_id, window - leaves_window_in, *[1] * (STARTS_ALLOWED - 1))

    refused = susan.post("/export", token_from="/user/susan")

    assert (refused.status_code, refused.location) == (302, "/user/susan")
    assert flashes(susan.get("/user/susan")) == [TOO_OFTEN[language].format(STARTS_ALLOWED, when)]


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("es", f"la búsqueda debe tener como máximo {MAX_QUERY_LENGTH} caracteres"),
        ("en", f"q must be at most {MAX_QUERY_LENGTH} characters"),
    ],
)
def test_a_search_too_long_is_refused_in_the_reader_s_language(
    signed_in: Callable[..., Browser], language: str, refusal: str
) -> None:
    susan = signed_in("susan", language=language)
    page = susan.get("/search", query_string={"q": "x" * (MAX_QUERY_LENGTH + 1)})
    assert refusal in text(page)


def test_translating_a_post_that_does_not_exist_says_so_in_spanish(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    # A service that is never called: the post is looked for first.
    app.config["LIBRETRANSLATE_URL"] = "http://127.0.0.1:9"
    susan = signed_in("susan", language="es")
    answer = susan.get("/fragments/translate/999999", headers={"Accept": "application/json"})
    assert answer.status_code == 404
    assert answer.json == {"error": "la publicación 999999 no existe"}
