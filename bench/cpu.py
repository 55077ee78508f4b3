"""CPU per request, in-process: what a route costs Microblog, and what it costs a bare Flask app.

No server, no network, no wrk: each request is one call of the WSGI application, so what is
measured is the Python work of the pipeline and the view (and, for database routes, the
driver's). Routes are measured in interleaved rounds and the median of the rounds is reported,
so a busy machine moves every route alike. Rate limits are on (in memory, budgets no run
spends), as in production.

    .venv/bin/python -m bench.cpu [--rounds 15] [--requests 300]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import bare
from bench.run import UNREFUSED

Call = Callable[[], None]


def _caller(app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Call:
    """One request of `app`, its body read to the end, as a server would."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=path, method=method, headers=headers, data=body).get_environ()

    def call() -> None:
        fresh = dict(environ)
        fresh["wsgi.input"] = io.BytesIO(body)
        result = app(fresh, lambda *_: None)
        try:
            for _chunk in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close:
                close()

    return call


def _microblog(folder: Path) -> tuple[Any, dict[str, Call]]:
    from microblog import create_app
    from microblog.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'cpu.db'}",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_API": UNREFUSED,
            "RATELIMIT_TOKENS": UNREFUSED,
            "PASSWORD_HASH": {"time_cost": 1, "memory_cost": 8, "parallelism": 1},
        }
    )
    with app.app_context():
        db.create_all()
    client = app.test_client()
    made = client.post(
        "/api/users",
        json={"username": "susan", "email": "susan@example.com", "password": "correct-horse"},
    )
    user_id = made.json["id"]
    import base64

    basic = base64.b64encode(b"susan:correct-horse").decode()
    token = client.post("/api/tokens", headers={"Authorization": f"Basic {basic}"}).json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    for number in range(20):
        client.post("/api/posts", json={"body": f"post number {number}"}, headers=auth)
    wsgi = app.wsgi_app
    return app, {
        "ping": _caller(wsgi, "GET", "/api/ping", {}),
        "user": _caller(wsgi, "GET", f"/api/users/{user_id}", auth),
        "posts": _caller(wsgi, "GET", "/api/posts", auth),
        "page": _caller(wsgi, "GET", "/login", {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=300)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        _app, calls = _microblog(Path(folder))
        calls = {"bare": _caller(bare.app.wsgi_app, "GET", "/", {}), **calls}
        for call in calls.values():  # warm: caches, statements, connections
            for _ in range(50):
                call()
        rounds: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(options.rounds):
            for name, call in calls.items():
                started = time.process_time()
                for _ in range(options.requests):
                    call()
                rounds[name].append((time.process_time() - started) / options.requests * 1e6)
    print(f"{'route':<8} {'µs CPU per request (median of rounds)':>40}", file=sys.stdout)
    for name, values in rounds.items():
        print(f"{name:<8} {statistics.median(values):>40.0f}")


if __name__ == "__main__":
    main()
