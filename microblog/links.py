"""Absolute links to this site, for whatever leaves it out of band: mail now, federation next.

Such a link is read later, somewhere else, by someone who trusts it: it must point to the
site and nowhere else. So it is built from one setting, PUBLIC_URL (where people reach the
site; see microblog.config), and never from a request's Host or X-Forwarded-Host, which a
client chooses. The domain and jobs call `external_url` with an app context and no request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of `endpoint` (a view's name, as for `url_for`) under PUBLIC_URL."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        base.netloc,
        script_name=base.path or "/",
        url_scheme=base.scheme,
    )
    return adapter.build(endpoint, values, force_external=True)
