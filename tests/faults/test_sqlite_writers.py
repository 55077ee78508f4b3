"""The embedded set-up (`make run`: gunicorn on one SQLite file) under concurrent writers.

Four gunicorn workers are four processes writing one SQLite file. Each writing request takes
the write lock when its transaction begins (BEGIN IMMEDIATE) and waits for it (the busy
timeout), so writers queue instead of failing: four client processes posting, messaging,
following and signing up as fast as they can never see "database is locked", nor any 5xx, and
every acknowledged write is stored exactly once.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.faults.fault_support import (
    check_writes,
    duration,
    new_marker,
    read_database,
    sign_up_clients,
    start_load,
    window_figures,
    write_figures,
)
from tests.faults.load import GRACE
from tests.server.live_support import run_live_server

pytestmark = pytest.mark.faults

CLIENTS = 4
WORKERS = 4
SECONDS = duration("FAULTS_SQLITE_SECONDS", 10.0)


def test_concurrent_writers_on_sqlite_never_see_database_is_locked(tmp_path: Path) -> None:
    database = tmp_path / "microblog.db"
    started = time.monotonic()
    with run_live_server(f"sqlite:///{database}", tmp_path, workers=WORKERS) as server:
        url = server.base_url
        users = sign_up_clients(url, CLIENTS)
        marker = new_marker()
        load = start_load(url, users, SECONDS, tmp_path, marker, signups=True)
        reports = load.reports(timeout=SECONDS + GRACE + 60)

    stored = read_database(f"sqlite:///{database}", marker, [user.id for user in users])
    writes = check_writes(reports, stored, users, [])
    figures = {
        "seconds": SECONDS,
        "clients": CLIENTS,
        "gunicorn_workers": WORKERS,
        "runtime_s": round(time.monotonic() - started, 1),
        **window_figures(reports, 0, float("inf")),
        "writes": writes,
    }
    write_figures("sqlite_writers", figures)
    print(f"\nsqlite_writers: {figures}")

    assert "database is locked" not in server.log_path.read_text()
    assert writes["client_errors"] == [], writes["client_errors"]
    assert figures["5xx"] == 0 and figures["connection_errors"] == 0, figures
    assert figures["timeouts"] == 0, figures
    assert writes["problems"] == [], writes["problems"]
    assert writes["abandoned"] == [], writes["abandoned"]
    assert writes["posts_acknowledged"] > 0 and writes["signups_acknowledged"] > 0
