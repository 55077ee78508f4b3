"""The budget of password guesses: every check of a password against an account is counted.

Signing in (`services.authenticate`) and every check of a signed-in person's current password
(`services.confirm_password`: a password change, an account deletion, an email change) spend
from one budget per account, keyed on the account the name resolved to, so a username and its
email address share it, and no spelling or encoding of the name buys a fresh one. A name that
no account holds is counted under that name (normalised as `find_by_login` compares it): it is
refused exactly as a real account would be, so the refusal does not tell which accounts exist.
Every attempt is also counted per client address by the door's own limit.

The domain knows nothing of where the counts are kept (the door's rate-limit storage: Redis or
memory): each door installs a `GuessBudget` at start-up, as `passwords.configure` installs the
hasher. So a check cannot forget to spend: it is done here, not by each caller.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from microblog.errors import N_, DomainError


class TooManyGuesses(DomainError):
    """The budget of password guesses of this account (or name) is spent until the window
    resets, `retry_after` seconds from now; `limit` is how many it holds."""

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(
            N_("too many password attempts for this account; try again in %(seconds)s seconds"),
            seconds=retry_after,
        )
        self.retry_after = retry_after
        self.limit = limit


class GuessBudget(Protocol):
    def spend(self, subject: str) -> None:
        """Count one guess against `subject`; raise TooManyGuesses when none is left."""


class Unlimited:
    """No budget: what a process that installed none (a script, a test of the domain) has."""

    def spend(self, subject: str) -> None:
        return None


_budget: GuessBudget = Unlimited()


def install(budget: GuessBudget) -> None:
    global _budget
    _budget = budget


def spend_for_account(account_id: int) -> None:
    """One guess at the password of account `account_id`, before the KDF runs."""
    _budget.spend(f"account:{account_id}")


def spend_for_unknown(login: str) -> None:
    """One guess at a name that no account holds, counted under that name (hashed, so no
    storage holds what people typed)."""
    digest = hashlib.sha256(login.lower().encode("utf-8", "surrogatepass")).hexdigest()
    _budget.spend(f"login:{digest}")
