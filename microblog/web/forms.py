"""The site's forms. They check only that a field was filled in and that a repeated password
matches. The rules (lengths, a valid username, a taken email, ...) are the domain's, which
trims free text (a post, a message, an about-me) before judging it; `show_domain_error` puts
its message on the field, in the reader's language.

The limits still reach the browser as `maxlength`/`minlength` attributes, taken from the same
constants the domain checks, so it can help the person before anything is sent.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo

from microblog.accounts import rules
from microblog.messaging.models import MESSAGE_MAX
from microblog.posts.services import BODY_MAX

USERNAME = {"maxlength": rules.USERNAME_MAX}
EMAIL = {"maxlength": rules.EMAIL_MAX}
PASSWORD = {"minlength": rules.PASSWORD_MIN, "maxlength": rules.PASSWORD_MAX}


class LoginForm(FlaskForm):
    username = StringField(_l("Username or email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember_me = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Sign in"))


class RegistrationForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()], render_kw=USERNAME)
    email = StringField(_l("Email"), validators=[DataRequired()], render_kw=EMAIL)
    password = PasswordField(_l("Password"), validators=[DataRequired()], render_kw=PASSWORD)
    password2 = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match."))],
    )
    submit = SubmitField(_l("Register"))


class ResetPasswordRequestForm(FlaskForm):
    # An address no one can have (too long, malformed) gets the same answer as an unknown one.
    email = StringField(_l("Email"), validators=[DataRequired()], render_kw=EMAIL)
    submit = SubmitField(_l("Request password reset"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()], render_kw=PASSWORD)
    password2 = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match."))],
    )
    submit = SubmitField(_l("Reset password"))


class EditProfileForm(FlaskForm):
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


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Delete my account"))


class PostForm(FlaskForm):
    post = TextAreaField(
        _l("Say something"), validators=[DataRequired()], render_kw={"maxlength": BODY_MAX}
    )
    submit = SubmitField(_l("Post"))


class MessageForm(FlaskForm):
    message = TextAreaField(
        _l("Message"), validators=[DataRequired()], render_kw={"maxlength": MESSAGE_MAX}
    )
    submit = SubmitField(_l("Send"))


class EmptyForm(FlaskForm):
    """A button that changes something (follow, unfollow, export). It renders the CSRF token;
    CSRFProtect refuses a POST without it before any view runs."""

    submit = SubmitField(_l("Submit"))
