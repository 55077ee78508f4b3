"""Conditional requests: ETags on every GET, 304 for a matching If-None-Match, 412 for a stale
If-Match on PUT. The ETag is a hash of the exact JSON the client was sent, so a client can
compare versions without knowing anything about how they are made.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import PreconditionFailed
from werkzeug.http import generate_etag
from werkzeug.wrappers import Response

from microblog.http_errors import is_api_request


def require_current(current: bytes) -> None:
    """Refuse a write made against an older version than `current`, the resource's JSON as a
    GET would send it now (If-Match)."""
    if_match = request.if_match
    if not if_match:
        return
    if not if_match.star_tag and not if_match.contains(generate_etag(current)):
        raise PreconditionFailed(
            "the resource has changed since you read it (If-Match does not match its ETag)"
        )


def init_app(app: Flask) -> None:
    @app.after_request
    def tag_and_answer_conditionally(response: Response) -> Response:
        if request.method in ("GET", "HEAD") and response.status_code == 200 and is_api_request():
            response.headers["Cache-Control"] = "private, no-cache"
            response.add_etag()
            response.make_conditional(request)
        return response
