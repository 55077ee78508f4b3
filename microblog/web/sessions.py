"""The person's sessions and tokens: where they are signed in, and ending any of them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from microblog.accounts.sessions import end_other_tokens, end_token, live_tokens
from microblog.db import utcnow
from microblog.errors import DomainError
from microblog.extensions import db
from microblog.web.feedback import show_domain_error
from microblog.web.forms import EmptyForm

bp = Blueprint("sessions", __name__)


@bp.get("/sessions")
@login_required
def index() -> str:
    tokens = live_tokens(db.session, current_user.user, utcnow())
    return render_template(
        "sessions/index.html",
        title=_("Sessions and tokens"),
        tokens=tokens,
        current_id=current_user.token.id,
        form=EmptyForm(),
    )


@bp.post("/sessions/<int:token_id>/end")
@login_required
def end(token_id: int) -> Response:
    # CSRFProtect has refused any POST without the form's token before this runs.
    try:
        end_token(db.session, current_user.user, token_id, utcnow())
    except DomainError as exc:
        show_domain_error(exc)
        return redirect(url_for("sessions.index"))
    if token_id == current_user.token.id:
        logout_user()
        flash(_("You have signed out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("It has ended: whoever used it is signed out."), "success")
    return redirect(url_for("sessions.index"))


@bp.post("/sessions/end_others")
@login_required
def end_others() -> Response:
    """Sign out everywhere else: every other session and every API token ends."""
    end_other_tokens(db.session, current_user.user, utcnow(), keep=current_user.token)
    flash(_("You are signed out everywhere else."), "success")
    return redirect(url_for("sessions.index"))
