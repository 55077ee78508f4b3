"""Signing up, in and out, resetting a forgotten password through an emailed link, and
deleting one's account."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
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
from microblog.accounts.models import User
from microblog.accounts.sessions import start_session
from microblog.accounts.tokens import revoke_token
from microblog.db import utcnow
from microblog.errors import DomainError
from microblog.extensions import db
from microblog.mail import send_email
from microblog.tasks.executors import current_executor
from microblog.web.feedback import show_domain_error
from microblog.web.forms import (
    DeleteAccountForm,
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
    ResetPasswordRequestForm,
)
from microblog.web.session_user import SessionUser, password_stamp, user_of_stamp

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
        user = accounts.authenticate(db.session, form.username.data or "", form.password.data or "")
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
        else:
            logout_user()
            flash(_("Your account has been deleted."), "success")
            return redirect(url_for("auth.login"))
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
        # one: looking it up and mailing the link are the executor's job.
        current_executor().call(
            "microblog.web.auth.mail_reset_link",
            form.email.data or "",
            request.host_url,
            str(get_locale() or "en"),
        )
        flash(_("Check your email for the instructions to reset your password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password_request.html", title=_("Reset password"), form=form)


def mail_reset_link(address: str, site: str, language: str) -> None:
    """The job behind a reset request: mail a link to the owner of `address`, if there is one.

    Run by the executor (a thread, or a worker), never by the request: neither the lookup nor
    the mail server's delay shows in the answer's time, nor holds the server's worker. The
    link is built for the site the request came to, the mail is in the asker's language.
    """
    with current_app.test_request_context(base_url=site), force_locale(language):
        user = accounts.find_by_email(db.session, address)
        if user is None:
            return
        link = url_for("auth.reset_password", token=reset_token(user), _external=True)
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
