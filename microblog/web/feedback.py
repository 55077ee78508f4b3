"""Domain errors shown to a person: on the form field they concern, or as a flashed message."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from microblog.errors import DomainError, Invalid

# The domain's fixed messages, listed so the catalog extractor finds them for translation.
# Messages with values in them (a user id, a length) stay in English.
DOMAIN_MESSAGES = (
    _l("please use a different username"),
    _l("please use a different email address"),
    _l("username must be 1 to 64 characters of letters, digits, '_', '.' or '-'"),
    _l("email must be at most 254 characters"),
    _l("password must be 8 to 256 characters"),
    _l("about_me must be at most 140 characters"),
    _l("body must not be empty"),
    _l("body must be at most 280 characters"),
    _l("body must be at most 1000 characters"),
    _l("you cannot follow yourself"),
    _l("you cannot send a message to yourself"),
    _l("q needs at least one word to look for"),
    _l('q has an unclosed quote (")'),
    _l("an export_posts task is already running; wait until it is complete"),
)


def show_domain_error(exc: DomainError, form: FlaskForm | None = None, **fields: str) -> None:
    """Attach `exc` to the form field it names (renamed through `fields` when the form calls
    it something else), or flash it when no field fits."""
    if isinstance(exc, Invalid) and form is not None:
        name = fields.get(exc.field, exc.field)
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, gettext(exc.message)]
            return
    flash(gettext(exc.message), "danger")
