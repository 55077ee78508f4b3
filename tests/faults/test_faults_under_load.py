"""The scaled-out service under a steady mixed load, broken five ways in turn.

Four client processes read and write through nginx for FAULTS_SECONDS (40 s in CI; the full
run is 60 s) while the test kills a gunicorn worker, kills a whole app server and restarts it,
restarts PostgreSQL, takes Redis away for a few seconds, and floods nginx with far more
concurrent requests than the app servers have workers. After each fault the service must
answer a full request mix again within 10 s; no request may hang past its 5 s timeout; and at
the end every post, message and follow a client was told about is in the database exactly
once. The figures go to test-output/reliability.json (RELIABILITY.md quotes them).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from microblog.tasks.executors import UNQUEUED
from tests.cluster.cluster_support import Cluster, User, alive, client, kill_group
from tests.faults.fault_support import (
    RECOVERY_LIMIT,
    REQUEST_TIMEOUT,
    Fault,
    Prober,
    check_writes,
    children,
    duration,
    healthz_status,
    new_marker,
    read_database,
    sign_up_clients,
    start_load,
    wait_for,
    window_figures,
    write_figures,
)
from tests.faults.load import GRACE, TIMED_OUT
from tests.faults.services import PrivatePostgres, PrivateRedis
from tests.server.live_support import running_gunicorn

pytestmark = pytest.mark.faults

CLIENTS = 4
SECONDS = duration("FAULTS_SECONDS", 40.0)
# When each fault begins, as a fraction of the run.
SCHEDULE = (0.08, 0.22, 0.42, 0.6, 0.8)
APP_SERVER_DOWN = 2.0
REDIS_DOWN = 3.0
FLOOD = 200
# An app server restarted by hand boots (imports, workers) on a busy 2-core machine.
RESTART_LIMIT = 30.0


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def kill_a_worker(cluster: Cluster, prober: Prober) -> Fault:
    """SIGKILL one gunicorn worker of app-1: its master starts another."""
    master = cluster.pid("app-1")
    workers = children(master)
    assert workers, f"app-1 (pid {master}) has no workers"
    victim = workers[0]
    began = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    recovery = prober.recovery(began)
    replaced = wait_for(
        lambda: victim not in children(master) and len(children(master)) >= len(workers), 60
    )
    return Fault(
        "kill -9 one gunicorn worker",
        began,
        began,
        {"recovery_s": recovery, "worker_replaced_s": replaced},
    )


def kill_and_restart_an_app_server(
    cluster: Cluster, env: dict[str, str], prober: Prober, restarted: contextlib.ExitStack
) -> Fault:
    """SIGKILL app-2's master and workers; the other server carries on; restart app-2 (as
    scripts/cluster started it: its port, log and metrics directory), stopped with `restarted`."""
    app = cluster.apps[1]
    pid = cluster.pid(app.name)
    began = time.monotonic()
    kill_group(pid)
    recovery = prober.recovery(began)
    assert wait_for(lambda: not alive(pid), 10) is not None, f"{app.name} survived SIGKILL"
    _sleep_until(began + APP_SERVER_DOWN)
    undone = time.monotonic()
    restarted.enter_context(
        running_gunicorn(
            {
                **env,
                # What scripts/cluster adds to the environment of each of its app servers.
                "TRUSTED_PROXIES": "1",
                "PYTHONUNBUFFERED": "1",
                "PROMETHEUS_MULTIPROC_DIR": str(cluster.run_dir / f"{app.name}-metrics"),
            },
            app.port,
            cluster.run_dir / f"{app.name}.log",
        )
    )
    serving = wait_for(lambda: healthz_status(app.url) == 200, 2 * RESTART_LIMIT, pause=0.2)
    return Fault(
        "kill -9 a whole app server, then restart it",
        began,
        undone,
        {"recovery_s": recovery, "restarted_server_serving_s": serving},
    )


def restart_postgres(postgres: PrivatePostgres, prober: Prober) -> Fault:
    """`pg_ctl restart -m fast`: every pooled connection of every app server goes stale."""
    began = time.monotonic()
    postgres.restart()
    undone = time.monotonic()
    return Fault(
        "restart PostgreSQL (pg_ctl restart -m fast)",
        began,
        undone,
        {"restart_s": round(undone - began, 2), "recovery_s": prober.recovery(undone)},
    )


def _timed(call: Callable[[], requests.Response]) -> tuple[int, float]:
    started = time.monotonic()
    try:
        status = call().status_code
    except requests.Timeout:
        status = TIMED_OUT
    except requests.RequestException:
        status = 0
    return status, round(time.monotonic() - started, 2)


def _start_export(session: requests.Session, url: str, user: User) -> requests.Response:
    return session.post(
        f"{url}/api/tasks",
        json={"name": "export_posts"},
        headers=user.headers,
        timeout=REQUEST_TIMEOUT,
    )


def _export_done(session: requests.Session, url: str, user: User, location: str) -> bool:
    task = session.get(f"{url}{location}", headers=user.headers, timeout=REQUEST_TIMEOUT).json()
    return bool(task["complete"]) and task["error"] is None


def take_redis_away(redis: PrivateRedis, cluster: Cluster, prober: Prober) -> Fault:
    """SIGKILL Redis for a few seconds. Meanwhile posting works (rate limits count in memory),
    /healthz answers 200 "degraded" (the load balancer keeps the server), and an export is
    answered at once, failed with a clear message since it cannot be queued. Once Redis is
    back, exports run on the worker again."""
    session = client()
    began = time.monotonic()
    redis.stop()
    healthz_said: list[object] = []

    def ask_healthz() -> requests.Response:
        answer = prober.session.get(f"{cluster.url}/healthz", timeout=REQUEST_TIMEOUT)
        try:
            healthz_said.append(answer.json().get("status"))
        except ValueError:  # not JSON: nginx's own error page
            healthz_said.append(answer.text[:200])
        return answer

    healthz_during, healthz_s = _timed(ask_healthz)
    healthz_says = healthz_said[0] if healthz_said else None
    posted = prober.post_ok()
    export_status, export_s = _timed(lambda: _start_export(session, cluster.url, prober.user))
    export_error = None
    if export_status == 202:
        tasks = session.get(
            f"{cluster.url}/api/tasks", headers=prober.user.headers, timeout=REQUEST_TIMEOUT
        ).json()
        export_error = tasks["items"][0]["error"] if tasks.get("items") else None
    _sleep_until(began + REDIS_DOWN)
    redis.start()
    undone = time.monotonic()
    recovery = prober.recovery(undone)

    # Jobs recover too: an export started now is run by the worker.
    started = time.monotonic()
    answer = _start_export(session, cluster.url, prober.user)
    job_done = None
    if answer.status_code == 202:
        location = answer.headers["Location"]
        job_done = wait_for(
            lambda: _export_done(session, cluster.url, prober.user, location), 60, pause=0.2
        )
    job_done_s = round(time.monotonic() - started, 2) if job_done is not None else None
    return Fault(
        "stop Redis for 3 s",
        began,
        undone,
        {
            "recovery_s": recovery,
            "healthz_during": healthz_during,
            "healthz_during_s": healthz_s,
            "healthz_during_says": healthz_says,
            "post_during_outage_acknowledged": posted,
            "export_during_outage": {"status": export_status, "seconds": export_s},
            "export_during_outage_error": export_error,
            "export_after_recovery_status": answer.status_code,
            "export_after_recovery_done_s": job_done_s,
        },
    )


def flood(cluster: Cluster, prober: Prober) -> Fault:
    """FLOOD concurrent requests at once, far past the app servers' 4 workers: nginx's
    max_conns refuses the excess at once with a JSON 503 instead of queueing it."""
    barrier = threading.Barrier(FLOOD)
    results: list[tuple[int, float, str]] = []
    lock = threading.Lock()

    def one() -> None:
        with client() as session:
            barrier.wait()
            started = time.monotonic()
            body = ""
            try:
                response = session.get(
                    f"{cluster.url}/api/posts",
                    headers=prober.user.headers,
                    timeout=REQUEST_TIMEOUT,
                )
                status, body = response.status_code, response.text[:100]
            except requests.Timeout:
                status = TIMED_OUT
            except requests.RequestException:
                status = 0
            with lock:
                results.append((status, time.monotonic() - started, body))

    threads = [threading.Thread(target=one, daemon=True) for _ in range(FLOOD)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    for thread in threads:
        thread.join(3 * REQUEST_TIMEOUT)
    undone = time.monotonic()
    statuses = [status for status, _, _ in results]
    refused = [body for status, _, body in results if status == 503]
    return Fault(
        f"flood: {FLOOD} concurrent requests",
        began,
        undone,
        {
            "recovery_s": prober.recovery(undone),
            "flood_answered": len(results),
            "flood_ok": statuses.count(200),
            "flood_refused_503": len(refused),
            "flood_refused_as_json": sum(body.startswith("{") for body in refused),
            "flood_other": sorted({s for s in statuses if s not in (200, 503)}),
            "flood_slowest_ms": round(max((d for _, d, _ in results), default=0) * 1000),
        },
    )


def test_the_service_recovers_from_each_fault_within_10_s_and_keeps_every_acknowledged_write(
    fault_cluster: Cluster,
    cluster_env: dict[str, str],
    private_postgres: PrivatePostgres,
    private_redis: PrivateRedis,
    tmp_path: Path,
) -> None:
    cluster = fault_cluster
    test_started = time.monotonic()
    *users, probe_user = sign_up_clients(cluster.url, CLIENTS + 1)
    marker = new_marker()
    prober = Prober(cluster.url, probe_user, marker)
    load = start_load(cluster.url, users, SECONDS, tmp_path, marker)
    faults: list[Fault] = []
    with contextlib.ExitStack() as restarted:
        try:
            steps: list[Callable[[], Fault]] = [
                lambda: kill_a_worker(cluster, prober),
                lambda: kill_and_restart_an_app_server(cluster, cluster_env, prober, restarted),
                lambda: restart_postgres(private_postgres, prober),
                lambda: take_redis_away(private_redis, cluster, prober),
                lambda: flood(cluster, prober),
            ]
            for fraction, step in zip(SCHEDULE, steps, strict=True):
                _sleep_until(load.started_at + fraction * SECONDS)
                faults.append(step())
        finally:
            reports = load.reports(timeout=SECONDS + GRACE + 60)
        prober.settle()

    stored = read_database(cluster.database_url, marker, [user.id for user in users])
    writes = check_writes(reports, stored, users, prober.posts)
    ends = [fault.began for fault in faults[1:]] + [load.stop_at + GRACE]
    figures: dict[str, Any] = {
        "seconds": SECONDS,
        "clients": CLIENTS,
        "runtime_s": round(time.monotonic() - test_started, 1),
        "all": window_figures(reports, 0, float("inf")),
        "before_the_first_fault": window_figures(reports, 0, faults[0].began),
        "faults": [
            {"fault": fault.name, **window_figures(reports, fault.began, end), **fault.figures}
            for fault, end in zip(faults, ends, strict=True)
        ],
        "writes": writes,
    }
    section = "cluster_full" if SECONDS >= 60 else "cluster_ci"
    write_figures(section, figures)
    print(f"\n{section}: {figures}")

    for fault in faults:
        assert fault.figures["recovery_s"] <= RECOVERY_LIMIT, (fault.name, fault.figures)
    assert figures["all"]["timeouts"] == 0, "a request hung past its timeout"
    assert figures["before_the_first_fault"]["5xx"] == 0, figures["before_the_first_fault"]
    assert writes["problems"] == [], writes["problems"]
    assert writes["client_errors"] == [], writes["client_errors"]
    assert writes["abandoned"] == [], writes["abandoned"]
    assert writes["posts_acknowledged"] > 0 and writes["messages_acknowledged"] > 0

    worker, app_server, _postgres, redis, flooded = (fault.figures for fault in faults)
    assert worker["worker_replaced_s"] is not None, cluster.log_tail("app-1")
    assert app_server["restarted_server_serving_s"] is not None
    assert app_server["restarted_server_serving_s"] <= RESTART_LIMIT, app_server

    assert redis["post_during_outage_acknowledged"], redis
    assert redis["healthz_during"] == 200, redis
    assert redis["healthz_during_says"] == "degraded", redis
    export = redis["export_during_outage"]
    assert export["seconds"] < REQUEST_TIMEOUT, redis
    assert export["status"] == 503 or (
        export["status"] == 202 and redis["export_during_outage_error"] == UNQUEUED
    ), redis
    assert redis["export_after_recovery_status"] == 202, redis
    assert redis["export_after_recovery_done_s"] is not None, cluster.log_tail("worker")
    assert redis["export_after_recovery_done_s"] <= RECOVERY_LIMIT, redis

    assert flooded["flood_answered"] == FLOOD, flooded
    assert flooded["flood_refused_503"] > 0, flooded
    assert flooded["flood_refused_as_json"] == flooded["flood_refused_503"], flooded
    assert flooded["flood_other"] == [], flooded
    assert flooded["flood_slowest_ms"] < REQUEST_TIMEOUT * 1000, flooded
