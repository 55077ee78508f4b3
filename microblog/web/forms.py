"""The site's forms. They check only that a field was filled in and that a repeated password
matches. The rules (lengths, a valid username, a taken email, ...) are the domain's, which
trims free text (a post, a message, an about-me) before judging it; `show_domain_error` puts
its message on the field, in the reader's language.

The limits still reach the browser as `maxlength`/`minlength` attributes, taken from the same
constants the domain checks, so it can help the person before anything is sent.

Every form is a `WebForm`: it reads what a browser sends (text fields, and files only for a
file field), never a JSON body, so a field's data is always what its type expects.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from werkzeug.exceptions import BadRequest
from wtforms import (
    BooleanField,
    FileField,
    Form,
    PasswordField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo

from microblog.accounts import rules
from microblog.messaging.models import MESSAGE_MAX
from microblog.posts.services import BODY_MAX

USERNAME = {"maxlength": rules.USERNAME_MAX}
EMAIL = {"maxlength": rules.EMAIL_MAX}
PASSWORD = {"minlength": rules.PASSWORD_MIN, "maxlength": rules.PASSWORD_MAX}
SUBMIT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # Flask-WTF's


def submitted_fields(form: Form) -> MultiDict[str, Any] | None:
    """What a browser submitted for `form`: its text fields, and the files of its file fields.

    Flask-WTF would also read a JSON body into the fields, numbers, lists and objects included,
    and give a text field a file part of the same name; a view then hands the domain something
    that is not a string (a 500). A file part named after a text field is refused here (400,
    naming it); one named after no field is ignored, as an unknown text field is. (The site's
    request checks refuse any body that is not a form's before a view runs: see
    microblog/web/checks.py.)
    """
    files = MultiDict[str, Any]()
    for name in request.files:
        field = form._fields.get(name)
        if field is None:
            continue
        if not isinstance(field, FileField):
            raise BadRequest(f"the {name} field takes text, not a file")
        files.setlist(name, request.files.getlist(name))
    if files:
        return CombinedMultiDict([files, request.form])
    return request.form or None


class WebForm(FlaskForm):
    """The base of every form of the site: it is filled from `submitted_fields`."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Form, formdata: Any) -> Any:
            if formdata is _Auto:
                return submitted_fields(form) if request.method in SUBMIT_METHODS else None
            return formdata


class LoginForm(WebForm):
    username = StringField(_l("Username or email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember_me = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Sign in"))


class RegistrationForm(WebForm):
    username = StringField(_l("Username"), validators=[DataRequired()], render_kw=USERNAME)
    email = StringField(_l("Email"), validators=[DataRequired()], render_kw=EMAIL)
    password = PasswordField(_l("Password"), validators=[DataRequired()], render_kw=PASSWORD)
    password2 = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match."))],
    )
    submit = SubmitField(_l("Register"))


class ResetPasswordRequestForm(WebForm):
    # An address no one can have (too long, malformed) gets the same answer as an unknown one.
    email = StringField(_l("Email"), validators=[DataRequired()], render_kw=EMAIL)
    submit = SubmitField(_l("Request password reset"))


class ResetPasswordForm(WebForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()], render_kw=PASSWORD)
    password2 = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match."))],
    )
    submit = SubmitField(_l("Reset password"))


class EditProfileForm(WebForm):
    username = StringField(_l("Username"), validators=[DataRequired()], render_kw=USERNAME)
    # Shown filled in; a request without it (a script) keeps the address, as the API does.
    email = StringField(_l("Email"), render_kw={**EMAIL, "required": True})
    about_me = TextAreaField(_l("About me"), render_kw={"maxlength": rules.ABOUT_ME_MAX})
    password = PasswordField(_l("New password (leave empty to keep yours)"), render_kw=PASSWORD)
    password2 = PasswordField(
        _l("Repeat new password"), validators=[EqualTo("password")], render_kw=PASSWORD
    )
    # A new email address or password needs it: a stolen session cannot take the account.
    current_password = PasswordField(_l("Current password (to change email or password)"))
    submit = SubmitField(_l("Save"))


class DeleteAccountForm(WebForm):
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Delete my account"))


class PostForm(WebForm):
    post = TextAreaField(
        _l("Say something"), validators=[DataRequired()], render_kw={"maxlength": BODY_MAX}
    )
    submit = SubmitField(_l("Post"))


class MessageForm(WebForm):
    message = TextAreaField(
        _l("Message"), validators=[DataRequired()], render_kw={"maxlength": MESSAGE_MAX}
    )
    submit = SubmitField(_l("Send"))


class EmptyForm(WebForm):
    """A button that changes something (follow, unfollow, export). It renders the CSRF token;
    CSRFProtect refuses a POST without it before any view runs."""

    submit = SubmitField(_l("Submit"))
