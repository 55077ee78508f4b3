"""Deleting one's account on the site: a link on the edit-profile page leads to a page that
warns, asks for the password and deletes everything of the person, who is then signed out."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tests.web.web_support import (
    PASSWORD,
    Browser,
    field_errors,
    flashes,
    labels,
    post_bodies,
    text,
)

PAGE = "/delete_account"


def test_the_edit_profile_page_links_to_the_deletion_page(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan")

    profile = text(susan.get("/edit_profile"))

    assert f'href="{PAGE}">Delete my account</a>' in profile


def test_the_page_warns_asks_for_the_password_and_has_a_red_button(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan")

    page = susan.get(PAGE)

    assert page.status_code == 200
    assert "It cannot be undone." in text(page)
    assert labels(page) == ["Password"]
    assert 'type="password"' in text(page)
    assert 'class="btn btn-danger"' in text(page) and 'value="Delete my account"' in text(page)


def test_the_page_is_for_someone_signed_in(browser: Browser) -> None:
    page = browser.get(PAGE)

    assert (page.status_code, page.location) == (302, "/login?next=%2Fdelete_account")


def test_a_wrong_password_is_shown_on_the_field_and_deletes_nothing(
    signed_in: Callable[..., Browser],
) -> None:
    susan = signed_in("susan")
    susan.write("still here")

    wrong = susan.submit(PAGE, {"password": "wrong-horse"})
    empty = susan.submit(PAGE, {"password": ""})

    assert wrong.status_code == 200
    assert field_errors(wrong) == ["password is not the current password"]
    assert field_errors(empty) == ["This field is required."]
    assert susan.signed_in_as() == "susan"
    assert post_bodies(susan.get("/explore")) == ["still here"]


def test_deleting_signs_out_and_the_person_is_gone_for_good(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    susan = signed_in("susan")
    john = signed_in("john")
    susan.write("my last words")
    john.follow("susan")
    laptop = Browser(app.test_client())
    laptop.login("susan", remember=True)

    done = susan.submit(PAGE, {"password": PASSWORD})

    assert (done.status_code, done.location) == (302, "/login")
    assert flashes(susan.get("/login")) == ["Your account has been deleted."]
    assert susan.signed_in_as() is None
    assert flashes(susan.login("susan")) == ["Invalid username or password."]
    laptop.client.delete_cookie("session")
    assert laptop.signed_in_as() is None  # the remember-me cookie names no one now
    assert john.get("/user/susan").status_code == 404
    assert post_bodies(john.get("/explore")) == []
    assert "<strong>0</strong> following" in text(john.get("/user/john"))


def test_deleting_needs_the_csrf_token(signed_in: Callable[..., Browser]) -> None:
    susan = signed_in("susan")

    for token in (None, "not-the-token"):
        data = (
            {"password": PASSWORD} if token is None else {"password": PASSWORD, "csrf_token": token}
        )
        refused = susan.post(PAGE, data, token_from=None)
        assert refused.status_code == 400
        assert "CSRF" in text(refused)

    assert susan.signed_in_as() == "susan"


def test_the_page_and_its_messages_in_spanish(signed_in: Callable[..., Browser]) -> None:
    susan = signed_in("susan", language="es")

    assert ">Eliminar mi cuenta</a>" in text(susan.get("/edit_profile"))
    page = susan.get(PAGE)
    assert "No se puede deshacer." in text(page)
    assert labels(page) == ["Contraseña"]
    assert 'value="Eliminar mi cuenta"' in text(page)
    wrong = susan.submit(PAGE, {"password": "wrong-horse"})
    assert field_errors(wrong) == ["la contraseña no es la actual"]
    done = susan.submit(PAGE, {"password": PASSWORD})
    assert flashes(susan.get(done.location)) == ["Tu cuenta ha sido eliminada."]
