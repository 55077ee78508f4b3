"""Checks of a signed-in person's password cannot have the whole server: how many run the KDF
at once is bounded, and under gunicorn a check that finds every slot taken is refused at once,
leaving a worker free."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from microblog.accounts import passwords
from tests.api.api_helpers import assert_json_error
from tests.server.live_support import run_live_server
from tests.support import ApiUser
from tests.web.web_support import Browser, flashes


@pytest.fixture
def one_slot_taken() -> Iterator[threading.BoundedSemaphore]:
    """The slots as gunicorn's workers share them (no wait), with the only one held, as by
    another worker's KDF run; the process's own slots again after."""
    own = passwords._slots
    semaphore = threading.BoundedSemaphore(1)
    passwords.share_slots(semaphore)
    semaphore.acquire()
    yield semaphore
    semaphore.release()
    passwords._slots = own


def test_a_password_check_finding_every_kdf_slot_taken_is_refused_at_once_with_503(
    client: FlaskClient, victim: ApiUser, one_slot_taken: threading.BoundedSemaphore
) -> None:
    token = {"Authorization": f"Bearer {victim.token}"}
    change = {"old_password": victim.password, "password": "a-new-password-1"}
    started = time.monotonic()
    answers = [
        client.put(f"/api/users/{victim.id}", json=change, headers=token),
        client.delete("/api/me", json={"password": victim.password}, headers=token),
    ]
    assert time.monotonic() - started < 1
    for answer in answers:
        assert_json_error(answer, 503, "busy checking passwords")
        assert answer.headers["Retry-After"] == "1"

    person = Browser(client)
    assert person.login("victim", victim.password).status_code == 302  # signing in is not
    page = person.submit("/delete_account", {"password": victim.password})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "1"
    assert flashes(page) == ["the server is busy checking passwords; try again in a moment"]

    one_slot_taken.release()
    deleted = client.delete("/api/me", json={"password": victim.password}, headers=token)
    assert deleted.status_code == 204
    one_slot_taken.acquire()


def _user(base: str, name: str) -> tuple[int, dict[str, str]]:
    body = {"username": name, "email": f"{name}@example.com", "password": f"{name}-secret-1"}
    created = requests.post(f"{base}/api/users", json=body, timeout=60)
    assert created.status_code == 201, created.text
    token = requests.post(f"{base}/api/tokens", auth=(name, f"{name}-secret-1"), timeout=60)
    assert token.status_code == 200, token.text
    return created.json()["id"], {"Authorization": f"Bearer {token.json()['token']}"}


@pytest.mark.live
def test_a_flood_of_password_checks_leaves_a_worker_for_everyone_else(
    database_factory: Callable[[str], str], tmp_path: Path
) -> None:
    """Two sync workers; one account sends password changes without pause (its guess budget
    set out of reach, so only the KDF slots stand in the way). Without the bound both workers
    run the KDF and the other user's requests queue behind it (seconds each, measured); with
    it, the other user is served all along. PostgreSQL: on SQLite a write request holds the
    database's write lock while its KDF runs, which serialises writers whatever this does."""
    settings = {"RATELIMIT_ENABLED": "true", "RATELIMIT_TOKENS": "100000/minute"}
    with run_live_server(database_factory("postgresql"), tmp_path, settings) as server:
        base = server.base_url
        guesser_id, guesser = _user(base, "guesser")
        other_id, other = _user(base, "other")
        change = {"old_password": "a-wrong-guess", "password": "a-new-password-1"}
        stop = threading.Event()
        statuses: list[int] = []

        def guess() -> None:
            while not stop.is_set():
                url = f"{base}/api/users/{guesser_id}"
                statuses.append(
                    requests.put(url, json=change, headers=guesser, timeout=60).status_code
                )

        with ThreadPoolExecutor(max_workers=4) as pool:
            for _ in range(4):
                pool.submit(guess)
            spent = []
            for _ in range(20):
                started = time.perf_counter()
                seen = requests.get(f"{base}/api/users/{other_id}", headers=other, timeout=60)
                spent.append(time.perf_counter() - started)
                assert seen.status_code == 200
            stop.set()

    kdf_runs, busy = statuses.count(400), statuses.count(503)
    median = statistics.median(spent)
    print(f"other user's median {median * 1000:.0f} ms; KDF runs {kdf_runs}, refused {busy}")
    assert kdf_runs and busy
    assert set(statuses) <= {400, 503}
    # A request queued behind the KDF waits for a whole run or more (about a second on a busy
    # machine, each); one served by the free worker waits for none.
    assert median < 0.5
