"""The API's documentation: the generated OpenAPI document, and a page that shows it.

The page is Swagger UI 5 (it renders OpenAPI 3.1), served from the files the `swagger-ui-py`
package installs, so it works offline and sends nothing to another host. Neither route needs
authentication, and neither is an operation of the API itself: the document leaves them out.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import orjson
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template_string,
    send_from_directory,
    url_for,
)

from microblog.api.openapi import openapi_document

bp = Blueprint("docs", __name__)
V = TypeVar("V", bound=Callable[..., Response])

# What the page loads from the package; nothing else there is served.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
JSON_KEY = "microblog.openapi.json"

PAGE = """\
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Microblog API</title>
  <link rel="stylesheet" href="{{ asset('swagger-ui.css') }}">
  <link rel="icon" type="image/png" href="{{ asset('favicon-32x32.png') }}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{{ spec_url }}"></div>
  <script src="{{ asset('swagger-ui-bundle.js') }}"></script>
  <script src="{{ start_url }}"></script>
</body>
</html>
"""

# A file rather than an inline script, so that a Content-Security-Policy of 'self' allows it.
START = """\
"use strict";
window.ui = SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.specUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  // The public validator would be a request to another host.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""


@functools.cache
def swagger_ui_directory() -> Path:
    """Where the installed swagger-ui-py package keeps Swagger UI's files (found without
    importing the package, whose own code this app does not use)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(spec.origin).parent / "static"


def _serves_own_media_type(view: V) -> V:
    # Everything else under /api answers JSON; see microblog.http_errors.
    view.serves_own_media_type = True  # type: ignore[attr-defined]
    return view


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document of this API."""
    body: bytes | None = current_app.extensions.get(JSON_KEY)
    if body is None:
        body = orjson.dumps(openapi_document(current_app))
        current_app.extensions[JSON_KEY] = body
    return Response(body, mimetype="application/json")


@bp.get("/docs")
@_serves_own_media_type
def page() -> Response:
    """The interactive documentation."""
    html = render_template_string(
        PAGE,
        spec_url=url_for(".openapi_json"),
        start_url=url_for(".start_script"),
        asset=lambda name: url_for(".asset", filename=name),
    )
    return Response(html, mimetype="text/html")


@bp.get("/docs/start.js")
@_serves_own_media_type
def start_script() -> Response:
    """Starts Swagger UI on the page."""
    return Response(START, mimetype="text/javascript")


@bp.get("/docs/<path:filename>")
@_serves_own_media_type
def asset(filename: str) -> Response:
    """One of Swagger UI's files."""
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_directory(), filename)
