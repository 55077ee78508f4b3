"""The benchmark's ceiling: a bare Flask app with one route, no extension and no hook.

`make bench` serves it the way the ceiling of every ratio is defined (gunicorn, sync workers,
one per core) beside Microblog, in the same run, so a ratio says how close an endpoint comes
to what Flask itself serves on this machine, not to a route that already carries Microblog's
own overhead. Its answer is the size of `/api/ping`'s.

    gunicorn --workers 2 bench.bare:app
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def ping() -> dict[str, str]:
    return {"status": "ok"}
