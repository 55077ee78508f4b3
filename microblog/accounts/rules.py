"""What makes a username, an email address, a password or an about-me acceptable.

Both doors (the API's schemas and the web site's forms) call these, so each rule is written once.
Each function returns the normalized value or raises `Invalid` naming the field.
"""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from microblog.errors import N_, Invalid
from microblog.text import storable

USERNAME_MAX = 64
USERNAME_CHARACTERS = r"[A-Za-z0-9_.-]{1,64}"
# The dot-segments of a URL path (RFC 3986, 5.2.4): a browser resolves /user/.. to / and
# /user/. to /user/, so the profile link of such a name leads elsewhere. Every other name
# made of the characters above is a path segment as it is.
DOT_SEGMENTS = frozenset({".", ".."})
# Both rules in one regular expression, for the API's document (no lookahead, which not every
# JSON Schema tool reads): 3 to 64 characters; or 1 or 2 that do not start with a dot; or a
# dot and one character that is not.
USERNAME_PATTERN = r"^(?:[A-Za-z0-9_.-]{3,64}|[A-Za-z0-9_-][A-Za-z0-9_.-]?|\.[A-Za-z0-9_-])$"
EMAIL_MAX = 254
PASSWORD_MIN = 8
# Long enough for any passphrase, short enough that hashing it is no denial of service.
PASSWORD_MAX = 256
ABOUT_ME_MAX = 140

_username_re = re.compile(USERNAME_CHARACTERS)


def username(value: str) -> str:
    if not _username_re.fullmatch(value):
        raise Invalid(
            "username",
            N_("username must be 1 to 64 characters of letters, digits, '_', '.' or '-'"),
        )
    if value in DOT_SEGMENTS:
        raise Invalid(
            "username",
            N_("username cannot be '.' or '..': a link to its profile would lead elsewhere"),
        )
    return value


def email(value: str) -> str:
    """A syntactically valid address, lower-cased so uniqueness ignores case."""
    if len(value) > EMAIL_MAX:
        raise Invalid("email", N_("email must be at most %(max)s characters"), max=EMAIL_MAX)
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        # The reason is email-validator's, in English: only the sentence around it is translated.
        raise Invalid(
            "email", N_("email is not a valid address: %(reason)s"), reason=str(exc)
        ) from None
    return checked.normalized.lower()


def password(value: str) -> str:
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise Invalid(
            "password",
            N_("password must be %(min)s to %(max)s characters"),
            min=PASSWORD_MIN,
            max=PASSWORD_MAX,
        )
    return value


def about_me(value: str) -> str:
    value = storable("about_me", value).strip()
    if len(value) > ABOUT_ME_MAX:
        raise Invalid(
            "about_me", N_("about_me must be at most %(max)s characters"), max=ABOUT_ME_MAX
        )
    return value
