"""Another user's latency while one account makes the server run the password KDF ~10 times a
second (password changes with a wrong `old_password`): the real server, as the tests start it
(gunicorn, two sync workers, SQLite or the PostgreSQL database given), rate limits on at their
defaults.

    PYTHONPATH=. .venv/bin/python -m bench.kdf_contention [--seconds 20] [--rate 10]
        [--env RATELIMIT_TOKENS=100000/minute ...] [--database postgresql://...]

Prints the other user's median and p90 latency of `GET /api/users/<id>` alone, then while the
KDF requests run, and how the KDF requests were answered.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.server.live_support import run_live_server


def _user(base: str, name: str) -> tuple[int, str]:
    body = {"username": name, "email": f"{name}@example.com", "password": f"{name}-secret-1"}
    created = requests.post(f"{base}/api/users", json=body, timeout=60)
    created.raise_for_status()
    token = requests.post(f"{base}/api/tokens", auth=(name, f"{name}-secret-1"), timeout=60)
    token.raise_for_status()
    return created.json()["id"], token.json()["token"]


def _latencies(base: str, user_id: int, token: str, seconds: float) -> list[float]:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    spent: list[float] = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.perf_counter()
        session.get(f"{base}/api/users/{user_id}", headers=headers, timeout=60)
        spent.append(time.perf_counter() - started)
        time.sleep(0.05)
    return spent


def _guesses(
    base: str, user_id: int, token: str, rate: float, stop: threading.Event
) -> dict[int, list[float]]:
    answers: dict[int, list[float]] = {}
    body = {"old_password": "a-wrong-guess", "password": "a-new-password-1"}
    headers = {"Authorization": f"Bearer {token}"}

    def guess() -> None:
        started = time.perf_counter()
        answer = requests.put(f"{base}/api/users/{user_id}", json=body, headers=headers, timeout=60)
        answers.setdefault(answer.status_code, []).append(time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=50) as pool:
        while not stop.is_set():
            pool.submit(guess)
            time.sleep(1 / rate)
    return answers


def _summary(label: str, spent: list[float]) -> str:
    ordered = sorted(spent)
    p90 = ordered[int(len(ordered) * 0.9)]
    return (
        f"{label}: median {statistics.median(spent) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms "
        f"({len(spent)} requests)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--database", help="an empty database's URL (default: a SQLite file)")
    options = parser.parse_args()
    env = {"RATELIMIT_ENABLED": "true", **dict(item.split("=", 1) for item in options.env)}
    with tempfile.TemporaryDirectory() as workdir:
        database = options.database or f"sqlite:///{workdir}/bench.sqlite"
        with run_live_server(database, Path(workdir), env) as server:
            base = server.base_url
            guesser_id, guesser_token = _user(base, "guesser")
            other_id, other_token = _user(base, "other")
            print(_summary("alone", _latencies(base, other_id, other_token, options.seconds / 2)))
            stop = threading.Event()
            result: list[dict[int, list[float]]] = []
            attack = threading.Thread(
                target=lambda: result.append(
                    _guesses(base, guesser_id, guesser_token, options.rate, stop)
                )
            )
            attack.start()
            spent = _latencies(base, other_id, other_token, options.seconds)
            stop.set()
            attack.join()
            print(_summary(f"with {options.rate:g} KDF requests/s", spent))
            for status, times in sorted(result[0].items()):
                print(_summary(f"KDF requests answered {status}", times))


if __name__ == "__main__":
    main()
