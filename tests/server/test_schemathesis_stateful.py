"""The OpenAPI links against the real server: create, then read, change and delete.

Schemathesis builds a state machine from the links the document declares (`operation(links=)`)
and walks them: a user signed up is read, followed, written to; a post written is read, edited
and deleted, then read again (404); a task started is polled; a token got is revoked. Every
answer is checked against the document (never a 5xx; every status, header and body as
documented) and by the stateful checks (what was created can be read; what was deleted is
gone). The generated requests are counted: at least `MIN_REQUESTS` per backend from this run
alone, whatever the stateless run in test_schemathesis.py adds.

A live server's state moves on, so Hypothesis can neither replay nor shrink a sequence: failures
are collected rather than raised (one run reports each with the request that caused it), and
when Hypothesis notices that the same choices led elsewhere (`Flaky`) the round ends and the
next begins with the next seed, as schemathesis's own runner does.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import ensure_resource_availability, use_after_free

from tests.server.live_support import LiveServer, call
from tests.server.schema_checks import CONFORMANCE
from tests.support import ApiUser, basic_auth

pytestmark = pytest.mark.live

# Rounds of scenarios, with steps in each (a scenario also ends when no link applies), until
# MIN_REQUESTS were sent: the number is measured and asserted, not assumed.
MAX_ROUNDS = 12
MAX_SCENARIOS = 30
MAX_STEPS = 40
MIN_REQUESTS = 2_000
# Beyond conformance: a deleted resource stays gone; a created one can be read back.
CHECKS = [*CONFORMANCE, use_after_free, ensure_resource_availability]
SETTINGS = hypothesis.settings(
    max_examples=MAX_SCENARIOS,
    stateful_step_count=MAX_STEPS,
    deadline=None,
    database=None,
    phases=[hypothesis.Phase.generate],
    suppress_health_check=list(hypothesis.HealthCheck),
)
# The server hashes passwords with Argon2 at full strength, its slowest work by far (tens of
# milliseconds a hash, more on a busy machine): per run, this many generated sign-ups are made
# valid and this many logins carry real credentials; past that, logins go without any (a cheap
# 401, still checked).
SIGNUPS = 25
LOGINS = 30
# Export tasks started per run: each runs on the server and mails its result.
TASKS = 10
# The credentials the document's security schemes are configured with; each request's are
# swapped for those of the account in use (see `Account`).
PLACEHOLDER_TOKEN = "scenario-bearer-token"
PLACEHOLDER_LOGIN = ("scenario-username", "scenario-password")
PLACEHOLDER_BEARER = f"Bearer {PLACEHOLDER_TOKEN}"
PLACEHOLDER_BASIC = basic_auth(*PLACEHOLDER_LOGIN)["Authorization"]
SIGN_UP = ("POST", "/api/users")
START_TASK = ("POST", "/api/tasks")
LOG_IN = ("POST", "/api/tokens")
REVOKE = ("DELETE", "/api/tokens")
# gunicorn refuses an over-long request line itself, in plain text, before the app sees it: a
# limit of the server in front, not an answer of the API (as in test_schemathesis.py).
SERVER_LIMIT = 414


@dataclass
class Account:
    """The user the scenarios act as. A scenario may spoil it (revoke its token, rename it);
    the next one starts with a usable account again, so no scenario spoils those after it."""

    server: LiveServer
    register: Callable[..., ApiUser]
    user: ApiUser | None = None
    signups: int = 0

    def ready(self) -> ApiUser:
        if self.user is None or not self._token_works(self.user):
            self.user = self.register(self.server, "stateful")
            self.signups += 1
        return self.user

    def _token_works(self, user: ApiUser) -> bool:
        return call(self.server, "GET", "/api/me", headers=user.headers).status_code == 200


@dataclass
class Run:
    """What the generated requests were answered, and what failed the checks."""

    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    signups: int = 0
    logins: int = 0
    tasks: int = 0
    rounds: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.answers.values())

    def count(self, status: Callable[[int], bool]) -> int:
        return sum(n for (_, code), n in self.answers.items() if status(code))

    def answered(self, label: str, status: Callable[[int], bool]) -> bool:
        return any(key == label and status(code) for key, code in self.answers)

    def summary(self) -> str:
        lines = [f"{n:5d}  {label} {code}" for (label, code), n in sorted(self.answers.items())]
        return "\n".join(lines)


@pytest.fixture
def stateful_schema(
    live_server: LiveServer, served_document: dict[str, Any]
) -> schemathesis.BaseSchema:
    """The served document, with only the links it declares: schemathesis's own inference is
    off, so the walk is the one a client reading the document would take."""
    config = schemathesis.Config.from_dict(
        {
            "base-url": live_server.base_url,
            "auth": {
                "openapi": {
                    "bearerAuth": {"bearer": PLACEHOLDER_TOKEN},
                    "basicAuth": {
                        "username": PLACEHOLDER_LOGIN[0],
                        "password": PLACEHOLDER_LOGIN[1],
                    },
                }
            },
            "phases": {"stateful": {"inference": {"algorithms": []}}},
        }
    )
    return schemathesis.openapi.from_dict(served_document, config=config)


def _label(case: Case) -> str:
    return f"{case.method} {case.operation.path}"


def _workflow(schema: schemathesis.BaseSchema, account: Account, run: Run) -> type[Any]:
    """The document's state machine, acting as `account` and recording into `run`."""

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.user = account.ready()
            self.scenario = uuid.uuid4().hex[:8]
            # The token the scenario got from a login, which its RevokeToken link revokes.
            self.issued: str | None = None

        def before_call(self, case: Case) -> None:
            route = (case.method, case.operation.path)
            headers = case.headers if case.headers is not None else {}
            sent = headers.get("Authorization")
            if sent == PLACEHOLDER_BEARER:
                token = self.issued if route == REVOKE and self.issued else self.user.token
                headers["Authorization"] = f"Bearer {token}"
            elif sent == PLACEHOLDER_BASIC:
                if run.logins < LOGINS:
                    run.logins += 1
                    headers.update(basic_auth(self.user.username, self.user.password))
                else:
                    del headers["Authorization"]
            _scope_idempotency_key(headers, self.scenario)
            if route == SIGN_UP and run.signups < SIGNUPS and _fill_sign_up(case):
                run.signups += 1
            if route == START_TASK and run.tasks < TASKS and _fill_task(case):
                run.tasks += 1

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            run.answers[(_label(case), response.status_code)] += 1
            if (case.method, case.operation.path) == LOG_IN and response.status_code == 200:
                self.issued = response.json()["token"]

        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            if response.status_code == SERVER_LIMIT:
                return
            try:
                case.validate_response(
                    response,
                    checks=CHECKS,
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except (AssertionError, FailureGroup) as failure:
                run.failures.append(
                    f"{_label(case)} -> {response.status_code}\n{failure}\n"
                    f"{case.as_curl_command()}\n{response.text[:500]}"
                )

    return Workflow


def _fill_sign_up(case: Case) -> bool:
    """Make a generated sign-up one the server accepts, keeping its shape: the document cannot
    say what a username is, so generated ones are nearly all refused, and a refused sign-up
    leads nowhere."""
    body = case.body
    if not isinstance(body, dict) or not all(
        isinstance(body.get(name), str) for name in ("username", "email", "password")
    ):
        return False
    name = f"fz{uuid.uuid4().hex[:12]}"
    body.update(username=name, email=f"{name}@example.com", password="correct-horse")
    return True


def _scope_idempotency_key(headers: dict[str, Any], scenario: str) -> None:
    """Keys are generated from a small alphabet, so two scenarios would share one: the second
    would then be answered the first's stored 201, for a post it may since have deleted, as
    documented, while the stateful checks (which see one scenario only) take it for a resource
    lost. Scoped to the scenario, a key is still replayed within it. Malformed keys stay."""
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and key and key.isprintable() and key.isascii():
        headers["Idempotency-Key"] = f"{scenario}-{key}"[:255]


def _fill_task(case: Case) -> bool:
    """Start the one task there is: the document says `name` is a string, not which."""
    if not isinstance(case.body, dict) or not isinstance(case.body.get("name"), str):
        return False
    case.body["name"] = "export_posts"
    return True


def _rounds(workflow: type[Any], run: Run) -> None:
    """Rounds of scenarios, each with its own seed, until enough requests were sent."""
    for seed in range(MAX_ROUNDS):
        if run.total >= MIN_REQUESTS:
            return
        sent = run.total
        try:
            hypothesis.seed(seed)(workflow).run(settings=SETTINGS)
        except (hypothesis.errors.Flaky, hypothesis.errors.Unsatisfiable, AssertionError) as error:
            # The server's state moved on under the same choices: this round is over. (Hypothesis
            # says so with Flaky, or with an assertion of its own when a replay draws further; or
            # it gives up on a round whose scenarios the server's state made it reject.)
            if isinstance(error, AssertionError) and not _raised_by_hypothesis(error):
                raise
            outcome = f"ended by {type(error).__name__}"
        else:
            outcome = "completed"
        run.rounds.append(f"seed {seed}: {run.total - sent} requests, {outcome}")


def _raised_by_hypothesis(error: BaseException) -> bool:
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and frame.tb_frame.f_globals["__name__"].startswith("hypothesis.")


def test_linked_operations_answer_as_documented(
    stateful_schema: schemathesis.BaseSchema,
    live_server: LiveServer,
    register: Callable[..., ApiUser],
    backend: str,
) -> None:
    """Sequences that follow the links: never a 5xx, always an answer the document allows,
    what was created can be read and what was deleted is gone."""
    account = Account(live_server, register)
    run = Run()
    started = time.monotonic()

    try:
        _rounds(_workflow(stateful_schema, account, run), run)
    finally:
        print(
            f"\n[{backend}] stateful: {run.total} requests in {time.monotonic() - started:.1f} s"
            f" ({account.signups} accounts, {run.signups} sign-ups, {run.logins} logins,"
            f" {run.tasks} tasks; {'; '.join(run.rounds)}; {len(run.failures)} failures)\n"
            f"{run.summary()}"
        )
        for failure in run.failures[:10]:
            print(failure, "\n")

    assert not run.failures, "\n\n".join(run.failures[:10])
    assert run.count(lambda status: status >= 500) == 0, run.summary()
    assert run.total >= MIN_REQUESTS, run.summary()
    # The links were walked: things created were read, changed and deleted.
    succeeded = lambda status: 200 <= status < 300  # noqa: E731
    for label in (
        "GET /api/users/{user_id}",
        "POST /api/me/following/{user_id}",
        "GET /api/posts/{post_id}",
        "PUT /api/posts/{post_id}",
        "DELETE /api/posts/{post_id}",
        "GET /api/messages/{message_id}",
        "GET /api/tasks/{task_id}",
        "DELETE /api/tokens",
    ):
        assert run.answered(label, succeeded), f"{label} never succeeded\n{run.summary()}"
