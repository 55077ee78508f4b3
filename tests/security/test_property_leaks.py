"""API3:2023 Broken object property-level authorization: no representation or error shows an
email address (but the owner's own), a password or its hash, a token or its hash, or a message
to somebody else.

Rather than checking field names, the raw text of every answer is searched for the secrets
themselves, taken from the database, so a secret is caught in any field, header or error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from microblog.accounts.models import Token, User
from microblog.extensions import db
from tests.security.security_support import build_world
from tests.support import ApiUser, basic_auth
from tests.tasks.task_support import start_export, wait_for_task
from tests.web.web_support import Browser


def _secrets_of_everyone(app: Flask, people: Iterable[ApiUser]) -> dict[str, str]:
    """{what: secret text} for every person: password, hash, token, token hashes, email, and
    the email's MD5 and SHA-256 (Gravatar's keys: anyone can confirm a guessed address)."""
    found: dict[str, str] = {}
    with app.app_context():
        for user in db.session.scalars(sa.select(User)):
            found[f"{user.username}'s password hash"] = user.password_hash
        for token in db.session.scalars(sa.select(Token)):
            found[f"token hash {token.id}"] = token.hash
        db.session.rollback()
    for person in people:
        found[f"{person.username}'s password"] = person.password
        found[f"{person.username}'s token"] = person.token
        found[f"{person.username}'s email"] = person.email
        address = person.email.strip().lower().encode()
        found[f"{person.username}'s email MD5"] = hashlib.md5(address).hexdigest()
        found[f"{person.username}'s email SHA-256"] = hashlib.sha256(address).hexdigest()
    return found


def _answer_text(response: TestResponse) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return f"{headers}\n{response.get_data(as_text=True)}".lower()


def _assert_shows_none(
    where: str, response: TestResponse, secrets: dict[str, str], allowed: Iterable[str] = ()
) -> None:
    text = _answer_text(response)
    shown = [
        what for what, secret in secrets.items() if what not in allowed and secret.lower() in text
    ]
    assert not shown, f"{where} shows {shown}"
    assert "$argon2" not in text, where


def test_no_answer_of_the_api_shows_anothers_secrets(
    app: Flask, client: FlaskClient, victim: ApiUser, attacker: ApiUser, third: ApiUser
) -> None:
    world = build_world(client, victim, third)
    # The attacker has a life too: a message from the victim, a follow, an export of their own.
    to_attacker = {"recipient_id": attacker.id, "body": "hello attacker"}
    assert client.post("/api/messages", json=to_attacker, headers=victim.headers).status_code == 201
    assert (
        client.post(f"/api/me/following/{victim.id}", headers=attacker.headers).status_code == 204
    )
    own_task = start_export(client, attacker.headers)
    wait_for_task(client, attacker.headers, own_task["id"])
    secrets = _secrets_of_everyone(app, (victim, attacker, third))
    secrets["the victim's message to third"] = world.message_body
    own_email = "attacker's email"

    def get(path: str) -> TestResponse:
        return client.get(path, headers=attacker.headers)

    answers = {
        "GET /api/me": (get("/api/me"), {own_email}),
        "GET /api/users/<attacker>": (get(f"/api/users/{attacker.id}"), {own_email}),
        "GET /api/users": (get("/api/users?per_page=100"), set()),
        "GET /api/users/<victim>": (get(f"/api/users/{victim.id}"), set()),
        "GET followers": (get(f"/api/users/{victim.id}/followers"), set()),
        "GET following": (get(f"/api/users/{victim.id}/following"), set()),
        "GET user posts": (get(f"/api/users/{victim.id}/posts"), set()),
        "GET /api/posts": (get("/api/posts"), set()),
        "GET /api/posts/<id>": (get(f"/api/posts/{world.post_id}"), set()),
        "GET /api/feed": (get("/api/feed"), set()),
        "GET /api/search posts": (get("/api/search?q=victim"), set()),
        "GET /api/search users": (get("/api/search?q=victim&type=users"), set()),
        "GET /api/search email": (get("/api/search?q=example&type=users"), set()),
        "GET /api/messages": (get("/api/messages"), set()),
        "GET /api/messages/sent": (get("/api/messages/sent"), set()),
        "GET /api/notifications": (get("/api/notifications"), set()),
        "GET /api/tasks": (get("/api/tasks"), set()),
        "GET own export": (get(f"/api/tasks/{own_task['id']}/result"), set()),
        "GET victim's message": (get(f"/api/messages/{world.message_id}"), set()),
        "GET victim's task": (get(f"/api/tasks/{world.task_id}"), set()),
        "GET victim's export": (get(f"/api/tasks/{world.task_id}/result"), set()),
        "PUT victim's account": (
            client.put(f"/api/users/{victim.id}", json={"about_me": "x"}, headers=attacker.headers),
            set(),
        ),
        "PUT victim's post": (
            client.put(f"/api/posts/{world.post_id}", json={"body": "x"}, headers=attacker.headers),
            set(),
        ),
        "POST /api/users with a taken email": (
            client.post(
                "/api/users",
                json={"username": "copycat", "email": victim.email, "password": "x" * 12},
            ),
            {"victim's email"},  # the address the client itself sent, told back as taken
        ),
        "POST /api/users with a taken username": (
            client.post(
                "/api/users",
                json={"username": "victim", "email": "new@example.com", "password": "x" * 12},
            ),
            set(),
        ),
        "POST /api/tokens with a wrong password": (
            client.post("/api/tokens", headers=basic_auth("victim", "wrong-password")),
            set(),
        ),
        "GET with an unknown token": (
            client.get("/api/me", headers={"Authorization": "Bearer " + "0" * 64}),
            set(),
        ),
    }
    for where, (response, allowed) in answers.items():
        assert response.status_code < 500, where
        _assert_shows_none(where, response, secrets, allowed)
    # The owner's own representation is the one place their address appears.
    assert attacker.email in get("/api/me").get_data(as_text=True)


def test_no_page_of_the_site_shows_anothers_secrets(
    app: Flask, client: FlaskClient, victim: ApiUser, attacker: ApiUser, third: ApiUser
) -> None:
    world = build_world(client, victim, third)
    to_attacker = {"recipient_id": attacker.id, "body": "hello attacker"}
    assert client.post("/api/messages", json=to_attacker, headers=victim.headers).status_code == 201
    secrets = _secrets_of_everyone(app, (victim, attacker, third))
    secrets["the victim's message to third"] = world.message_body
    browser = Browser(app.test_client())
    assert browser.login("attacker", attacker.password).status_code == 302

    pages = [
        "/",
        "/explore",
        "/user/victim",
        "/user/victim/popup",
        "/user/attacker",
        "/search?q=victim",
        "/messages",
        "/send_message/victim",
        "/edit_profile",
        "/sessions",
        f"/export/{world.task_id}",
        f"/export/{world.task_id}/status",
        f"/export/{world.task_id}/download",
        "/fragments/unread",
        "/nowhere",
    ]
    for path in pages:
        response = browser.get(path)
        assert response.status_code in (200, 404), path
        # The profile editor shows the person their own address, to change it.
        own = {"attacker's email"} if path == "/edit_profile" else set()
        _assert_shows_none(f"GET {path}", response, secrets, own)
