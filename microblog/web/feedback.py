"""Domain errors shown to a person: on the form field they concern, or as a flashed message."""

from __future__ import annotations

from flask import Response, flash
from flask_babel import gettext
from flask_wtf import FlaskForm

from microblog.accounts.guessing import TooManyGuesses
from microblog.accounts.passwords import KdfBusy
from microblog.errors import DomainError, Invalid


def translated(exc: DomainError) -> str:
    """The error's message in the reader's language: its template translated, then filled in
    (a value, such as a username or a library's English reason, is shown as it is)."""
    return gettext(exc.template, **exc.values)


def show_domain_error(exc: DomainError, form: FlaskForm | None = None, **fields: str) -> None:
    """Attach `exc` to the form field it names (renamed through `fields` when the form calls
    it something else), or flash it when no field fits."""
    if isinstance(exc, Invalid) and form is not None:
        name = fields.get(exc.field, exc.field)
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, translated(exc)]
            return
    flash(translated(exc), "danger")


# Refusals that are no mistake of the person's: the same form may be sent again later.
TRY_LATER: dict[type[DomainError], int] = {TooManyGuesses: 429, KdfBusy: 503}


def refused_for_now(exc: TooManyGuesses | KdfBusy, page: str) -> Response:
    """`page` (the form again, showing the refusal flashed) as a 429 (too many guesses) or 503
    (the server is busy with other passwords), with `Retry-After`."""
    response = Response(page, status=TRY_LATER[type(exc)], mimetype="text/html")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
