"""The password-guess budget of `microblog.accounts.guessing`, counted where the rate limits are.

RATELIMIT_TOKENS guesses per account (or per unknown name), in the app's Flask-Limiter storage:
Redis at REDIS_URL, shared by every process and server, or the process's memory. If Redis fails,
guesses are counted in this process's memory until it answers again (rechecked after
`REDIS_RETRY` seconds), with one warning line each time: a storage error never lets a guess
through uncounted, and never logs a traceback per request.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app, has_app_context
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from microblog.accounts import guessing
from microblog.accounts.guessing import TooManyGuesses

log = logging.getLogger(__name__)

# Where an application keeps its budget.
GUESS_BUDGET = "microblog.guess_budget"
SCOPE = "password-guesses"
# Seconds a failed Redis is left alone before the budget tries it again.
REDIS_RETRY = 5.0


class LimiterGuessBudget:
    """`limits` over the storage of the app's Limiter, with a memory fallback of its own."""

    def __init__(self, limiter: Limiter, amount: str, prefix: str) -> None:
        self._items: list[RateLimitItem] = parse_many(amount)
        self._shared = FixedWindowRateLimiter(limiter.storage)
        self._fallback = FixedWindowRateLimiter(MemoryStorage())
        self._prefix = prefix
        self._shared_down_until = 0.0

    def spend(self, subject: str) -> None:
        for item in self._items:
            counter = self._hit(item, subject)
            if counter is not None:
                raise TooManyGuesses(self._seconds_left(counter, item, subject), item.amount)

    def _hit(self, item: RateLimitItem, subject: str) -> FixedWindowRateLimiter | None:
        """Count one guess; the counter that refused it, or None if it is allowed."""
        if time.monotonic() >= self._shared_down_until:
            try:
                return (
                    None if self._shared.hit(item, self._prefix, SCOPE, subject) else self._shared
                )
            except Exception as exc:  # whatever the storage's client raises: count elsewhere
                self._shared_down_until = time.monotonic() + REDIS_RETRY
                log.warning(
                    "the rate limit storage failed (%s: %s): counting password guesses in "
                    "this process's memory for %s s",
                    type(exc).__name__,
                    exc,
                    REDIS_RETRY,
                )
        return None if self._fallback.hit(item, self._prefix, SCOPE, subject) else self._fallback

    def _seconds_left(
        self, counter: FixedWindowRateLimiter, item: RateLimitItem, subject: str
    ) -> int:
        try:
            reset_at = counter.get_window_stats(item, self._prefix, SCOPE, subject).reset_time
        except Exception:  # the storage failed since the hit: the whole window, then
            return item.get_expiry()
        return max(1, math.ceil(reset_at - time.time()))


class CurrentAppBudget:
    """What the domain is given: the budget of the application handling the request, if it
    limits rates (none outside an application, or with RATELIMIT_ENABLED off)."""

    def spend(self, subject: str) -> None:
        if not has_app_context():
            return
        budget: LimiterGuessBudget | None = current_app.extensions.get(GUESS_BUDGET)
        if budget is not None:
            budget.spend(subject)


def init_app(app: Flask, limiter: Limiter, amount: str) -> None:
    app.extensions[GUESS_BUDGET] = LimiterGuessBudget(
        limiter, amount, app.config["RATELIMIT_KEY_PREFIX"]
    )
    guessing.install(CurrentAppBudget())
