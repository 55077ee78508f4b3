"""Resetting a forgotten password through an emailed, signed, expiring link."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from microblog.web.auth import RESET_MAX_AGE, mail_reset_link
from tests.support import basic_auth, wait_for_jobs
from tests.tasks.task_support import Inbox, smtp_settings
from tests.web.web_support import Browser, field_errors, flashes, text

# The link's address is PUBLIC_URL; tests run with its default, where `make run` listens.
LINK = re.compile(r"http://127\.0\.0\.1:5000(/reset_password/\S+)")


def request_reset(person: Browser, address: str) -> None:
    answer = person.submit("/reset_password_request", {"email": address})
    wait_for_jobs(person.client.application)  # the executor's thread mails the link
    assert (answer.status_code, answer.location) == (302, "/login")
    assert flashes(person.get("/login")) == [
        "Check your email for the instructions to reset your password."
    ]


def test_a_reset_mailed_through_a_real_smtp_server_changes_the_password_once(
    make_other_app: Callable[..., Flask], smtp_server: tuple[str, int, Inbox]
) -> None:
    host, port, inbox = smtp_server
    app = make_other_app(
        **smtp_settings(port, host),
        MAIL_DEFAULT_SENDER="no-reply@microblog.test",
    )
    susan = Browser(app.test_client())
    susan.register("susan")
    other_device = Browser(app.test_client())
    other_device.login("susan", remember=True)

    request_reset(susan, "Susan@Example.com")

    [message] = inbox.wait_for(1)
    assert inbox.recipients == [["susan@example.com"]]
    assert message["From"] == "no-reply@microblog.test"
    assert message["Subject"] == "[Microblog] Reset your password"
    body = message.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert "Dear susan," in content
    match = LINK.search(content)
    assert match, content
    link = match.group(1)

    form = susan.get(link)
    assert form.status_code == 200 and "Choose a new password" in text(form)
    mismatch = susan.submit(link, {"password": "brand-new-pass", "password2": "other-pass"})
    assert field_errors(mismatch) == ["Passwords must match."]
    done = susan.submit(link, {"password": "brand-new-pass", "password2": "brand-new-pass"})
    assert (done.status_code, done.location) == (302, "/login")
    assert flashes(susan.get("/login")) == ["Your password has been reset."]

    assert susan.login("susan").status_code == 200  # the old password no longer works
    assert susan.login("susan", "brand-new-pass").location == "/"
    other_device.client.delete_cookie("session")
    assert other_device.signed_in_as() is None  # its session and remember-me ended
    susan.logout()

    again = susan.get(link)  # the link worked once
    assert (again.status_code, again.location) == (302, "/reset_password_request")
    assert flashes(susan.get(again.location)) == ["That reset link is invalid or has expired."]
    reuse = susan.submit("/login", {}, action=link)
    assert reuse.location == "/reset_password_request"
    assert susan.login("susan", "brand-new-pass").location == "/"


def test_the_request_page_answers_alike_for_unknown_addresses_and_sends_nothing(
    app: Flask, browser: Browser
) -> None:
    browser.register("susan")
    request_reset(browser, "nobody@example.com")
    outbox = Path(app.instance_path) / "mail"
    assert not outbox.exists()

    request_reset(browser, "susan@example.com")
    [mail] = outbox.glob("*.eml")  # no MAIL_SERVER: written to the instance folder
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["To"] == "susan@example.com"


def test_the_reset_mail_is_in_the_language_of_whoever_asked(app: Flask) -> None:
    person = Browser(app.test_client(), language="es")
    person.register("susan")
    person.submit("/reset_password_request", {"email": "susan@example.com"})
    wait_for_jobs(app)
    [mail] = (Path(app.instance_path) / "mail").glob("*.eml")
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "[Microblog] Restablece tu contraseña"
    body = message.get_body(("plain",))
    assert body is not None and "Hola, susan:" in body.get_content()


def _mail_in_outbox(app: Flask) -> str:
    [mail] = (Path(app.instance_path) / "mail").glob("*.eml")
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _link_in_outbox(app: Flask) -> str:
    match = LINK.search(_mail_in_outbox(app))
    assert match
    return match.group(1)


FORGED_HOST = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_reset_link_points_to_the_public_url_whatever_host_the_request_names(
    make_other_app: Callable[..., Flask], proxies: int
) -> None:
    app = make_other_app(PUBLIC_URL="https://microblog.example.com", TRUSTED_PROXIES=proxies)
    Browser(app.test_client()).register("susan")
    attacker = Browser(app.test_client(), headers=FORGED_HOST)

    request_reset(attacker, "susan@example.com")

    content = _mail_in_outbox(app)
    assert "evil.example" not in content
    link = re.search(r"https://microblog\.example\.com(/reset_password/\S+)", content)
    assert link, content
    assert Browser(app.test_client()).get(link.group(1)).status_code == 200  # it works


def test_without_public_url_the_link_points_to_where_make_run_listens(app: Flask) -> None:
    """A fresh clone's `make run` (HOST and PORT unset) mails links to http://127.0.0.1:5000,
    not to the Host a request named."""
    Browser(app.test_client()).register("susan")
    request_reset(Browser(app.test_client(), headers=FORGED_HOST), "susan@example.com")

    assert app.config["PUBLIC_URL"] == "http://127.0.0.1:5000"
    assert "evil.example" not in _mail_in_outbox(app)
    assert LINK.search(_mail_in_outbox(app))


@pytest.mark.parametrize(
    ("address", "language"),
    [(None, "en"), (42, "en"), (["susan@example.com"], "en"), ("susan@example.com", None)],
)
def test_a_reset_job_given_anything_but_text_warns_and_ends(
    app: Flask, caplog: pytest.LogCaptureFixture, address: object, language: object
) -> None:
    Browser(app.test_client()).register("susan")
    with app.app_context(), caplog.at_level(logging.WARNING):
        mail_reset_link(address, language)

    [warning] = [record for record in caplog.records if record.name == "microblog.web.auth"]
    assert warning.levelno == logging.WARNING and warning.exc_info is None
    assert "nothing sent" in warning.getMessage()
    assert not (Path(app.instance_path) / "mail").exists()


def test_a_reset_job_queued_by_the_previous_version_mails_to_the_public_url(app: Flask) -> None:
    """Before PUBLIC_URL, the job was given (address, the request's site, language)."""
    Browser(app.test_client()).register("susan")
    with app.app_context():
        mail_reset_link("susan@example.com", "http://evil.example/", "es")

    content = _mail_in_outbox(app)
    assert "evil.example" not in content and LINK.search(content)
    assert "Hola, susan:" in content


def test_a_reset_job_in_an_unknown_language_mails_in_english(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    Browser(app.test_client()).register("susan")
    with app.app_context():
        mail_reset_link("susan@example.com", "xx-no-such-language")

    assert "Dear susan," in _mail_in_outbox(app)
    assert any("unknown language" in record.getMessage() for record in caplog.records)


def _refused(person: Browser, link: str) -> None:
    for response in (
        person.get(link),
        person.submit(
            "/login", {"password": "brand-new-pass", "password2": "brand-new-pass"}, link
        ),
    ):
        assert (response.status_code, response.location) == (302, "/reset_password_request")


def test_a_tampered_link_is_refused(app: Flask, browser: Browser) -> None:
    browser.register("susan")
    request_reset(browser, "susan@example.com")
    link = _link_in_outbox(app)
    token = link.rsplit("/", 1)[1]
    payload, stamp, signature = token.split(".")
    tampered = f"{payload}.{stamp}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    for bad in (f"/reset_password/{tampered}", "/reset_password/nonsense", link + "x"):
        _refused(browser, bad)
    # One signed with another key (another site, or a guessed one) is refused too.
    forged = URLSafeTimedSerializer("not-the-key", salt="password-reset").dumps({"user": "1:x"})
    _refused(browser, f"/reset_password/{forged}")
    assert browser.login("susan").location == "/"


def test_an_expired_link_is_refused(
    app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser.register("susan")
    request_reset(browser, "susan@example.com")
    link = _link_in_outbox(app)
    assert browser.get(link).status_code == 200

    later = time.time() + RESET_MAX_AGE + 60
    monkeypatch.setattr(time, "time", lambda: later)
    _refused(browser, link)
    monkeypatch.undo()
    assert browser.login("susan").location == "/"


def test_an_address_typed_decomposed_finds_the_account_stored_composed(app: Flask) -> None:
    """ "é" as one code point or as "e" and a combining accent is one address, as stored."""
    from microblog.accounts.services import find_by_email, register_user
    from microblog.extensions import db

    with app.app_context():
        user = register_user(
            db.session, username="jose", email="jos\u00e9@example.com", password="cat-on-keyboard"
        )
        db.session.commit()

        assert find_by_email(db.session, " JOSE\u0301@example.com ") == user
        assert find_by_email(db.session, "not an address") is None


def test_mail_in_the_outbox_is_readable_by_the_server_s_user_only(
    app: Flask, browser: Browser
) -> None:
    previous = os.umask(0o022)  # the usual one: files 0644, folders 0755
    try:
        browser.register("susan")
        request_reset(browser, "susan@example.com")
    finally:
        os.umask(previous)

    outbox = Path(app.instance_path) / "mail"
    [mail] = outbox.glob("*.eml")
    assert outbox.stat().st_mode & 0o777 == 0o700
    assert mail.stat().st_mode & 0o777 == 0o600


def test_reset_requests_are_limited_per_client_address_and_per_address_asked_about(
    make_other_app: Callable[..., Flask], smtp_server: tuple[str, int, Inbox]
) -> None:
    host, port, inbox = smtp_server
    app = make_other_app(
        **smtp_settings(port, host),
        RATELIMIT_ENABLED=True,
        RATELIMIT_RESETS="2 per hour",
    )
    Browser(app.test_client()).register("susan")
    asker = Browser(app.test_client())

    def ask(address: str, client_address: str) -> int:
        asker.client.environ_base["REMOTE_ADDR"] = client_address
        answer = asker.submit("/reset_password_request", {"email": address})
        if answer.status_code == 429:
            assert answer.mimetype == "text/html"
            assert 1 <= int(answer.headers["Retry-After"]) <= 3600
        return answer.status_code

    # One address asked about from many clients: refused alike whether anyone holds it or not.
    for address in ("susan@example.com", "nobody@example.com"):
        spellings = (address, address.upper(), f" {address} ")
        statuses = [ask(spelling, f"10.7.{n}.1") for n, spelling in enumerate(spellings)]
        assert statuses == [302, 302, 429], address
    # One client asking about many addresses.
    statuses = [ask(f"person{n}@example.com", "203.0.113.50") for n in range(3)]
    assert statuses == [302, 302, 429]

    wait_for_jobs(app)
    inbox.wait_for(2)
    assert inbox.recipients == [["susan@example.com"]] * 2


def test_a_password_reset_ends_every_session_and_token(app: Flask, browser: Browser) -> None:
    browser.register("susan")
    thief = Browser(app.test_client())
    thief.login("susan", remember=True)
    api = app.test_client()
    token = api.post("/api/tokens", headers=basic_auth("susan", "correct-horse")).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}

    request_reset(browser, "susan@example.com")
    link = _link_in_outbox(app)
    done = browser.submit(link, {"password": "brand-new-pass", "password2": "brand-new-pass"})

    assert done.location == "/login"
    assert thief.signed_in_as() is None
    thief.client.delete_cookie("session")
    assert thief.signed_in_as() is None
    assert api.get("/api/me", headers=bearer).status_code == 401
    _refused(browser, link)  # and the link worked once


def test_a_reset_link_mailed_before_the_address_changed_no_longer_works(
    app: Flask, signed_in: Callable[..., Browser]
) -> None:
    susan = signed_in("susan")
    stranger = Browser(app.test_client())
    request_reset(stranger, "susan@example.com")
    link = _link_in_outbox(app)

    changed = susan.submit(
        "/edit_profile",
        {
            "username": "susan",
            "email": "susan@new.example.org",
            "about_me": "",
            "current_password": "correct-horse",
        },
    )

    assert changed.location == "/user/susan"
    _refused(stranger, link)
