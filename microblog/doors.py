"""Which door a request comes in by, from its path alone (cheap: every request asks)."""

from __future__ import annotations

API = "api"
OPS = "ops"
WEB = "web"
# The operations endpoints: what load balancers and Prometheus read.
OPS_PATHS = frozenset({"/healthz", "/metrics"})


def door_of(path: str) -> str:
    """`API` for /api and below, `OPS` for the operations endpoints, `WEB` for the rest."""
    if path.startswith("/api/") or path == "/api":
        return API
    if path in OPS_PATHS:
        return OPS
    return WEB
