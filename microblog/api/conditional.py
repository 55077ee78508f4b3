"""Conditional requests: ETags on every GET, 304 for a matching If-None-Match, 412 for a stale
If-Match on PUT. The ETag is a hash of the exact JSON the client was sent, so a client can
compare versions without knowing anything about how they are made.
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import PreconditionFailed
from werkzeug.http import generate_etag
from werkzeug.wrappers import Response


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


def tag_and_answer_conditionally(response: Response) -> Response:
    """Pipeline step of the API: an ETag on every successful GET; the 304 comparison only for
    a request that asks for one (If-None-Match, If-Modified-Since)."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.headers["Cache-Control"] = "private, no-cache"
        response.add_etag()
        if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
            response.make_conditional(request)
    return response
