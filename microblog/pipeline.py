"""What runs on a request, door by door, in the order it runs: the one place that says so.

Microblog has three doors over one domain, and a request goes through the steps of its own door
only:

- the JSON API under `/api`: bearer tokens, a rate-limit budget, ETags, JSON answers. No
  cookie session is opened or saved for it (`web.security.SessionInterface`), no CSRF check,
  no Content-Security-Policy built per request, no Accept-Language variation;
- the operations endpoints (`/healthz`, `/metrics`): what load balancers and Prometheus read;
- the web site, everything else: cookie sessions, forms and their CSRF check, the security
  headers of pages (Talisman), the remember-me cookie (Flask-Login), answers in the reader's
  language and kept out of shared caches.

Flask runs `before_request` functions in the order they were registered and `after_request`
functions in the reverse; the lists below read in the order the steps run. A `before` step that
answers (a 415, a 429) ends the `before` steps; every `after` step still runs on its answer.
The extensions' own hooks (CSRFProtect, Flask-Login, Talisman, Flask-CORS, Flask-Limiter) are
taken from the application as they register them (`adopt`) and placed here by name, or left
out where a door does not need them. Nothing else registers an app-wide hook: `init_app` fails
on one, naming it. A further door (Mastodon's client API, ActivityPub) is a path prefix and two
lists here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, request
from werkzeug.wrappers import Response

from microblog import boundary, doors
from microblog.api import conditional, ratelimits
from microblog.doors import door_of
from microblog.extension_hooks import Adopted, After, Before, resolve
from microblog.http_errors import api_responses_are_json, refuse_oversized_headers
from microblog.ops.logging import choose_request_id, send_request_id
from microblog.ops.metrics import count_request, start_clock
from microblog.web import checks, vary_by_language
from microblog.web import security as web_security

DOORS = "microblog.doors"


@dataclass(frozen=True)
class Door:
    name: str
    before: Sequence[Before | Adopted]
    after: Sequence[After | Adopted]


API = Door(
    doors.API,
    before=(
        choose_request_id,
        start_clock,
        refuse_oversized_headers,
        ratelimits.spend_before_authentication,
        boundary.declare_write_intent,
    ),
    after=(
        ratelimits.settle_and_tell,
        Adopted("cors", "after"),
        conditional.tag_and_answer_conditionally,
        api_responses_are_json,
        web_security.static_security_headers,
        boundary.commit,
        count_request,
        send_request_id,
    ),
)

OPS = Door(
    doors.OPS,
    before=(choose_request_id, start_clock, refuse_oversized_headers),
    after=(web_security.static_security_headers, boundary.commit, count_request, send_request_id),
)

WEB = Door(
    doors.WEB,
    before=(
        choose_request_id,
        start_clock,
        refuse_oversized_headers,
        boundary.declare_write_intent,
        checks.refuse_bodies_that_are_not_forms,
        Adopted("csrf", "before"),
        Adopted("talisman", "before"),
    ),
    after=(
        ratelimits.tell_route_limit,
        vary_by_language,
        Adopted("talisman", "after"),
        Adopted("login", "after"),
        checks.keep_out_of_shared_caches,
        boundary.commit,
        count_request,
        send_request_id,
    ),
)


def init_app(app: Flask) -> None:
    """Put the doors' steps on `app`: one `before_request` and one `after_request` function
    that run the steps of the request's door. Call last in `create_app`."""
    strays = [
        hook
        for registry in (app.before_request_funcs, app.after_request_funcs)
        for hook in registry.get(None, [])
    ]
    if strays:
        names = ", ".join(getattr(hook, "__qualname__", repr(hook)) for hook in strays)
        raise RuntimeError(f"request hooks outside microblog/pipeline.py: {names}")
    doors = {
        door.name: (resolve(app, door.before), resolve(app, door.after)) for door in (API, OPS, WEB)
    }
    app.extensions[DOORS] = doors

    def run_before() -> Response | None:
        for step in doors[door_of(request.path)][0]:
            answer = step()
            if answer is not None:
                return answer
        return None

    def run_after(response: Response) -> Response:
        for step in doors[door_of(request.path)][1]:
            response = step(response)
        return response

    app.before_request(run_before)
    app.after_request(run_after)
    app.teardown_request(boundary.forget_write_intent)


def describe(app: Flask) -> dict[str, dict[str, list[str]]]:
    """Each door's steps by name, in running order, as they are installed on `app`."""
    return {
        name: {
            "before": [_name(step) for step in before],
            "after": [_name(step) for step in after],
        }
        for name, (before, after) in app.extensions[DOORS].items()
    }


def _name(step: Any) -> str:
    owner = getattr(step, "__self__", None)
    function = getattr(step, "__func__", step)
    if hasattr(function, "func"):  # functools.partial
        function = function.func
    qualname = getattr(function, "__qualname__", repr(function))
    module = getattr(function, "__module__", "") or type(owner).__module__
    return f"{module}.{qualname}"
