"""Where jobs run: threads of the server process, or RQ workers fed through Redis.

`create_app` picks one: with REDIS_URL set, jobs are queued on Redis and `microblog worker`
runs them; without it, a small thread pool in each server process does (nothing else to run,
which is the embedded default). Either way a job runs in an application context of its own,
with its own session, and commits for itself. Executors are only handed a task after the
transaction that created it commits (see `microblog.db.after_commit`).

Mail (a reset link: anyone may ask for one, as often as they like) goes in a lane of its own,
so that a flood of it cannot hold up anyone's export: threads of its own with a bounded
backlog, or an RQ queue of its own, also bounded, that the worker serves after the tasks'
queue. Past the bound, mail is dropped with a warning in the log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from flask import Flask, current_app
from redis import Redis, RedisError
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue, Worker
from werkzeug.utils import import_string

from microblog.db import write_intent
from microblog.extensions import db
from microblog.tasks.services import Executor, fail_task

log = logging.getLogger(__name__)

EXTENSION = "microblog.executor"
DEFAULT_QUEUE = "microblog"
# RQ's entry point, imported by path in the worker.
JOB = "microblog.tasks.executors.run_job"
CALL = "microblog.tasks.executors.run_call"
JOB_TIMEOUT = 30 * 60
FAILED_JOB_KEPT = 7 * 24 * 3600
UNQUEUED = "the task could not be queued; please try again later"
# The mail lane's queue is named after the tasks' queue, so deployments sharing a Redis stay
# apart with one setting (TASK_QUEUE).
MAIL_QUEUE_SUFFIX = "-mail"
MAIL_DROPPED = "%s dropped: %d mails are waiting already (MAIL_BACKLOG)"
# How long a request that queues a job waits for Redis. Queueing runs after the request's
# commit, inside the request: a Redis that is down must cost it a moment, not the seconds of
# redis-py's default retries (three, with backoff of up to 10 s each). One immediate retry is
# kept, for a pooled connection that went stale when Redis restarted.
ENQUEUE_CONNECT_TIMEOUT = 1.0
ENQUEUE_TIMEOUT = 2.0


def init_app(app: Flask) -> None:
    app.config.setdefault("TASK_QUEUE", DEFAULT_QUEUE)
    app.config.setdefault("TASK_THREADS", 2)
    app.config.setdefault("MAIL_THREADS", MailLane.threads)
    app.config.setdefault("MAIL_BACKLOG", MailLane.backlog)
    url = app.config.get("REDIS_URL")
    executor: Executor
    mail = MailLane(app.config["MAIL_THREADS"], app.config["MAIL_BACKLOG"])
    if url:
        executor = RQExecutor(app, url, app.config["TASK_QUEUE"], mail)
    else:
        executor = ThreadExecutor(app, app.config["TASK_THREADS"], mail)
    app.extensions[EXTENSION] = executor


def mail_queue_name(task_queue: str) -> str:
    """The RQ queue of the mail lane that goes with the tasks' queue `task_queue`."""
    return task_queue + MAIL_QUEUE_SUFFIX


def worker_queues(task_queue: str) -> list[str]:
    """What `microblog worker` serves, first things first: tasks, then mail."""
    return [task_queue, mail_queue_name(task_queue)]


def executor_of(app: Flask) -> Executor:
    executor: Executor = app.extensions[EXTENSION]
    return executor


def current_executor() -> Executor:
    """The executor of the application handling the current request or command."""
    return executor_of(current_app)


def _run_task(task_id: str) -> None:
    from microblog.tasks.jobs import run_task

    # Jobs write: on SQLite their transactions take the write lock when they begin.
    with write_intent():
        run_task(task_id)


@dataclass(frozen=True)
class MailLane:
    """How many mail jobs may wait, and in how many threads they run when this process runs
    them (no Redis, or Redis away)."""

    threads: int = 1
    backlog: int = 100

    def __post_init__(self) -> None:
        if self.threads < 1 or self.backlog < 1:
            raise ValueError("MAIL_THREADS and MAIL_BACKLOG must be at least 1")


class BoundedPool:
    """A thread pool that holds at most `backlog` jobs, waiting or running, and refuses more.

    Threads start on the first job, so a server that forks after create_app is safe.
    """

    def __init__(self, app: Flask, name: str, threads: int, backlog: int | None = None) -> None:
        self.app = app
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self._slots = threading.BoundedSemaphore(backlog) if backlog else None
        self._pending: set[Future[None]] = set()

    def start(self, function: Callable[..., None], *args: str) -> bool:
        """Run `function(*args)` in a thread soon; False (and nothing run) when full."""
        if self._slots is not None and not self._slots.acquire(blocking=False):
            return False
        future = self._pool.submit(self._run, function, *args)
        self._pending.add(future)
        future.add_done_callback(self._done)
        return True

    def _done(self, future: Future[None]) -> None:
        self._pending.discard(future)
        if self._slots is not None:
            self._slots.release()

    def _run(self, function: Callable[..., None], *args: str) -> None:
        try:
            with self.app.app_context():
                function(*args)
        except Exception:
            # The arguments may hold an address: the job's name is enough to find it.
            log.exception("the job %s failed", function.__name__)

    def wait(self) -> None:
        wait(list(self._pending))

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)


class ThreadExecutor:
    """Jobs in threads of this process: nothing else to run, lost if the process dies.

    Tasks run in `max_workers` threads; mail in threads of its own, at most `mail.backlog`
    waiting, so that a flood of reset requests leaves the tasks' threads alone.
    """

    def __init__(self, app: Flask, max_workers: int = 2, mail: MailLane | None = None) -> None:
        self.app = app
        mail = mail or MailLane()
        self._tasks = BoundedPool(app, "microblog-job", max_workers)
        self._mail = BoundedPool(app, "microblog-mail", mail.threads, mail.backlog)
        self._mail_backlog = mail.backlog

    def submit(self, task_id: str) -> None:
        self._tasks.start(_run_task, task_id)

    def call(self, job: str, *args: str) -> None:
        """Run `job` in the mail lane; past its backlog, drop it with a warning."""
        if not self._mail.start(import_string(job), *args):
            log.warning(MAIL_DROPPED, job, self._mail_backlog)

    def wait(self) -> None:
        """Return once every job submitted so far has finished."""
        self._tasks.wait()
        self._mail.wait()

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with `wait`, return once the submitted ones have finished."""
        self._tasks.shutdown(wait=wait)
        self._mail.shutdown(wait=wait)


class RQExecutor:
    """Jobs queued on Redis for `microblog worker` processes (RQ): tasks on `queue_name`,
    mail on a queue of its own (`mail_queue_name`) holding at most `mail.backlog` jobs.

    While Redis is away, a task ends at once as not queued (the user may start it again), but
    a call (mailing a reset link) runs in a thread of this process instead: the person asking
    has no way to know that their mail was never sent.
    """

    def __init__(
        self, app: Flask, redis_url: str, queue_name: str, mail: MailLane | None = None
    ) -> None:
        self.app = app
        mail = mail or MailLane()
        self._mail_backlog = mail.backlog
        self._here = BoundedPool(app, "microblog-mail", mail.threads, mail.backlog)
        connection = Redis.from_url(
            redis_url,
            socket_connect_timeout=ENQUEUE_CONNECT_TIMEOUT,
            socket_timeout=ENQUEUE_TIMEOUT,
            retry=Retry(NoBackoff(), 1),
        )
        self.queue = Queue(queue_name, connection=connection)
        self.mail_queue = Queue(mail_queue_name(queue_name), connection=connection)

    def submit(self, task_id: str) -> None:
        try:
            self.queue.enqueue(
                JOB,
                task_id,
                job_id=task_id,
                job_timeout=JOB_TIMEOUT,
                result_ttl=0,
                failure_ttl=FAILED_JOB_KEPT,
            )
        except RedisError:
            log.exception("task %s could not be queued", task_id)
            # Committed but never to run: end it now rather than leave it blocking the user.
            with self.app.app_context(), write_intent():
                fail_task(db.session, task_id, UNQUEUED)
                db.session.commit()

    def call(self, job: str, *args: str) -> None:
        """Queue `job` on the mail queue; past its backlog, drop it with a warning."""
        try:
            # Racing requests may pass the bound by a few: it caps a flood, not a count.
            if self.mail_queue.count >= self._mail_backlog:
                log.warning(MAIL_DROPPED, job, self._mail_backlog)
                return
            self.mail_queue.enqueue(
                CALL, job, *args, job_timeout=JOB_TIMEOUT, result_ttl=0, failure_ttl=FAILED_JOB_KEPT
            )
        except RedisError:
            log.warning("%s could not be queued: running it in this process", job, exc_info=True)
            if not self._here.start(import_string(job), *args):
                log.warning(MAIL_DROPPED, job, self._mail_backlog)

    def wait(self) -> None:
        """Return once the mail this process runs itself (Redis away) has been sent."""
        self._here.wait()

    def shutdown(self, wait: bool = True) -> None:
        self._here.shutdown(wait=wait)


def run_job(task_id: str) -> None:
    """RQ's job for a task, run in the worker."""
    run_call("microblog.tasks.executors._run_task", task_id)


def run_call(job: str, *args: str) -> None:
    """RQ's job, run in the worker: build the app from the environment, call `job`."""
    from microblog import create_app

    app = create_app()
    with app.app_context():
        try:
            import_string(job)(*args)
        finally:
            db.engine.dispose()


def run_worker(redis_url: str, queue_names: list[str], *, burst: bool = False) -> bool:
    """Work on the queues until stopped (or, with `burst`, until they are empty).

    RQ takes the next job from the first queue that has one: given `worker_queues`, a task
    waits at most for the mail job under way, however much mail is queued.
    Returns whether any job was run.
    """
    connection = Redis.from_url(redis_url, socket_connect_timeout=5)
    queues = [Queue(name, connection=connection) for name in queue_names]
    worker = Worker(queues, connection=connection)
    # After Redis comes back, resume within seconds: RQ's wait between reconnection attempts
    # otherwise doubles up to a minute.
    worker.max_connection_wait_time = 5.0
    return worker.work(burst=burst, with_scheduler=False)
