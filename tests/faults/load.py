"""The steady mixed load of the fault tests, run in client processes of their own.

Each client reads (feed, explore, a user, one of its posts) and writes (posts and messages,
each with an Idempotency-Key; follows and unfollows; optionally sign-ups) in a loop until its
run ends. A write is retried, with the same key, until the service acknowledges it (2xx), so
the client knows exactly which writes the service owes it. Every request is recorded: when it
started, how long it took and how it ended (a status; 0 for a connection error, -1 for a
timeout). The record is written as JSON for the test to check against the database.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.cluster.cluster_support import PASSWORD, client

CONNECTION_ERROR = 0
TIMED_OUT = -1
# A write is retried this long after the run's end before it is given up: a fault near the end
# must not leave writes unsettled.
GRACE = 15.0
RETRY_PAUSE = 0.1
# Sign-ups hash a password (Argon2, deliberately slow): one every this many rounds.
SIGNUP_EVERY = 8
ROUND = (
    "post",
    "feed",
    "user",
    "message",
    "explore",
    "own_post",
    "follow",
    "feed",
)


@dataclass
class Plan:
    """What one client does: as whom, against which peers, until when, and where it reports."""

    number: int
    base_url: str
    user_id: int
    token: str
    peers: list[int]
    marker: str
    stop_at: float  # time.monotonic(), which is system-wide on Linux
    output: str
    timeout: float = 5.0
    pause: float = 0.02
    signups: bool = False


@dataclass
class Report:
    """What one client saw: every request, and every write the service acknowledged."""

    number: int
    requests: list[tuple[float, float, str, int]] = field(default_factory=list)
    posts: list[tuple[int, str]] = field(default_factory=list)
    messages: list[tuple[int, str, int]] = field(default_factory=list)
    # The follows this client ends with, by the acknowledged follows and unfollows.
    following: list[int] = field(default_factory=list)
    follow_changes: int = 0
    signups: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    # Answers no retry can fix (4xx other than 429, or 5xx bodies worth reading).
    errors: list[str] = field(default_factory=list)


class Client:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.report = Report(plan.number)
        self.session = client()
        self.auth = {"Authorization": f"Bearer {plan.token}"}
        self.following: set[int] = set()
        self.counter = itertools.count()

    # -- one request, recorded -----------------------------------------------------------------

    def request(self, op: str, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        kwargs.setdefault("headers", self.auth)
        started = time.monotonic()
        response: requests.Response | None = None
        try:
            response = self.session.request(
                method, self.plan.base_url + path, timeout=self.plan.timeout, **kwargs
            )
            status = response.status_code
        except requests.Timeout:
            status = TIMED_OUT
        except requests.RequestException:
            status = CONNECTION_ERROR
        self.report.requests.append((started, time.monotonic() - started, op, status))
        if response is not None and status >= 500:
            text = response.text[:200]
            if "database is locked" in text or not text.lstrip().startswith("{"):
                self.report.errors.append(f"{op} {path}: {status} {text!r}")
        return response

    def write(
        self,
        op: str,
        method: str,
        path: str,
        done_before: Callable[[requests.Response], bool] = lambda _response: False,
        **kwargs: Any,
    ) -> requests.Response | None:
        """Send until acknowledged (same request, same key); None if the run ended first or
        the service refused it for good. `done_before` recognises the answer of a retry whose
        earlier attempt did the work (409 "already following")."""
        attempt = 0
        while time.monotonic() < self.plan.stop_at + GRACE:
            response = self.request(op, method, path, **kwargs)
            if response is not None:
                status = response.status_code
                if 200 <= status < 300 or (attempt and done_before(response)):
                    return response
                if status == 429:
                    time.sleep(min(1.0, float(response.headers.get("Retry-After") or 1)))
                elif status < 500:
                    self.report.errors.append(f"{op} {path}: {status} {response.text[:200]!r}")
                    return None
            attempt += 1
            time.sleep(RETRY_PAUSE)
        self.report.abandoned.append(f"{op} {method} {path} {kwargs.get('json')}")
        return None

    # -- the operations ------------------------------------------------------------------------

    def keyed(self) -> dict[str, str]:
        return {**self.auth, "Idempotency-Key": uuid.uuid4().hex}

    def body(self, kind: str) -> str:
        return f"{self.plan.marker} c{self.plan.number} {kind} {next(self.counter)}"

    def post(self) -> None:
        body = self.body("post")
        answer = self.write("post", "POST", "/api/posts", json={"body": body}, headers=self.keyed())
        if answer is not None:
            self.report.posts.append((int(answer.json()["id"]), body))

    def message(self) -> None:
        recipient = self.plan.peers[next(self.counter) % len(self.plan.peers)]
        body = self.body("message")
        answer = self.write(
            "message",
            "POST",
            "/api/messages",
            json={"recipient_id": recipient, "body": body},
            headers=self.keyed(),
        )
        if answer is not None:
            self.report.messages.append((int(answer.json()["id"]), body, recipient))

    def follow(self) -> None:
        """Follow the next peer, or unfollow them if already followed; a retry that finds the
        work done (409) succeeded."""
        peer = self.plan.peers[next(self.counter) % len(self.plan.peers)]
        unfollowing = peer in self.following
        answer = self.write(
            "unfollow" if unfollowing else "follow",
            "DELETE" if unfollowing else "POST",
            f"/api/me/following/{peer}",
            done_before=lambda response: response.status_code == 409,
        )
        if answer is not None:
            self.following.symmetric_difference_update({peer})
            self.report.follow_changes += 1

    def signup(self) -> None:
        """A sign-up has no key: a retry finding the name taken (by its earlier attempt,
        the name being unique to this client) succeeded."""
        username = f"s{self.plan.number}x{uuid.uuid4().hex[:10]}"
        answer = self.write(
            "signup",
            "POST",
            "/api/users",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
            headers={},
            done_before=lambda response: response.status_code in (400, 409),
        )
        if answer is not None:
            self.report.signups.append(username)

    def read(self, op: str) -> None:
        if op == "feed":
            self.request(op, "GET", "/api/feed")
        elif op == "explore":
            self.request(op, "GET", "/api/posts")
        elif op == "user":
            peer = self.plan.peers[next(self.counter) % len(self.plan.peers)]
            self.request(op, "GET", f"/api/users/{peer}")
        elif op == "own_post" and self.report.posts:
            self.request(op, "GET", f"/api/posts/{self.report.posts[-1][0]}")

    def run(self) -> Report:
        writes: dict[str, Callable[[], None]] = {
            "post": self.post,
            "message": self.message,
            "follow": self.follow,
        }
        for number in itertools.count():
            if time.monotonic() >= self.plan.stop_at:
                break
            for op in ROUND:
                if time.monotonic() >= self.plan.stop_at:
                    break
                writes[op]() if op in writes else self.read(op)
                time.sleep(self.plan.pause)
            if self.plan.signups and number % SIGNUP_EVERY == 0:
                self.signup()
        self.report.following = sorted(self.following)
        return self.report


def run_client(plan: Plan) -> None:
    """A client process's whole life: load until the plan's end, then write the report."""
    report = Client(plan).run()
    Path(plan.output).write_text(json.dumps(asdict(report)))


def read_report(path: Path) -> Report:
    data = json.loads(path.read_text())
    return Report(
        number=data["number"],
        requests=[tuple(entry) for entry in data["requests"]],  # type: ignore[misc]
        posts=[tuple(entry) for entry in data["posts"]],  # type: ignore[misc]
        messages=[tuple(entry) for entry in data["messages"]],  # type: ignore[misc]
        following=data["following"],
        follow_changes=data["follow_changes"],
        signups=data["signups"],
        abandoned=data["abandoned"],
        errors=data["errors"],
    )
