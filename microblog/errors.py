"""Domain errors: what went wrong in terms of the domain, translated to HTTP once per door.

A domain error's message is English, written as a template marked with `N_` where it is
raised, e.g. `Conflict(N_("you already follow %(username)s"), username=target.username)`: the
catalog extractor (`pybabel extract -k N_`, see the Makefile's `catalogs-update`) finds every
template there, the API shows `message` (the template filled in), and the web site translates
`template` into the reader's language before filling in `values`.
"""

from __future__ import annotations


def N_(template: str) -> str:
    """Mark `template` for the message catalog; it is translated later, where the reader's
    language is known."""
    return template


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, template: str, /, **values: str | int) -> None:
        # Formatted only with values, as gettext does: a template without them is the text.
        message = template % values if values else template
        super().__init__(message)
        self.template = template
        self.values = values
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist (or must look as if it did not)."""


class Forbidden(DomainError):
    """The acting user may not do this to that thing."""


class Conflict(DomainError):
    """The request is valid but clashes with the current state (already following, ...)."""


class Gone(DomainError):
    """The thing asked for existed but is kept no longer (an export's expired result)."""


class Invalid(DomainError):
    """A value the client sent is not acceptable; `field` names it."""

    def __init__(self, field: str, template: str, /, **values: str | int) -> None:
        super().__init__(template, **values)
        self.field = field


class Unauthenticated(DomainError):
    """The credentials presented do not identify anyone (unknown, expired or revoked)."""
