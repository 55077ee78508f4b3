"""The scaled-out cluster (`make cluster`): nginx in front of two gunicorn app servers and an
RQ worker, on PostgreSQL and Redis, started by scripts/cluster and driven through nginx.

The app servers keep no state of their own: what one server writes or issues, the other reads
or accepts; a job queued through either is run by the worker; a rate limit counts requests to
both; and when one server dies, no write a client was told about is lost or doubled.

The last test kills an app server: the tests before it need both.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.cluster.cluster_support import (
    PASSWORD,
    REQUEST_TIMEOUT,
    Cluster,
    User,
    alive,
    get_token,
    kill_group,
    register,
    signed_up,
)
from tests.tasks.task_support import Inbox, attachments_of

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]


def _upstreams(responses: list[requests.Response]) -> set[str]:
    return {response.headers.get("X-Upstream", "") for response in responses}


def test_requests_through_nginx_take_turns_and_every_server_sees_the_same_state(
    cluster: Cluster, session: requests.Session
) -> None:
    first, second = cluster.apps
    user_id, username = register(session, cluster.url)
    token = get_token(session, cluster.url, username)
    assert token.status_code == 200, token.text
    user = User(user_id, username, token.json()["token"])

    # Round robin: consecutive requests through nginx reach both servers.
    seen = [
        session.get(f"{cluster.url}/api/me", headers=user.headers, timeout=REQUEST_TIMEOUT)
        for _ in range(4)
    ]
    assert [response.status_code for response in seen] == [200] * 4
    assert _upstreams(seen) == {first.address, second.address}
    # nginx gives each request an id, which the app server logs and answers with.
    request_id = seen[0].headers.get("X-Request-ID", "")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    assert f"request_id={request_id}" in (cluster.run_dir / "nginx-access.log").read_text()

    # The user registered through nginx, read back from each server directly.
    for app in cluster.apps:
        shown = session.get(
            f"{app.url}/api/users/{user.id}", headers=user.headers, timeout=REQUEST_TIMEOUT
        )
        assert shown.status_code == 200, (app.name, shown.text)
        assert shown.json()["username"] == username

    # A token issued by one server works on the other, and revoking it on the other ends it
    # on the first: tokens live in the database, not in a server.
    issued = get_token(session, first.url, username)
    assert issued.status_code == 200, issued.text
    bearer = {"Authorization": f"Bearer {issued.json()['token']}"}
    me = session.get(f"{second.url}/api/me", headers=bearer, timeout=REQUEST_TIMEOUT)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user.id
    revoked = session.delete(f"{second.url}/api/tokens", headers=bearer, timeout=REQUEST_TIMEOUT)
    assert revoked.status_code == 204, revoked.text
    refused = session.get(f"{first.url}/api/me", headers=bearer, timeout=REQUEST_TIMEOUT)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["message"]


def test_an_export_started_through_nginx_is_run_by_the_clusters_worker(
    cluster: Cluster, session: requests.Session, mail_inbox: Inbox
) -> None:
    user = signed_up(session, cluster.url)
    bodies = [f"post {number} before the export" for number in range(3)]
    for body in bodies:
        posted = session.post(
            f"{cluster.url}/api/posts",
            json={"body": body},
            headers=user.headers,
            timeout=REQUEST_TIMEOUT,
        )
        assert posted.status_code == 201, posted.text

    started = session.post(
        f"{cluster.url}/api/tasks",
        json={"name": "export_posts"},
        headers=user.headers,
        timeout=REQUEST_TIMEOUT,
    )
    assert started.status_code == 202, started.text
    task_url = f"{cluster.url}{started.headers['Location']}"
    deadline = time.monotonic() + 30
    while True:
        task = session.get(task_url, headers=user.headers, timeout=REQUEST_TIMEOUT).json()
        if task["complete"]:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"the export is not done after 30 s: {task}\n{cluster.log_tail('worker')}")
        time.sleep(0.1)

    assert task["error"] is None, cluster.log_tail("worker")
    result = session.get(
        f"{cluster.url}{task['_links']['result']}", headers=user.headers, timeout=REQUEST_TIMEOUT
    )
    assert result.status_code == 200, result.text
    assert [post["body"] for post in result.json()["posts"]] == bodies
    # The worker, not an app server, ran it (they would run it in a thread without REDIS_URL).
    assert task["id"] in (cluster.run_dir / "worker.log").read_text()
    deadline = time.monotonic() + 15
    while not any(m["To"] == f"{user.username}@example.com" for m in mail_inbox.messages):
        if time.monotonic() > deadline:
            pytest.fail(f"no mail to {user.username}\n{cluster.log_tail('worker')}")
        time.sleep(0.05)
    [message] = [m for m in mail_inbox.messages if m["To"] == f"{user.username}@example.com"]
    assert len(attachments_of(message)) == 1


def test_a_rate_limit_counts_requests_to_every_app_server(
    cluster: Cluster, session: requests.Session
) -> None:
    usernames = [register(session, cluster.url)[1] for _ in range(4)]

    # Four token requests from one client at 3 per minute, each for another user (so only the
    # limit per client address can trip) and each claiming another address in X-Forwarded-For,
    # which nginx passes on with the real one appended: the only one the app believes.
    answers = [
        session.post(
            f"{cluster.url}/api/tokens",
            auth=(username, PASSWORD),
            headers={"X-Forwarded-For": f"203.0.113.{number}"},
            timeout=REQUEST_TIMEOUT,
        )
        for number, username in enumerate(usernames)
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429], [
        answer.text for answer in answers
    ]
    assert _upstreams(answers[:3]) == {app.address for app in cluster.apps}


@dataclass
class Writer:
    """A client posting through nginx as fast as it can, each post with an Idempotency-Key,
    retrying a post (same key) until it is acknowledged."""

    session: requests.Session
    url: str
    user: User
    # (body, id, the server(s) nginx tried, when the post was first sent)
    acknowledged: list[tuple[str, int, str, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    replayed: int = 0
    abandoned: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        number = 0
        while not self.stop.is_set():
            self._post(f"written while servers die, #{number}", uuid.uuid4().hex)
            number += 1

    def _post(self, body: str, key: str) -> None:
        headers = {**self.user.headers, "Idempotency-Key": key}
        sent = time.monotonic()
        for _ in range(20):
            try:
                response = self.session.post(
                    f"{self.url}/api/posts", json={"body": body}, headers=headers, timeout=10
                )
            except requests.RequestException as exc:
                self.failures.append(f"{body}: {type(exc).__name__}: {exc}"[:300])
            else:
                if response.status_code == 201:
                    upstream = response.headers.get("X-Upstream", "")
                    self.acknowledged.append((body, response.json()["id"], upstream, sent))
                    self.replayed += response.headers.get("Idempotent-Replayed") == "true"
                    return
                self.failures.append(
                    f"{body}: {response.status_code} from {response.headers.get('X-Upstream')}: "
                    f"{response.text[:120]!r}"
                )
            time.sleep(0.05)
        self.abandoned.append(body)

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{len(self.acknowledged)} posts acknowledged after {timeout:.0f} s, "
                    f"wanted {count}; failures: {self.failures[-5:]}"
                )
            time.sleep(0.02)


def test_an_app_server_dying_mid_run_loses_no_acknowledged_write(
    cluster: Cluster, session: requests.Session
) -> None:
    user = signed_up(session, cluster.url)
    victim, survivor = cluster.apps
    writer = Writer(session, cluster.url, user)
    thread = threading.Thread(target=writer.run, name="cluster-writer", daemon=True)
    thread.start()
    try:
        writer.wait_for(20)
        before = len(writer.acknowledged)
        pid = cluster.pid(victim.name)
        kill_group(pid)
        killed_at = time.monotonic()
        writer.wait_for(before + 30)
        # And on for a while, so posts sent well after the kill are seen too.
        time.sleep(max(0.0, killed_at + 1.5 - time.monotonic()))
    finally:
        writer.stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive(), "the writer did not finish its last post"
    while alive(pid) and time.monotonic() < killed_at + 10:
        time.sleep(0.05)
    assert not alive(pid), f"{victim.name} (pid {pid}) survived SIGKILL"

    print(
        f"\n{len(writer.acknowledged)} posts acknowledged ({before} before {victim.name} was "
        f"killed), {writer.replayed} answered by replaying an Idempotency-Key; "
        f"{len(writer.failures)} failed attempts: {writer.failures}"
    )
    assert writer.abandoned == [], writer.failures
    assert len(writer.failures) <= 5, writer.failures
    # Posts went on being written, by the surviving server (nginx may try the dead one first,
    # find it refusing connections, and move on: X-Upstream then names both).
    after = [post for post in writer.acknowledged if post[3] > killed_at + 0.5]
    assert after, "no post was sent more than 0.5 s after the kill"
    assert all(upstream.endswith(survivor.address) for _, _, upstream, _ in after), after

    engine = sa.create_engine(cluster.database_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT id, body FROM posts WHERE user_id = :user ORDER BY id"),
                {"user": user.id},
            ).all()
    finally:
        engine.dispose()
    acknowledged = sorted((post_id, body) for body, post_id, _, _ in writer.acknowledged)
    # Every acknowledged post is stored exactly once, with the id the client was given, and
    # nothing else is (every post the writer started was acknowledged in the end).
    assert [(row.id, row.body) for row in stored] == acknowledged


def test_a_reset_link_asked_for_under_a_forged_host_leads_to_the_cluster_s_nginx(
    cluster: Cluster, session: requests.Session, mail_inbox: Inbox
) -> None:
    user = signed_up(session, cluster.url)
    form = session.get(f"{cluster.url}/reset_password_request", timeout=REQUEST_TIMEOUT)
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', form.text)
    assert match, form.text

    asked = session.post(
        f"{cluster.url}/reset_password_request",
        data={"email": f"{user.username}@example.com", "csrf_token": match.group(1)},
        headers={
            "Host": "evil.example",
            "X-Forwarded-Host": "evil.example",
            # requests would match its cookies against the forged Host: send them as they are.
            "Cookie": "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies),
        },
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT,
    )

    assert asked.status_code == 302, asked.text
    address = f"{user.username}@example.com"
    deadline = time.monotonic() + 15
    while not any(m["To"] == address for m in mail_inbox.messages):
        if time.monotonic() > deadline:
            pytest.fail(f"no reset mail to {address}\n{cluster.log_tail('worker')}")
        time.sleep(0.05)
    [message] = [m for m in mail_inbox.messages if m["To"] == address]
    body = message.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert "evil.example" not in content
    assert f"{cluster.url}/reset_password/" in content
