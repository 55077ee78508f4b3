"""Signing up, in and out, resetting a forgotten password through an emailed link, and
deleting one's account."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import (
    Blueprint,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_DURATION
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from microblog.accounts import deletion
from microblog.accounts import services as accounts
from microblog.accounts.guessing import TooManyGuesses
from microblog.accounts.models import User
from microblog.accounts.passwords import KdfBusy
from microblog.accounts.sessions import start_session
from microblog.accounts.tokens import revoke_token
from microblog.db import utcnow
from microblog.errors import DomainError
from microblog.extensions import db
from microblog.links import external_url
from microblog.mail import send_email
from microblog.tasks.executors import current_executor
from microblog.web import LANGUAGES
from microblog.web.feedback import refused_for_now, show_domain_error
from microblog.web.forms import (
    DeleteAccountForm,
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
    ResetPasswordRequestForm,
)
from microblog.web.session_user import SessionUser, password_stamp, user_of_stamp

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

RESET_MAX_AGE = 3600  # seconds a reset link stays valid


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an absolute or protocol-relative URL is an open redirect.

    Browsers read a backslash as a slash and drop tabs and newlines anywhere in a URL (and
    Werkzeug drops them from the Location header), so `/\\evil.com` and `/<TAB>/evil.com` are
    `//evil.com` too: a target holding either, or any other control character or space, is
    refused. (`next` comes from Flask-Login, which percent-encodes the page's path.)
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not any(char == "\\" or char <= " " or char == "\x7f" for char in target)
    ):
        return target
    return url_for("main.index")


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            accounts.register_user(
                db.session,
                username=form.username.data or "",
                email=form.email.data or "",
                password=form.password.data or "",
            )
        except DomainError as exc:
            show_domain_error(exc, form)
        else:
            flash(_("Welcome to Microblog! You can sign in now."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", title=_("Register"), form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                db.session, form.username.data or "", form.password.data or ""
            )
        except TooManyGuesses as exc:
            show_domain_error(exc)
            return refused_for_now(exc, _login_page(form))
        if user is None:
            # One message for both mistakes: the page must not tell which accounts exist.
            flash(_("Invalid username or password."), "danger")
        else:
            # A new session, not the one the browser came with: whatever was in it before
            # (someone else may have planted that cookie) is not carried into the signed-in
            # session, and the CSRF token changes with it.
            session.clear()
            remember = bool(form.remember_me.data)
            key, token = start_session(
                db.session, user, _session_lifetime(remember), request.user_agent.string
            )
            login_user(SessionUser(token, key), remember=remember)
            return redirect(_safe_next(request.args.get("next")))
    return _login_page(form)


def _login_page(form: LoginForm) -> str:
    return render_template("auth/login.html", title=_("Sign in"), form=form)


def _session_lifetime(remember: bool) -> timedelta:
    """As long as its cookie can last: the remember-me cookie's life, or else a browser
    session's (which ends with the browser; the server gives it PERMANENT_SESSION_LIFETIME)."""
    if not remember:
        lifetime: timedelta = current_app.permanent_session_lifetime
        return lifetime
    duration = current_app.config.get("REMEMBER_COOKIE_DURATION", COOKIE_DURATION)
    return duration if isinstance(duration, timedelta) else timedelta(seconds=duration)


@bp.post("/logout")
def logout() -> Response:
    """Signing out ends the session on the server: a copy of its cookies opens nothing."""
    if current_user.is_authenticated:
        revoke_token(current_user.token, utcnow())
    logout_user()
    return redirect(url_for("main.index"))


@bp.route("/delete_account", methods=["GET", "POST"])
@login_required
def delete_account() -> str | Response:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            deletion.delete_account(db.session, current_user.user, form.password.data or "")
        except DomainError as exc:
            show_domain_error(exc, form)
            if isinstance(exc, (TooManyGuesses, KdfBusy)):
                return refused_for_now(exc, _delete_account_page(form))
        else:
            logout_user()
            flash(_("Your account has been deleted."), "success")
            return redirect(url_for("auth.login"))
    return _delete_account_page(form)


def _delete_account_page(form: DeleteAccountForm) -> str:
    return render_template("auth/delete_account.html", title=_("Delete my account"), form=form)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def reset_token(user: User) -> str:
    # The stamp changes with the password hash, so a used link cannot be used again.
    return _serializer().dumps({"user": password_stamp(user)})


@bp.route("/reset_password_request", methods=["GET", "POST"])
def reset_password_request() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = ResetPasswordRequestForm()
    if form.validate_on_submit():
        # The same answer, in the same time, whether or not the address is known: no account
        # enumeration. So the request does no more for a known address than for an unknown
        # one: looking it up and mailing the link are a job, started once the answer is sent.
        _after_the_answer(
            "microblog.web.auth.mail_reset_link", form.email.data or "", str(get_locale() or "en")
        )
        flash(_("Check your email for the instructions to reset your password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password_request.html", title=_("Reset password"), form=form)


def _after_the_answer(job: str, *args: str) -> None:
    """Hand `job` to the executor once the answer has been sent, not while it is produced.

    A job started in the request (a thread of this process) would compete with the rest of
    the request for the interpreter and the database, and only when it has work to do (a
    known address): the answer would come measurably later. Started when the server closes
    the response, after its last byte, it shows in no answer's time.
    """
    executor = current_executor()

    @after_this_request
    def _start_once_sent(response: Response) -> Response:
        response.call_on_close(lambda: executor.call(job, *args))
        return response


def mail_reset_link(address: object, language: object, *older: object) -> None:
    """The job behind a reset request: mail a link to the owner of `address`, if there is one.

    Run by the executor (a thread, or a worker), never by the request: neither the lookup nor
    the mail server's delay shows in the answer's time, nor holds the server's worker. The
    link points to PUBLIC_URL, never to the Host the request named; the mail is in the
    asker's language. Arguments that a request could not have sent (a queue is open to more
    than this view) end the job with a warning.
    """
    if older:
        # Queued before an upgrade by a version that passed the site second (address, site,
        # language): the site is no longer taken from anyone.
        language = older[-1]
    if not isinstance(address, str) or not isinstance(language, str):
        log.warning(
            "mail_reset_link expects an address and a language as text, got %s and %s: "
            "nothing sent",
            type(address).__name__,
            type(language).__name__,
        )
        return
    if language not in LANGUAGES:
        log.warning("mail_reset_link: unknown language %r, mailing in English", language[:20])
        language = "en"
    with force_locale(language):
        user = accounts.find_by_email(db.session, address)
        if user is None:
            return
        link = external_url("auth.reset_password", token=reset_token(user))
        send_email(
            user.email,
            _("[Microblog] Reset your password"),
            render_template("email/reset_password.txt", user=user, link=link),
        )


@bp.route("/reset_password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    user = _user_for_reset(token)
    if user is None:
        flash(_("That reset link is invalid or has expired."), "danger")
        return redirect(url_for("auth.reset_password_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            # Ends every session and token of the account: whoever had one is out.
            accounts.set_password(db.session, user, form.password.data or "")
        except DomainError as exc:
            show_domain_error(exc, form)
        else:
            flash(_("Your password has been reset."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", title=_("Reset password"), form=form)


def _user_for_reset(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=RESET_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return None
    return user_of_stamp(str(data.get("user", "")))
