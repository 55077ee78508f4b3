"""The operations pieces under the real gunicorn with two workers: /metrics sums what both
workers served, every log line is JSON, rate limits are counted in Redis across the workers,
and /healthz answers.

The server runs as in production with limits on, counted in the tests' Redis under a key
prefix of its own, and Prometheus files in a directory the test gives it (holding a stale file
that the server must clear at start).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.ops.ops_support import delete_rate_limit_keys, redis_or_skip, unique_prefix
from tests.server.live_support import LiveServer, call, run_live_server

pytestmark = pytest.mark.live

TOKENS_LIMIT = 5
STALE_FILE = "counter_999999.db"
LOG_WAIT = 10.0


@dataclass(frozen=True)
class OpsServer:
    live: LiveServer
    metrics_dir: Path


@pytest.fixture(scope="module")
def ops_server(
    backend: str,
    database_factory: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OpsServer]:
    redis_url = redis_or_skip()
    prefix = unique_prefix()
    metrics_dir = tmp_path_factory.mktemp("metrics")
    (metrics_dir / STALE_FILE).write_bytes(b"counts of an earlier run, not this one's")
    env = {
        "RATELIMIT_ENABLED": "true",
        "REDIS_URL": redis_url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_TOKENS": f"{TOKENS_LIMIT} per minute",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    try:
        with run_live_server(
            database_factory(backend), tmp_path_factory.mktemp("ops"), extra_env=env
        ) as live:
            yield OpsServer(live, metrics_dir)
    finally:
        delete_rate_limit_keys(redis_url, prefix)


def log_records(server: LiveServer) -> list[dict[str, Any]]:
    """The server's log lines from its first JSON one on (the migration before it is not the
    server's), each parsed: a line that is not JSON fails the test."""
    lines = server.log_path.read_text(errors="replace").splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("{"))
    records = []
    for line in lines[first:]:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line that is not JSON: {line!r}")
    return records


def access_records(server: LiveServer, request_ids: set[str]) -> list[dict[str, Any]]:
    """The access log records of these requests, waiting for them to be written."""
    deadline = time.monotonic() + LOG_WAIT
    while True:
        found = [
            record
            for record in log_records(server)
            if record.get("logger") == "gunicorn.access" and record.get("request_id") in request_ids
        ]
        if len(found) >= len(request_ids) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def tagged(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def healthz_count(server: LiveServer) -> float:
    response = call(server, "GET", "/metrics")
    assert response.status_code == 200, response.text
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "microblog_http_requests_total"
        and sample.labels.get("endpoint") == "healthz"
        and sample.labels.get("status") == "200"
    )


def concurrently(requests_to_make: list[Callable[[], requests.Response]]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda make: make(), requests_to_make))


def test_the_server_clears_stale_metrics_files_at_start(ops_server: OpsServer) -> None:
    assert not (ops_server.metrics_dir / STALE_FILE).exists()
    assert call(ops_server.live, "GET", "/metrics").status_code == 200


def test_metrics_add_up_the_requests_served_by_every_worker(ops_server: OpsServer) -> None:
    server = ops_server.live
    before = healthz_count(server)
    made = 0
    pids: set[int] = set()
    # Until both workers have served some (the kernel hands connections to either).
    for _round in range(6):
        ids = {tagged("metrics") for _ in range(50)}
        answers = concurrently(
            [
                lambda request_id=request_id: call(
                    server, "GET", "/healthz", headers={"X-Request-ID": request_id}
                )
                for request_id in ids
            ]
        )
        assert all(answer.status_code == 200 for answer in answers)
        made += len(ids)
        pids |= {record["pid"] for record in access_records(server, ids)}
        if len(pids) >= 2:
            break
    assert len(pids) == 2, "one worker served every request: the sum is not tested"

    # Whichever worker answers the scrape counts every worker's requests.
    for _scrape in range(4):
        assert healthz_count(server) - before == made >= 50


def test_every_log_line_is_json_and_the_access_log_has_the_request_id(
    ops_server: OpsServer,
) -> None:
    server = ops_server.live
    request_id = tagged("logs")

    response = call(server, "GET", "/api/users?page=2", headers={"X-Request-ID": request_id})

    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == request_id
    (access,) = access_records(server, {request_id})
    assert access["method"] == "GET"
    assert access["path"] == "/api/users"
    assert access["query"] == "page=2"
    assert access["status"] == 401
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0
    assert access["level"] == "INFO" and access["time"]
    records = log_records(server)
    booted = [r for r in records if "Booting worker" in str(r.get("message"))]
    assert len(booted) >= 2 and all(r["logger"] == "gunicorn.error" for r in booted)


def test_token_guessing_is_limited_across_both_workers_through_redis(
    ops_server: OpsServer,
) -> None:
    server = ops_server.live
    attempts = {tagged("guess"): f"nobody_{index}" for index in range(TOKENS_LIMIT + 7)}

    answers = concurrently(
        [
            lambda request_id=request_id, username=username: call(
                server,
                "POST",
                "/api/tokens",
                auth=(username, "wrong"),
                headers={"X-Request-ID": request_id},
            )
            for request_id, username in attempts.items()
        ]
    )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [401] * TOKENS_LIMIT + [429] * 7
    refused = [answer for answer in answers if answer.status_code == 429]
    for answer in refused:
        assert answer.json()["error"] == "Too Many Requests"
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.headers["RateLimit-Remaining"] == "0"
    served_by = {record["pid"] for record in access_records(server, set(attempts))}
    assert len(served_by) == 2, "one worker served every guess: the sharing is not tested"

    # The limiter's own log line about each refusal is JSON, tied to the refused request.
    refused_ids = {answer.headers["X-Request-ID"] for answer in refused}
    noted = {
        record.get("request_id")
        for record in log_records(server)
        if record.get("logger") == "flask-limiter" and "exceeded" in str(record.get("message"))
    }
    assert refused_ids <= noted


def test_healthz_answers_with_the_database_and_redis(ops_server: OpsServer) -> None:
    response = call(ops_server.live, "GET", "/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_a_server_makes_a_metrics_directory_of_its_own_and_removes_it_when_it_stops(
    database_factory: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with run_live_server(database_factory("sqlite"), tmp_path_factory.mktemp("own")) as server:
        (said,) = [
            record["message"]
            for record in log_records(server)
            if "Prometheus metrics" in str(record.get("message"))
        ]
        directory = Path(said.rsplit(" ", 1)[-1])
        assert call(server, "GET", "/healthz").status_code == 200
        assert call(server, "GET", "/metrics").status_code == 200
        assert directory.is_dir() and any(directory.glob("counter_*.db"))
    assert not directory.exists()


def test_no_reset_token_or_secret_parameter_reaches_the_server_s_log(
    ops_server: OpsServer,
) -> None:
    server = ops_server.live
    request_id = tagged("secrets")
    token = f"eyJ1c2VyIjoiMSJ9.{uuid.uuid4().hex}.{uuid.uuid4().hex}"
    referer_token = uuid.uuid4().hex

    response = call(
        server,
        "GET",
        f"/reset_password/{token}?access_token=query-{token}",
        headers={
            "X-Request-ID": request_id,
            "Referer": f"{server.base_url}/reset_password/{referer_token}",
        },
        allow_redirects=False,
    )

    assert response.status_code == 302  # an invalid link: back to the request form
    (access,) = access_records(server, {request_id})
    assert access["path"] == "/reset_password/[redacted]"
    assert access["query"] == "access_token=[redacted]"
    assert access["referer"] == f"{server.base_url}/reset_password/[redacted]"
    log = server.log_path.read_text(errors="replace")
    assert token not in log and referer_token not in log
