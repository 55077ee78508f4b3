"""The site's forms. They check shape (required, lengths for the browser); the rules
themselves (a valid username, a taken email, ...) are the domain's, reported back onto the
fields by `show_domain_error`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length

from microblog.accounts import rules
from microblog.messaging.models import MESSAGE_MAX
from microblog.posts.services import BODY_MAX


class LoginForm(FlaskForm):
    username = StringField(_l("Username or email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember_me = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Sign in"))


class RegistrationForm(FlaskForm):
    username = StringField(
        _l("Username"), validators=[DataRequired(), Length(max=rules.USERNAME_MAX)]
    )
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=rules.EMAIL_MAX)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=rules.PASSWORD_MIN, max=rules.PASSWORD_MAX)],
    )
    password2 = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match."))],
    )
    submit = SubmitField(_l("Register"))


class ResetPasswordRequestForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=rules.EMAIL_MAX)])
    submit = SubmitField(_l("Request password reset"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=rules.PASSWORD_MIN, max=rules.PASSWORD_MAX)],
    )
    password2 = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords must match."))],
    )
    submit = SubmitField(_l("Reset password"))


class EditProfileForm(FlaskForm):
    username = StringField(
        _l("Username"), validators=[DataRequired(), Length(max=rules.USERNAME_MAX)]
    )
    about_me = TextAreaField(_l("About me"), validators=[Length(max=rules.ABOUT_ME_MAX)])
    submit = SubmitField(_l("Save"))


class PostForm(FlaskForm):
    post = TextAreaField(_l("Say something"), validators=[DataRequired(), Length(max=BODY_MAX)])
    submit = SubmitField(_l("Post"))


class MessageForm(FlaskForm):
    message = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=MESSAGE_MAX)])
    submit = SubmitField(_l("Send"))


class EmptyForm(FlaskForm):
    """A button that changes something (follow, unfollow, export): CSRF-protected."""

    submit = SubmitField(_l("Submit"))
