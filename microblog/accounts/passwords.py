"""Password hashing with Argon2id.

One hasher per process, configured from the application's settings at start-up. A hash made with
older (weaker or merely different) parameters is replaced on the next successful login.

The KDF is slow on purpose (tens of milliseconds of every core). Checks of a signed-in
person's current password (`kdf_slot`, taken by `services.confirm_password`) can be sent by
anyone holding a token or a session, as fast as they like, so how many of them run at once is
bounded: `KdfSlots`. Under gunicorn, whose sync workers serve one request each, the workers of
a server share one count, one fewer than the workers (`gunicorn.conf.py`), and a check that
finds none free is refused at once (KdfBusy, 503 with Retry-After) instead of waiting: a worker
waiting for the KDF is a worker no one else can have, so waiting would hand the server to
whoever sends such checks. A process of its own (a script, the test client) lets as many run as
it has cores, its threads waiting their turn.

Signing in and signing up are not counted here: many people do them at once, legitimately,
and each is bounded per client address and per account by the rate limits instead.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from microblog.errors import N_, DomainError


class KdfBusy(DomainError):
    """Every KDF slot is taken: the request is fine, and may be sent again in a second."""

    retry_after = 1

    def __init__(self) -> None:
        super().__init__(N_("the server is busy checking passwords; try again in a moment"))


class Semaphore(Protocol):
    """`threading.BoundedSemaphore` or `multiprocessing.BoundedSemaphore`."""

    def acquire(self, block: bool = ..., timeout: float | None = ..., /) -> bool: ...

    def release(self) -> None: ...


class KdfSlots:
    def __init__(self, semaphore: Semaphore, wait: float) -> None:
        self._semaphore = semaphore
        self._wait = wait

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """A slot for one KDF run, waiting at most `wait` seconds for it (KdfBusy after)."""
        if not self._semaphore.acquire(True, self._wait):
            raise KdfBusy()
        try:
            yield
        finally:
            self._semaphore.release()


# Seconds a thread of a process of its own waits for a slot: for the others' runs, not forever.
LOCAL_WAIT = 30.0
_slots = KdfSlots(threading.BoundedSemaphore(os.cpu_count() or 1), LOCAL_WAIT)

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong username costs as long as a
# wrong password and response times do not reveal which accounts exist. Made on first use:
# hashing at import would slow every worker's start.
_dummy_hash: str | None = None


def share_slots(semaphore: Semaphore, wait: float = 0.0) -> None:
    """Count KDF runs with `semaphore`, shared with other processes (gunicorn's workers)."""
    global _slots
    _slots = KdfSlots(semaphore, wait)


def kdf_slot() -> contextlib.AbstractContextManager[None]:
    """A slot for one check of a signed-in person's password (KdfBusy when none is free)."""
    return _slots.held()


def configure(params: dict[str, Any]) -> None:
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(**params)
    _dummy_hash = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not a real password")
    return _dummy_hash


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; with no hash, spends the same time and says no."""
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
