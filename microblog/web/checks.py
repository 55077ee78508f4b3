"""The site's own checks around its views: which request bodies a view may read, and which
caches may keep its answers. microblog/pipeline.py places them among the site's other steps.

Both apply only to the site's blueprints (`SITE_BLUEPRINTS`): not to static files or avatars.
"""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from microblog.boundary import SAFE_METHODS
from microblog.http_errors import error_response

# What a browser sends for a <form>: the default encoding, and the one a form with a file field
# must use. Both are read by `microblog.web.forms.submitted_fields`, into strings (and files
# only for a file field). No form of the site has a file field yet; taking multipart anyway
# costs nothing (its file parts are never read into a text field) and keeps a form free to set
# enctype="multipart/form-data". The third encoding of HTML forms, text/plain, holds no
# fields that can be told apart; JSON is what scripts send, and the API is their door.
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# Every answer of the site depends on who asks: the person signed in (their feed, their
# messages, their export), or at least the session (the CSRF token of a sign-in form, a
# flashed message). `no-store` keeps it out of every cache, shared (a proxy, a CDN) or the
# browser's own (a shared computer's disk, after signing out); `private` says the same to a
# cache that knows no `no-store`. Static files are not the site's views and keep theirs.
PRIVATE_ANSWER = "private, no-store"


# The blueprints of the site's pages and forms (microblog.web registers them).
SITE_BLUEPRINTS = frozenset({"auth", "main", "messages", "exports", "fragments", "sessions"})


def refuse_bodies_that_are_not_forms() -> Response | None:
    """Pipeline step of the site, before CSRFProtect's: a body that is no form is refused
    before its token is looked for in it."""
    if request.blueprint not in SITE_BLUEPRINTS or request.method in SAFE_METHODS:
        return None
    if request.mimetype in FORM_MEDIA_TYPES:
        return None
    return unsupported_body()


def keep_out_of_shared_caches(response: Response) -> Response:
    """Pipeline step of the site."""
    if request.blueprint in SITE_BLUEPRINTS:
        response.headers["Cache-Control"] = PRIVATE_ANSWER
    return response


def unsupported_body() -> Response:
    """415 naming the encodings a form is sent in (and the same list in an `Accept` header, as
    RFC 9110 12.5.1 suggests), before anything reads the body: Flask-WTF would read JSON into
    a form, and take its CSRF token from a header."""
    sent = request.mimetype or "no Content-Type"
    response = error_response(
        415,
        f"a form of this site is sent as {' or '.join(FORM_MEDIA_TYPES)}, not {sent}",
    )
    response.headers["Accept"] = ", ".join(FORM_MEDIA_TYPES)
    return response
