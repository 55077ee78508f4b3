"""Application-wide HTTP errors, answered in JSON or HTML as the client prefers.

API clients (everything under /api, and any client that prefers JSON or likes it as much as
HTML, as curl and HTTPie do) get `{"error", "message"}`; browsers get a page.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from microblog.extensions import db

log = logging.getLogger(__name__)


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


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
    return response


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    response = error_response(status, exc.description or exc.name, exc.name)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    for name, value in getattr(exc, "extra_headers", {}).items():
        response.headers[name] = value
    return response


def handle_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return handle_http_exception(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)

    @app.after_request
    def api_responses_are_json(response: Response) -> Response:
        # Bodiless answers (204, 304, OPTIONS) too, so a client can rely on the header. Only a
        # view marked `serves_own_media_type` (the API's HTML docs and their assets) keeps its own.
        if is_api_request() and response.mimetype != "application/json":
            view = current_app.view_functions.get(request.endpoint or "")
            if not getattr(view, "serves_own_media_type", False):
                response.mimetype = "application/json"
        return response
