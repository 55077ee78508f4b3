"""Mail telling a person of a change to their account that they may not have made themself.

Jobs: run by the executor after the change is committed (see `services.update_user`), in an
application context of their own, so neither the mail server's delay nor its failure shows
in the answer to the change.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from microblog.mail import send_email

EMAIL_CHANGED_JOB = "microblog.accounts.notices.mail_email_changed"


def mail_email_changed(old_address: str, new_address: str, username: str, language: str) -> None:
    """Tell the address an account had that it has another now: if its owner did not make the
    change, this is how they learn their account was taken over (and what to tell us)."""
    with force_locale(language):
        send_email(
            old_address,
            _("[Microblog] Your email address was changed"),
            render_template("email/email_changed.txt", username=username, new_address=new_address),
        )
