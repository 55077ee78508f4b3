"""The password-guess budget of `microblog.accounts.guessing`, counted where the rate limits are.

RATELIMIT_TOKENS guesses per account (or per unknown name), in the app's Flask-Limiter storage:
Redis at REDIS_URL, shared by every process and server, or the process's memory. If Redis fails,
guesses are counted in this process's memory until it answers again (rechecked after
`counters.RETRY_SECONDS`), with one warning line each time: a storage error never lets a guess
through uncounted, and never logs a traceback per request.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context
from limits import RateLimitItem, parse_many

from microblog.accounts import guessing
from microblog.accounts.guessing import TooManyGuesses
from microblog.api.counters import Counters

# Where an application keeps its budget.
GUESS_BUDGET = "microblog.guess_budget"
SCOPE = "password-guesses"


class LimiterGuessBudget:
    """Guesses per subject in the app's rate-limit counters: one storage operation a limit."""

    def __init__(self, counters: Counters, amount: str) -> None:
        self._items: list[RateLimitItem] = parse_many(amount)
        self._counters = counters

    def spend(self, subject: str) -> None:
        for item in self._items:
            window = self._counters.spend(item, SCOPE, subject)
            if window.refused:
                raise TooManyGuesses(max(1, window.seconds_left()), item.amount)


class CurrentAppBudget:
    """What the domain is given: the budget of the application handling the request, if it
    limits rates (none outside an application, or with RATELIMIT_ENABLED off)."""

    def spend(self, subject: str) -> None:
        if not has_app_context():
            return
        budget: LimiterGuessBudget | None = current_app.extensions.get(GUESS_BUDGET)
        if budget is not None:
            budget.spend(subject)


def init_app(app: Flask, counters: Counters, amount: str) -> None:
    app.extensions[GUESS_BUDGET] = LimiterGuessBudget(counters, amount)
    guessing.install(CurrentAppBudget())
