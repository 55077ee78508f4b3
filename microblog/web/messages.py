"""Private messages on the site: the inbox (reading it marks it read) and writing one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from microblog.boundary import writes_on_read
from microblog.errors import DomainError
from microblog.extensions import db
from microblog.messaging import services as messaging
from microblog.messaging.models import Message
from microblog.web.feedback import show_domain_error
from microblog.web.forms import MessageForm
from microblog.web.main import user_or_404
from microblog.web.pages import newest_first

bp = Blueprint("messages", __name__)


@bp.get("/messages")
@writes_on_read
@login_required
def inbox() -> str:
    page = newest_first(messaging.received_by(current_user.id), Message.id)
    messaging.mark_read(db.session, current_user.user)
    return render_template("messages/inbox.html", title=_("Messages"), page=page)


@bp.route("/send_message/<recipient>", methods=["GET", "POST"])
@login_required
def send(recipient: str) -> str | Response:
    person = user_or_404(recipient)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            messaging.send_message(
                db.session, current_user.user, person.id, form.message.data or ""
            )
        except DomainError as exc:
            show_domain_error(exc, form, body="message")
        else:
            flash(_("Your message has been sent."), "success")
            return redirect(url_for("main.user", username=person.username))
    return render_template(
        "messages/send.html", title=_("Send message"), form=form, recipient=person
    )
