"""Prometheus metrics at `GET /metrics`, in the text exposition format.

- `microblog_http_requests_total{method, endpoint, status}`: requests answered.
- `microblog_http_request_duration_seconds{method, endpoint, status}`: how long they took, as a
  histogram (from the first step of the request's pipeline to its last: microblog/pipeline.py).

`endpoint` is the Flask endpoint (`api.users.get_one_user`), never the path, so the number of
series stays bounded whatever clients ask for; a request that matched no route is `unmatched`,
and a method outside HTTP's usual ones is `other`.

Under gunicorn, each worker process counts its own requests, so a scrape answered by one worker
must add up all of them: with PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it to a
directory of the server's own, emptied at start), prometheus_client's multiprocess mode keeps
every worker's counts in files there and the scrape sums them, dead workers' included. Without
it (`flask run`, tests), counts live in the application's own registry.

`/metrics` asks for no authentication and is not rate limited: in production let only the
Prometheus server reach it (an nginx `location /metrics { allow ...; deny all; }`, or a
firewall).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

EXTENSION = "microblog.metrics"
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LABELS = ("method", "endpoint", "status")
UNMATCHED = "unmatched"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR) or None


@dataclass(frozen=True)
class RequestMetrics:
    registry: CollectorRegistry | None
    requests: Counter
    duration: Histogram

    @classmethod
    def create(cls) -> RequestMetrics:
        # In multiprocess mode the values live in files and a scrape reads them all; the
        # metrics then belong to no registry of this process.
        registry = None if multiprocess_dir() else CollectorRegistry()
        return cls(
            registry=registry,
            requests=Counter(
                "microblog_http_requests",
                "HTTP requests answered, by Flask endpoint and status.",
                LABELS,
                registry=registry,
            ),
            duration=Histogram(
                "microblog_http_request_duration_seconds",
                "Time to answer an HTTP request, by Flask endpoint and status.",
                LABELS,
                registry=registry,
            ),
        )

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        labels = (method, endpoint, str(status))
        self.requests.labels(*labels).inc()
        self.duration.labels(*labels).observe(seconds)

    def exposition(self) -> bytes:
        if self.registry is not None:
            return generate_latest(self.registry)
        scrape = CollectorRegistry()
        MultiProcessCollector(scrape)
        return generate_latest(scrape)


def init_app(app: Flask) -> None:
    """Count and time every request, and serve /metrics. Call early in `create_app`, so the
    timing spans the other hooks."""
    metrics = RequestMetrics.create()
    app.extensions[EXTENSION] = metrics

    app.add_url_rule("/metrics", "metrics", serve_metrics)


def start_clock() -> None:
    """Pipeline step, early in every door, so the time spans the other steps."""
    g.request_started = time.perf_counter()


def count_request(response: Response) -> Response:
    """Pipeline step, late in every door."""
    started = g.pop("request_started", None)
    if started is not None:
        metrics: RequestMetrics = current_app.extensions[EXTENSION]
        method = request.method if request.method in METHODS else "other"
        endpoint = request.url_rule.endpoint if request.url_rule else UNMATCHED
        metrics.observe(method, endpoint, response.status_code, time.perf_counter() - started)
    return response


def serve_metrics() -> Response:
    """The metrics, in Prometheus's text format."""
    metrics: RequestMetrics = current_app.extensions[EXTENSION]
    response = Response(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
