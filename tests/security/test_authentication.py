"""API2:2023 Broken authentication: tokens that cannot be guessed and are stored hashed,
Argon2id at current parameters, and no way to tell which accounts exist — neither from the
answers nor from their timing — at `POST /api/tokens` and at the password-reset request."""

from __future__ import annotations

import asyncio
import hashlib
import re
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from microblog import config as settings
from microblog.accounts import passwords
from microblog.accounts.models import Token
from microblog.extensions import db
from tests.server.live_support import run_live_server
from tests.support import FAST_HASH, ApiUser, basic_auth
from tests.tasks.task_support import Inbox
from tests.web.web_support import CSRF_FIELD

# OWASP's least Argon2id parameters (19 MiB, 2 passes): slow enough that skipping the KDF for
# an unknown user would stand out from the noise of a shared machine.
OWASP_MINIMUM_HASH = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
TRIES = 11
# More tries where a figure is compared with the KDF's: its time swings most with machine load.
KDF_TRIES = 21
# Headers that differ between any two answers.
PER_RESPONSE = {"X-Request-ID", "Date"}


def test_tokens_carry_256_random_bits_and_only_their_sha256_is_stored(
    app: Flask, client: FlaskClient, victim: ApiUser
) -> None:
    tokens = [
        client.post("/api/tokens", headers=basic_auth("victim", victim.password)).json["token"]
        for _ in range(3)
    ] + [victim.token]

    assert all(re.fullmatch(r"[0-9a-f]{64}", token) for token in tokens)  # 32 bytes: 256 bits
    assert len(set(tokens)) == len(tokens)
    with app.app_context():
        stored = set(db.session.scalars(sa.select(Token.hash)))
    assert stored == {hashlib.sha256(token.encode()).hexdigest() for token in tokens}
    assert not stored & set(tokens)


def test_passwords_are_hashed_with_argon2id_at_the_configured_parameters(database_url: str) -> None:
    from microblog import create_app

    assert settings.DEFAULTS["PASSWORD_HASH"] == {
        "time_cost": 3,
        "memory_cost": 65536,
        "parallelism": 4,
    }
    try:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
        hashed = passwords.hash_password("correct-horse")
    finally:
        passwords.configure(FAST_HASH)  # what the other test apps use
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def _comparable(response: TestResponse) -> tuple[int, str, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in PER_RESPONSE}
    return response.status_code, response.get_data(as_text=True), headers


def test_an_unknown_user_and_a_wrong_password_get_identical_answers(
    client: FlaskClient, victim: ApiUser
) -> None:
    unknown = client.post("/api/tokens", headers=basic_auth("nobody", "guess-guess"))
    wrong = client.post("/api/tokens", headers=basic_auth("victim", "guess-guess"))
    unknown_email = client.post("/api/tokens", headers=basic_auth("no@example.com", "guess-guess"))

    assert unknown.status_code == 401
    assert _comparable(unknown) == _comparable(wrong) == _comparable(unknown_email)


def _medians(*actions: Callable[[], Any], tries: int = TRIES) -> list[float]:
    """Median seconds of each action, measured in turn so all meet the same machine load: a
    figure measured apart from the others can land in a quieter or busier moment."""
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(tries):
        for action, spent in zip(actions, times, strict=True):
            start = time.perf_counter()
            action()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def test_an_unknown_user_takes_as_long_as_a_wrong_password(
    make_other_app: Callable[..., Flask],
) -> None:
    app = make_other_app(PASSWORD_HASH=OWASP_MINIMUM_HASH)
    client = app.test_client()
    body = {"username": "victim", "email": "victim@example.com", "password": "victims-secret-1"}
    assert client.post("/api/users", json=body).status_code == 201

    def unknown() -> None:
        assert client.post("/api/tokens", headers=basic_auth("nobody", "guess")).status_code == 401

    def wrong() -> None:
        assert client.post("/api/tokens", headers=basic_auth("victim", "guess")).status_code == 401

    def kdf_alone() -> None:
        passwords.verify_password(None, "guess-guess")

    kdf, unknown_median, wrong_median = _medians(kdf_alone, unknown, wrong, tries=KDF_TRIES)

    print(f"KDF {kdf * 1000:.1f} ms; unknown user {unknown_median * 1000:.1f} ms, ")
    print(f"wrong password {wrong_median * 1000:.1f} ms (medians of {KDF_TRIES})")
    # The unknown user's request runs the KDF too (the dummy hash): without it, it would take
    # a small fraction (about a twentieth) of the KDF's time.
    assert unknown_median > 0.5 * kdf
    # Wide bounds: a skipped KDF would put the ratio near 0.05, a doubled one near 2.
    assert 0.5 < unknown_median / wrong_median < 1.8


class SlowInbox(Inbox):
    """A mail server that takes its time to accept each message, as a distant one does."""

    delay: float = 0.3

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_inbox() -> SlowInbox:
    """This module's `smtp_server` is a slow one."""
    return SlowInbox()


@pytest.fixture
def one_worker_server(
    backend: str,
    database_factory: Callable[[str], str],
    tmp_path: Path,
    smtp_server: tuple[str, int, Inbox],
) -> Iterator[str]:
    """`make run` with a single gunicorn sync worker, mailing through the slow mail server: a
    request that kept the worker busy with a mail would hold up the next one."""
    host, port, _inbox = smtp_server
    mail = {"MAIL_SERVER": host, "MAIL_PORT": str(port)}
    with run_live_server(database_factory(backend), tmp_path, mail, workers=1) as server:
        yield server.base_url


@pytest.mark.live
def test_a_reset_request_answers_alike_and_as_fast_for_known_and_unknown_addresses(
    one_worker_server: str, smtp_server: tuple[str, int, Inbox]
) -> None:
    base = one_worker_server
    inbox = smtp_server[2]
    body = {"username": "victim", "email": "victim@example.com", "password": "victims-secret-1"}
    assert requests.post(f"{base}/api/users", json=body, timeout=30).status_code == 201
    browser = requests.Session()
    page = browser.get(f"{base}/reset_password_request", timeout=10)
    match = CSRF_FIELD.search(page.text)
    assert match
    answers: dict[str, list[tuple[int, str]]] = {"victim@example.com": [], "nobody@example.com": []}

    def ask(address: str) -> Callable[[], None]:
        def request() -> None:
            answer = browser.post(
                f"{base}/reset_password_request",
                data={"email": address, "csrf_token": match.group(1)},
                allow_redirects=False,
                timeout=10,
            )
            answers[address].append((answer.status_code, answer.headers["Location"]))

        return request

    known, unknown = _medians(ask("victim@example.com"), ask("nobody@example.com"))

    print(f"reset request: known address {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms")
    assert (
        set(answers["victim@example.com"])
        == set(answers["nobody@example.com"])
        == {(302, "/login")}
    )
    # Sending took the mail server 0.3 s a message; none of it is in the known address's time.
    assert abs(known - unknown) < SlowInbox.delay / 3
    inbox.wait_for(TRIES)
    assert inbox.recipients == [["victim@example.com"]] * TRIES
