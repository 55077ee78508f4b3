"""Cross-origin calls to the API from browsers: closed unless CORS_ORIGINS names the sites.

Browsers refuse a page on another origin the answer to its `fetch` unless the server says that
origin may read it. Microblog says so for nobody by default, and then sends no
Access-Control-* header at all. With CORS_ORIGINS set, the pages of those origins (or every
origin, with `*`) may call `/api/...` — and only the API: the web site's pages and forms rely
on cookies, which are never offered to other origins (no `Access-Control-Allow-Credentials`).
API clients send bearer tokens, which a page has to hold itself, so allowing an origin never
lends it anyone's session.
"""

from __future__ import annotations

from flask import Flask

from microblog.api.ratelimits import LIMIT_HEADERS
from microblog.extension_hooks import adopt
from microblog.extensions import cors

# What a cross-origin page may send and read besides the CORS-safelisted basics.
ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
)
EXPOSE_HEADERS = (
    "Location",
    "ETag",
    "Link",
    "Retry-After",
    *LIMIT_HEADERS,
    "Idempotent-Replayed",
    "X-Request-ID",
)
# Seconds a browser may remember a preflight's answer.
PREFLIGHT_MAX_AGE = 600


def init_app(app: Flask) -> None:
    origins = [origin for origin in app.config.get("CORS_ORIGINS") or [] if origin]
    if not origins:
        return
    adopt(app, "cors", lambda: _init_cors(app, origins))


def _init_cors(app: Flask, origins: list[str]) -> None:
    cors.init_app(
        app,
        resources={r"/api/*": {"origins": origins}},
        methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=list(ALLOW_HEADERS),
        expose_headers=list(EXPOSE_HEADERS),
        supports_credentials=False,
        max_age=PREFLIGHT_MAX_AGE,
        vary_header=True,
    )
