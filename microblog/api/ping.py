"""A fixed answer that touches nothing: liveness for load balancers, and the benchmark's ceiling
(the fastest any route of this app can be, through the same server and middleware)."""

from __future__ import annotations

from flask import Blueprint
from typing_extensions import TypedDict

from microblog.api.spec import operation

bp = Blueprint("ping", __name__)


class PingOut(TypedDict):
    status: str


@bp.get("/ping")
@operation(tag="meta", auth=None, response=PingOut)
def ping() -> dict[str, str]:
    """Answer at once, without touching the database."""
    return {"status": "ok"}
