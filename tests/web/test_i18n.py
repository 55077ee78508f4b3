"""English by default, Spanish for readers whose Accept-Language asks for it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.web.web_support import Browser, field_errors, flashes, labels, text


def test_english_is_the_default(app: Flask) -> None:
    for language in (None, "fr, de;q=0.8", "en-GB", "*", "es;q=0, en;q=0.1"):
        person = Browser(app.test_client(), language=language)
        page = person.get("/login")
        assert '<html lang="en">' in text(page)
        assert labels(page) == ["Username or email", "Password", "Remember me"]
        assert 'value="Sign in"' in text(page)


@pytest.mark.parametrize(
    ("accept", "language"),
    [
        ("en-US,es;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,en-US;q=0.8,es;q=0.7", "en"),
        ("de, es-MX;q=0.8, en;q=0.5", "es"),
        ("ES", "es"),
        ("es-419", "es"),
        ("en;q=0.5, es_ES", "es"),
    ],
)
def test_the_most_preferred_language_wins_whatever_its_region(
    app: Flask, accept: str, language: str
) -> None:
    page = Browser(app.test_client(), language=accept).get("/login")
    assert f'<html lang="{language}">' in text(page)


def test_spanish_pages_flashes_form_labels_and_errors(app: Flask) -> None:
    person = Browser(app.test_client(), language="es-ES,es;q=0.9,en;q=0.5")
    page = person.get("/register")
    html = text(page)
    assert '<html lang="es">' in html
    assert "<title>Registrarse · Microblog</title>" in html
    assert labels(page) == [
        "Nombre de usuario",
        "Correo electrónico",
        "Contraseña",
        "Repite la contraseña",
    ]
    assert ">Iniciar sesión</a>" in html

    person.register("susan")
    assert flashes(person.get("/login")) == ["¡Bienvenido a Microblog! Ya puedes iniciar sesión."]
    mismatch = person.submit(
        "/register",
        {"username": "x", "email": "x@example.com", "password": "12345678", "password2": "1"},
    )
    assert field_errors(mismatch) == ["Las contraseñas deben coincidir."]
    taken = person.register("susan")
    assert field_errors(taken) == ["por favor, usa otro nombre de usuario"]

    login = person.get("/login")
    assert labels(login) == ["Nombre de usuario o correo", "Contraseña", "Recordarme"]
    assert flashes(person.login("susan", "wrong-password")) == [
        "Nombre de usuario o contraseña no válidos."
    ]
    assert flashes(person.get(person.get("/explore").location)) == [
        "Inicia sesión para ver esta página."
    ]
    empty = person.submit("/login", {"username": "", "password": ""})
    assert field_errors(empty) == ["Este campo es obligatorio."] * 2


def test_spanish_for_someone_signed_in(signed_in: Callable[..., Browser]) -> None:
    signed_in("john").write("hola")
    susan = signed_in("susan", language="es")
    home = text(susan.get("/"))
    for shown in ("¡Hola, susan!", ">Inicio</a>", ">Explorar</a>", ">Mensajes", ">Perfil</a>"):
        assert shown in home, shown
    assert "Cerrar sesión" in home and 'placeholder="Buscar"' in home
    assert labels(susan.get("/")) == ["Di algo"]
    susan.write("una publicación")
    assert flashes(susan.get("/")) == ["¡Tu publicación ya está en línea!"]
    susan.follow("john")
    profile = susan.get("/user/john")
    assert flashes(profile) == ["Ahora sigues a john."]
    assert "Dejar de seguir" in text(profile) and "Enviar mensaje privado" in text(profile)
    assert "Visto por última vez" in text(profile)
    susan.post("/follow/susan", token_from="/user/susan")
    assert flashes(susan.get("/user/susan")) == ["no puedes seguirte a ti mismo"]
    assert labels(susan.get("/edit_profile")) == [
        "Nombre de usuario",
        "Correo electrónico",
        "Acerca de mí",
        "Nueva contraseña (déjala vacía para conservar la tuya)",
        "Repite la nueva contraseña",
        "Contraseña actual (para cambiar el correo o la contraseña)",
    ]
    search = susan.get("/search", query_string={"q": '"abierta'})
    assert "la búsqueda tiene comillas sin cerrar" in text(search)
    assert "Nadie coincide con" in text(susan.get("/search?q=zzz&type=users"))
    card = text(susan.get("/user/john/popup"))
    assert "1 seguidor ·" in card and "Lo sigues" in card
    assert "Todavía no hay mensajes." in text(susan.get("/messages"))


@pytest.mark.parametrize(
    ("language", "title", "back"),
    [
        ("en", "404 Not Found", "Back to Microblog"),
        ("es", "404 Página no encontrada", "Volver a Microblog"),
    ],
)
def test_the_error_page_speaks_the_reader_s_language(
    app: Flask, language: str, title: str, back: str
) -> None:
    page = Browser(app.test_client(), language=language).get("/nowhere")
    assert page.status_code == 404
    assert f"<h1>{title}</h1>" in text(page)
    assert f'<html lang="{language}">' in text(page) and back in text(page)


def test_every_answer_of_the_site_varies_by_language(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    """So a shared cache never gives one reader's Spanish page to another who reads English."""
    susan = signed_in("susan")
    anonymous = Browser(app.test_client(), language="es")
    answers = {
        "signed out, /login": anonymous.get("/login"),
        "signed out, /register": anonymous.get("/register"),
        "signed out, / (to sign in)": anonymous.get("/"),
        "a 404 page": anonymous.get("/nowhere"),
        "a 404 for a static file": anonymous.get("/static/nowhere.css"),
        "a refused form": anonymous.post("/login", {}, token_from=None),
        "a sign-in": anonymous.login("susan"),
        "/": susan.get("/"),
        "/explore": susan.get("/explore"),
        "a profile": susan.get("/user/susan"),
        "a profile card": susan.get("/user/susan/popup"),
        "/search": susan.get("/search?q=x"),
        "/messages": susan.get("/messages"),
        "/edit_profile": susan.get("/edit_profile"),
    }
    for what, answer in answers.items():
        assert "Accept-Language" in answer.vary, what


def test_the_api_and_static_files_do_not_vary_by_language(app: Flask) -> None:
    client = app.test_client()
    for path in ("/api/users", "/api/nowhere", "/static/app.css"):
        with client.get(path, headers={"Accept-Language": "es"}) as answer:  # a file: closed
            assert answer.status_code in (200, 401, 404), path
            assert "Accept-Language" not in answer.vary, path
