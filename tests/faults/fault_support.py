"""The fault tests' tools: starting the load, probing recovery, watching app servers (a test
restarts one with tests.server.live_support.running_gunicorn), reading the figures out of the
clients' reports and checking them against the database."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from tests.cluster.cluster_support import User, client, signed_up
from tests.faults.load import CONNECTION_ERROR, TIMED_OUT, Plan, Report, read_report, run_client

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUT = REPO_ROOT / "test-output" / "reliability.json"
# A request that takes longer than this has hung, as far as these tests are concerned.
REQUEST_TIMEOUT = 5.0
RECOVERY_LIMIT = 10.0
PROBE_PAUSE = 0.1


def duration(variable: str, default: float) -> float:
    """Seconds of load, from the environment (the full run sets FAULTS_SECONDS=60)."""
    return float(os.environ.get(variable) or default)


# -- the load ----------------------------------------------------------------------------------


@dataclass
class Load:
    """Client processes under way, and where their reports will be."""

    processes: list[multiprocessing.process.BaseProcess]
    outputs: list[Path]
    started_at: float
    stop_at: float

    def reports(self, timeout: float) -> list[Report]:
        """Wait for every client (each settles its last write first), then read them."""
        deadline = time.monotonic() + timeout
        for process in self.processes:
            process.join(max(0.1, deadline - time.monotonic()))
        hung = [process.pid for process in self.processes if process.is_alive()]
        for process in self.processes:
            if process.is_alive():
                process.kill()
                process.join(5)
        assert not hung, f"client processes {hung} did not finish"
        return [read_report(path) for path in self.outputs]


def sign_up_clients(base_url: str, count: int) -> list[User]:
    with client() as session:
        return [signed_up(session, base_url) for _ in range(count)]


def new_marker() -> str:
    """The text every body of one run starts with, to find them in the database."""
    return f"r{uuid.uuid4().hex[:10]}"


def start_load(
    base_url: str,
    users: list[User],
    seconds: float,
    workdir: Path,
    marker: str,
    *,
    signups: bool = False,
) -> Load:
    """One process per user, each loading the service for `seconds`, its peers the others."""
    context = multiprocessing.get_context("spawn")
    started_at = time.monotonic()
    stop_at = started_at + seconds
    processes: list[multiprocessing.process.BaseProcess] = []
    outputs: list[Path] = []
    for number, user in enumerate(users):
        output = workdir / f"client-{number}.json"
        plan = Plan(
            number=number,
            base_url=base_url,
            user_id=user.id,
            token=user.token,
            peers=[peer.id for peer in users if peer.id != user.id],
            marker=marker,
            stop_at=stop_at,
            output=str(output),
            timeout=REQUEST_TIMEOUT,
            signups=signups,
        )
        process = context.Process(target=run_client, args=(plan,), name=f"load-{number}")
        process.start()
        processes.append(process)
        outputs.append(output)
    return Load(processes, outputs, started_at, stop_at)


# -- recovery ----------------------------------------------------------------------------------


@dataclass
class Prober:
    """The test's own client: a request mix that must fully succeed for the service to count
    as recovered (GET /healthz, a read, and a post with an Idempotency-Key). Its acknowledged
    posts are owed like any client's."""

    base_url: str
    user: User
    marker: str
    session: requests.Session = field(default_factory=client)
    posts: list[tuple[int, str]] = field(default_factory=list)
    pending: dict[str, str] = field(default_factory=dict)

    def _get(self, path: str, **kwargs: Any) -> int:
        try:
            return self.session.get(
                self.base_url + path, timeout=REQUEST_TIMEOUT, **kwargs
            ).status_code
        except requests.RequestException:
            return CONNECTION_ERROR

    def post_ok(self) -> bool:
        """One post, retried with its key on the next call until acknowledged."""
        if not self.pending:
            self.pending = {
                "key": uuid.uuid4().hex,
                "body": f"{self.marker} probe {uuid.uuid4().hex}",
            }
        headers = {**self.user.headers, "Idempotency-Key": self.pending["key"]}
        try:
            response = self.session.post(
                f"{self.base_url}/api/posts",
                json={"body": self.pending["body"]},
                headers=headers,
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException:
            return False
        if response.status_code != 201:
            return False
        self.posts.append((int(response.json()["id"]), self.pending["body"]))
        self.pending = {}
        return True

    def mix_ok(self) -> bool:
        return (
            self._get("/healthz") == 200
            and self._get("/api/posts", headers=self.user.headers) == 200
            and self.post_ok()
        )

    def recovery(self, since: float, limit: float = 3 * RECOVERY_LIMIT) -> float:
        """Seconds from `since` until the whole mix first succeeds (`limit`'s value if never)."""
        while time.monotonic() < since + limit:
            if self.mix_ok():
                return round(time.monotonic() - since, 2)
            time.sleep(PROBE_PAUSE)
        return limit

    def settle(self) -> None:
        """Acknowledge the post still pending, if any."""
        deadline = time.monotonic() + 3 * RECOVERY_LIMIT
        while self.pending and time.monotonic() < deadline and not self.post_ok():
            time.sleep(PROBE_PAUSE)


# -- app servers -------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (a gunicorn master's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return found


def wait_for(check: Any, timeout: float, pause: float = 0.05) -> float | None:
    """Seconds until `check()` is true, or None if it is not within `timeout`."""
    started = time.monotonic()
    while time.monotonic() < started + timeout:
        if check():
            return round(time.monotonic() - started, 2)
        time.sleep(pause)
    return None


def healthz_status(url: str) -> int:
    try:
        return requests.get(f"{url}/healthz", timeout=REQUEST_TIMEOUT).status_code
    except requests.RequestException:
        return CONNECTION_ERROR


# -- figures -----------------------------------------------------------------------------------


@dataclass
class Fault:
    """One fault as the test caused it: when it began, when it was undone (the same moment for
    an instant one such as a kill), and what was measured."""

    name: str
    began: float
    undone: float
    figures: dict[str, Any] = field(default_factory=dict)


def window_figures(reports: list[Report], began: float, until: float) -> dict[str, int]:
    """Requests the clients finished in [began, until): how many, and how they failed. By the
    end, so a request a fault broke in flight counts against that fault."""
    entries = [
        entry
        for report in reports
        for entry in report.requests
        if began <= entry[0] + entry[1] < until
    ]
    statuses = [entry[3] for entry in entries]
    return {
        "requests": len(entries),
        "5xx": sum(status >= 500 for status in statuses),
        "connection_errors": sum(status == CONNECTION_ERROR for status in statuses),
        "timeouts": sum(status == TIMED_OUT for status in statuses),
        "slowest_ms": round(max((entry[1] for entry in entries), default=0.0) * 1000),
    }


@dataclass
class Stored:
    """What the database holds of a run, by the unique text in every body."""

    posts: dict[str, list[int]]
    messages: dict[str, list[int]]
    follows: set[tuple[int, int]]
    users: dict[str, int]
    counters_off: list[str]


def read_database(database_url: str, marker: str, user_ids: list[int]) -> Stored:
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            posts: dict[str, list[int]] = {}
            for row in conn.execute(
                sa.text("SELECT id, body FROM posts WHERE body LIKE :m"), {"m": f"{marker}%"}
            ):
                posts.setdefault(row.body, []).append(row.id)
            messages: dict[str, list[int]] = {}
            for row in conn.execute(
                sa.text("SELECT id, body FROM messages WHERE body LIKE :m"), {"m": f"{marker}%"}
            ):
                messages.setdefault(row.body, []).append(row.id)
            follows = {
                (row.follower_id, row.followed_id)
                for row in conn.execute(
                    sa.text("SELECT follower_id, followed_id FROM follows"),
                )
                if row.follower_id in user_ids
            }
            users = {row.username: row.n for row in conn.execute(
                sa.text("SELECT username, count(*) AS n FROM users GROUP BY username")
            )}  # fmt: skip
            # Counters are moved in the same transaction as the rows they count.
            counters_off = [
                f"user {row.id}: {row.following_count} following, {row.rows} rows"
                for row in conn.execute(
                    sa.text(
                        "SELECT u.id, u.following_count, "
                        "(SELECT count(*) FROM follows f WHERE f.follower_id = u.id) AS rows "
                        "FROM users u"
                    )
                )
                if row.id in user_ids and row.following_count != row.rows
            ]
    finally:
        engine.dispose()
    return Stored(posts, messages, follows, users, counters_off)


def check_writes(
    reports: list[Report], stored: Stored, users: list[User], probe_posts: list[tuple[int, str]]
) -> dict[str, Any]:
    """Every acknowledged write is in the database exactly once, with the id the client was
    told, and nothing is stored twice; returns the counts and a list of what is wrong."""
    problems: list[str] = []
    posts = [post for report in reports for post in report.posts] + probe_posts
    messages = [(m_id, body) for report in reports for m_id, body, _ in report.messages]
    found = {"posts": 0, "messages": 0}
    for kind, acknowledged, table in (
        ("posts", posts, stored.posts),
        ("messages", messages, stored.messages),
    ):
        for row_id, body in acknowledged:
            if table.get(body) == [row_id]:
                found[kind] += 1
            else:
                problems.append(f"{body!r} acknowledged as {row_id}, stored as {table.get(body)}")
        problems += [
            f"{body!r} stored {len(ids)} times" for body, ids in table.items() if len(ids) > 1
        ]
    expected = {
        (user.id, peer)
        for user, report in zip(users, reports, strict=True)
        for peer in report.following
    }
    if stored.follows != expected:
        problems.append(
            f"follows: missing {expected - stored.follows}, unexpected {stored.follows - expected}"
        )
    problems += stored.counters_off
    signups = [name for report in reports for name in report.signups]
    problems += [
        f"sign-up {name} stored {stored.users.get(name, 0)} times"
        for name in signups
        if stored.users.get(name) != 1
    ]
    follow_changes = sum(report.follow_changes for report in reports)
    return {
        "posts_acknowledged": len(posts),
        "posts_found_once": found["posts"],
        "messages_acknowledged": len(messages),
        "messages_found_once": found["messages"],
        "follow_changes_acknowledged": follow_changes,
        "follows_expected_and_found": f"{len(stored.follows & expected)}/{len(expected)}",
        "signups_acknowledged": len(signups),
        "abandoned": [item for report in reports for item in report.abandoned],
        "client_errors": [item for report in reports for item in report.errors],
        "problems": problems,
    }


def write_figures(section: str, figures: dict[str, Any]) -> None:
    """Merge `figures` under `section` into test-output/reliability.json."""
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    existing: dict[str, Any] = {}
    if OUTPUT.exists():
        with contextlib.suppress(ValueError):
            existing = json.loads(OUTPUT.read_text())
    existing[section] = figures
    OUTPUT.write_text(json.dumps(existing, indent=2, default=str) + "\n")
