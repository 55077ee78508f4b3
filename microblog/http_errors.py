"""Application-wide HTTP errors, answered in JSON or HTML as the client prefers.

API clients (everything under /api, and any client that prefers JSON or likes it as much as
HTML, as curl and HTTPie do) get `{"error", "message"}`; browsers get a page.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
)
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import IntegerConverter

from microblog.db import MAX_ID
from microblog.doors import API, door_of
from microblog.extensions import db

log = logging.getLogger(__name__)

# The longest header line ("Name: value" and its CRLF) the app reads, twice gunicorn's default.
# gunicorn refuses what is over its own limit itself, with an HTML page that no client can parse
# as our JSON error; so gunicorn.conf.py sets its limit above this one (32 KiB), and the refusal
# of a line between the two is ours, in JSON, naming the header.
MAX_HEADER_LINE = 16384
# Seconds a client should wait before retrying when the database is away (a restart takes ~1).
DATABASE_RETRY_AFTER = 1


def is_api_request() -> bool:
    return door_of(request.path) == API


def wants_json() -> bool:
    if is_api_request():
        return True
    accept = request.accept_mimetypes
    if not accept:
        return True
    return accept["application/json"] >= accept["text/html"]


def error_response(status: int, message: str, reason: str | None = None) -> Response:
    """The one shape of every error: JSON for API clients, a page for browsers."""
    reason = reason or HTTP_STATUS_CODES.get(status, "Error")
    if wants_json():
        response = jsonify(error=reason, message=message)
    else:
        response = Response(
            render_template("error.html", status=status, reason=reason, message=message),
            mimetype="text/html",
        )
    response.status_code = status
    if not is_api_request():
        # Chosen by `wants_json`: a shared cache must not give a browser the JSON, or a script
        # the page.
        response.vary.add("Accept")
    return response


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    message = exc.description or exc.name
    limit = request.max_content_length
    too_long = limit is not None and (request.content_length or 0) > limit
    if isinstance(exc, RequestEntityTooLarge) and too_long:
        # Werkzeug's words ("the data value transmitted exceeds the capacity limit") say neither
        # what nor how much.
        message = f"the request body is larger than {limit} bytes"
    response = error_response(status, message, exc.name)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response


def handle_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return handle_http_exception(InternalServerError())


def handle_database_unavailable(exc: OperationalError | InterfaceError) -> Response:
    """503 with Retry-After for a database that cannot be reached or went away mid-request (a
    restart, a failover, SQLite busy past its timeout): the client's mistake it is not, and a
    retry (with its Idempotency-Key, for a write) will do. The pool has already dropped the
    broken connections, and checks the others before use."""
    log.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
    db.session.rollback()
    response = error_response(
        503, "the database is unavailable for a moment; please retry", "Service Unavailable"
    )
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def handle_changed_meanwhile(exc: StaleDataError) -> Response:
    """409 for a row another request deleted between this one reading it and writing it back
    (a post edited while its author's account, or the post itself, is being deleted): the
    client's request was fine a moment ago; reloading shows what there is now."""
    log.info("row gone meanwhile on %s %s: %s", request.method, request.path, exc)
    db.session.rollback()
    return error_response(
        409, "this was deleted by another request meanwhile; reload it", "Conflict"
    )


def refuse_oversized_headers() -> None:
    """431, naming the first header whose line is over `MAX_HEADER_LINE` bytes."""
    for name, value in request.headers.items():
        size = len(name) + len(value) + 4  # ": " and CRLF; WSGI strings hold one char a byte
        if size > MAX_HEADER_LINE:
            raise RequestHeaderFieldsTooLarge(
                f"the {name} header is too large: {size} bytes, at most {MAX_HEADER_LINE}"
            )


class IdConverter(IntegerConverter):
    """`<int:...>`, reading any string of digits. Werkzeug's refuses one longer than Python's
    int() reads (4300 digits), and a route refused by its converter becomes a 405 listing the
    methods of the route's other rules (PUT /api/users/<5000 digits>: "Allow: GET"). Read here,
    such an id is one past the database's range, names no row, and its view answers 404."""

    def to_python(self, value: str) -> Any:
        limit = sys.get_int_max_str_digits()
        if limit and len(value) > limit:
            return MAX_ID + 1
        return super().to_python(value)


def init_app(app: Flask) -> None:
    # Before any blueprint adds a rule: a rule takes its converter when it is added.
    app.url_map.converters["int"] = IdConverter
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(InterfaceError, handle_database_unavailable)
    app.register_error_handler(StaleDataError, handle_changed_meanwhile)


def api_responses_are_json(response: Response) -> Response:
    """Pipeline step of the API: every answer says it is JSON, bodiless ones (204, 304,
    OPTIONS) too, so a client can rely on the header. Only a view marked
    `serves_own_media_type` (the API's HTML docs and their assets) keeps its own."""
    if response.mimetype != "application/json":
        view = current_app.view_functions.get(request.endpoint or "")
        if not getattr(view, "serves_own_media_type", False):
            response.mimetype = "application/json"
    return response
