"""Rate-limit counters that cost one storage operation each: fixed windows aligned on the clock.

`limits`' own fixed window starts at a key's first hit, so telling a client when it resets takes
a second round trip (the key's TTL). Here a window is a slice of the clock (a minute window runs
from :00 to :59), named in its key: one `INCR` (with its expiry, one Lua call on Redis) gives
the count, and the reset is arithmetic. The storage is Redis at REDIS_URL (the app's
Flask-Limiter storage), shared by every process and server, or else this process's memory
(`MemoryCounts`: `limits`' own memory storage starts a timer thread to expire its keys, which
cost more than the rest of a rate-limited request together).

If the storage fails, counting goes on in this process's memory until it answers again
(rechecked after `RETRY_SECONDS`), with one warning line each time it fails: a storage error
never lets a request through uncounted and never logs a traceback per request.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from limits import RateLimitItem

log = logging.getLogger(__name__)

# Seconds a failed storage is left alone before it is tried again.
RETRY_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Window:
    """One client's count in the current window of one limit."""

    limit: RateLimitItem
    count: int
    reset_at: float

    @property
    def refused(self) -> bool:
        return self.count > self.limit.amount

    @property
    def remaining(self) -> int:
        return max(0, self.limit.amount - self.count)

    def seconds_left(self) -> int:
        return max(0, math.ceil(self.reset_at - time.time()))


class Storage(Protocol):
    """What counting needs of a storage: `limits`' storages have it."""

    def incr(self, key: str, expiry: int, amount: int = 1) -> int: ...


class MemoryCounts:
    """Counts in this process's memory, each forgotten once its window has passed (checked at
    most once a second, under the same lock as the counting)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                self._next_sweep = now + 1
            count, expires = self._counts.get(key, (0, now + expiry))
            if expires <= now:
                count, expires = 0, now + expiry
            count += amount
            self._counts[key] = (count, expires)
            return count


class Counters:
    """Counts per (scope, key) in clock-aligned windows, in `shared` (None: in memory) or,
    while it fails, in memory."""

    def __init__(self, shared: Storage | None, prefix: str) -> None:
        self._fallback = MemoryCounts()
        self._shared = shared if shared is not None else self._fallback
        self._prefix = prefix
        self._shared_down_until = 0.0

    def spend(self, limit: RateLimitItem, scope: str, key: str) -> Window:
        """Count one request of `key` against `limit`: one storage operation."""
        period = limit.get_expiry()
        start = int(time.time() // period) * period
        name = f"LIMITER/{self._prefix}/{scope}/{key}/{limit.amount}/{period}/{start}"
        return Window(limit, self._increment(name, period), start + period)

    def _increment(self, name: str, period: int) -> int:
        if time.monotonic() >= self._shared_down_until:
            try:
                return int(self._shared.incr(name, period))
            except Exception as exc:  # whatever the storage's client raises: count elsewhere
                self._shared_down_until = time.monotonic() + RETRY_SECONDS
                log.warning(
                    "the rate limit storage failed (%s: %s): counting in this process's "
                    "memory for %s s",
                    type(exc).__name__,
                    exc,
                    RETRY_SECONDS,
                )
        return int(self._fallback.incr(name, period))
