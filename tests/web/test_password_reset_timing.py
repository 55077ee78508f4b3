"""A reset request takes as long for a known address as for an unknown one, on the real server
with its default settings (SQLite, mail written to files): nothing in the time of the answer
tells which accounts exist."""

from __future__ import annotations

import email
import email.policy
import random
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.server.live_support import REPO_ROOT, LiveServer, run_live_server, unique_name
from tests.web.web_support import CSRF_FIELD

PAIRS = 600
WARM_UP = 20
# Under equal work, the known address's request is the slower one of a pair (sent one after
# the other, in random order) half the time, give or take 0.02 (the standard error over 600
# pairs): 0.56 is three of those, a false alarm once in a thousand runs. Pairs, rather than
# all requests pooled, so that the load of a busy machine, which drifts over the run, weighs
# on both sides alike. Measured on 2 busy cores while the job started inside the request:
# 0.585-0.625; since it starts once the answer is sent: 0.47-0.52.
MOST_OFTEN_SLOWER = 0.56


def probability_of_superiority(slower: list[float], faster: list[float]) -> float:
    """P(a request of `slower` takes longer than one of `faster`), ties counting half: the
    Mann-Whitney U statistic over the number of comparisons."""
    wins = sum((a > b) + 0.5 * (a == b) for a in slower for b in faster)
    return wins / (len(slower) * len(faster))


def sign_flip_p_value(differences: list[float], rounds: int = 2000) -> float:
    """Two-sided permutation test of paired differences against a mean of zero."""
    observed = abs(statistics.fmean(differences))
    rng = random.Random(0)
    extreme = sum(
        abs(statistics.fmean(d if rng.random() < 0.5 else -d for d in differences)) >= observed
        for _ in range(rounds)
    )
    return (extreme + 1) / (rounds + 1)


@pytest.fixture
def default_server(database_factory: Callable[[str], str], tmp_path: Path) -> Iterator[LiveServer]:
    """`make run` as a fresh clone runs it: SQLite, no mail server, two workers."""
    with run_live_server(database_factory("sqlite"), tmp_path) as server:
        yield server


@pytest.mark.live
def test_a_reset_request_takes_as_long_for_a_known_address_as_for_an_unknown_one(
    default_server: LiveServer,
) -> None:
    base = default_server.base_url
    known = f"{unique_name('known')}@example.com"
    unknown = f"{unique_name('nobody')}@example.com"
    body = {"username": unique_name("u"), "email": known, "password": "victims-secret-1"}
    assert requests.post(f"{base}/api/users", json=body, timeout=30).status_code == 201
    browser = requests.Session()
    match = CSRF_FIELD.search(browser.get(f"{base}/reset_password_request", timeout=10).text)
    assert match
    token = match.group(1)
    answers: set[tuple[str, int, str]] = set()

    def ask(address: str) -> float:
        started = time.perf_counter()
        answer = browser.post(
            f"{base}/reset_password_request",
            data={"email": address, "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        elapsed = time.perf_counter() - started
        answers.add((address, answer.status_code, answer.headers.get("Location", "")))
        return elapsed

    try:
        for _ in range(WARM_UP):
            ask(unknown)
        times: dict[str, list[float]] = {known: [], unknown: []}
        order = random.Random(0)
        for _ in range(PAIRS):
            pair = [known, unknown]
            order.shuffle(pair)  # neither goes first more often, nor follows the other's job
            for address in pair:
                times[address].append(ask(address))
        sent = _wait_for_mail_to(known, PAIRS)
    finally:
        _remove_mail_to(known)

    differences = [a - b for a, b in zip(times[known], times[unknown], strict=True)]
    slower_in_pairs = sum(difference > 0 for difference in differences) / PAIRS
    print(
        f"reset request over {PAIRS} pairs: known {statistics.median(times[known]) * 1000:.2f} ms, "
        f"unknown {statistics.median(times[unknown]) * 1000:.2f} ms (medians); known slower in "
        f"{slower_in_pairs:.3f} of pairs; P(known slower), pooled: "
        f"{probability_of_superiority(times[known], times[unknown]):.3f}; sign-flip p = "
        f"{sign_flip_p_value(differences):.3f}; {sent} mails"
    )
    assert {(status, location) for _address, status, location in answers} == {(302, "/login")}
    assert slower_in_pairs < MOST_OFTEN_SLOWER
    assert sent == PAIRS  # the known address did get its mail, after each answer


def _mail_to(address: str) -> list[Path]:
    """The mail to `address` in the server's outbox (its instance folder)."""
    found = []
    for path in (REPO_ROOT / "instance" / "mail").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append(path)
    return found


def _wait_for_mail_to(address: str, count: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while len(found := _mail_to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(found)


def _remove_mail_to(address: str) -> None:
    for path in _mail_to(address):
        path.unlink(missing_ok=True)
