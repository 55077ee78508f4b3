"""Where jobs run: threads of the server process, or RQ workers fed through Redis.

`create_app` picks one: with REDIS_URL set, jobs are queued on Redis and `microblog worker`
runs them; without it, a small thread pool in each server process does (nothing else to run,
which is the embedded default). Either way a job runs in an application context of its own,
with its own session, and commits for itself. Executors are only handed a task after the
transaction that created it commits (see `microblog.db.after_commit`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

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
# How long a request that queues a job waits for Redis. Queueing runs after the request's
# commit, inside the request: a Redis that is down must cost it a moment, not the seconds of
# redis-py's default retries (three, with backoff of up to 10 s each). One immediate retry is
# kept, for a pooled connection that went stale when Redis restarted.
ENQUEUE_CONNECT_TIMEOUT = 1.0
ENQUEUE_TIMEOUT = 2.0


def init_app(app: Flask) -> None:
    app.config.setdefault("TASK_QUEUE", DEFAULT_QUEUE)
    app.config.setdefault("TASK_THREADS", 2)
    url = app.config.get("REDIS_URL")
    executor: Executor
    if url:
        executor = RQExecutor(app, url, app.config["TASK_QUEUE"])
    else:
        executor = ThreadExecutor(app, app.config["TASK_THREADS"])
    app.extensions[EXTENSION] = executor


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


class ThreadExecutor:
    """Jobs in a thread pool of this process: nothing else to run, lost if the process dies."""

    def __init__(self, app: Flask, max_workers: int = 2) -> None:
        self.app = app
        # Threads start on the first job, so a server that forks after create_app is safe.
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="microblog-job")
        self._pending: set[Future[None]] = set()

    def submit(self, task_id: str) -> None:
        self._start(_run_task, task_id)

    def call(self, job: str, *args: str) -> None:
        self._start(import_string(job), *args)

    def _start(self, function: Callable[..., None], *args: str) -> None:
        future = self._pool.submit(self._run, function, *args)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _run(self, function: Callable[..., None], *args: str) -> None:
        try:
            with self.app.app_context():
                function(*args)
        except Exception:
            log.exception("the job %s%r failed", function.__name__, args)

    def wait(self) -> None:
        """Return once every job submitted so far has finished."""
        wait(list(self._pending))

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with `wait`, return once the submitted ones have finished."""
        self._pool.shutdown(wait=wait)


class RQExecutor:
    """Jobs queued on Redis for `microblog worker` processes (RQ).

    While Redis is away, a task ends at once as not queued (the user may start it again), but
    a call (mailing a reset link) runs in a thread of this process instead: the person asking
    has no way to know that their mail was never sent.
    """

    def __init__(self, app: Flask, redis_url: str, queue_name: str) -> None:
        self.app = app
        self._here = ThreadExecutor(app, max_workers=1)
        connection = Redis.from_url(
            redis_url,
            socket_connect_timeout=ENQUEUE_CONNECT_TIMEOUT,
            socket_timeout=ENQUEUE_TIMEOUT,
            retry=Retry(NoBackoff(), 1),
        )
        self.queue = Queue(queue_name, connection=connection)

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
        try:
            self.queue.enqueue(
                CALL, job, *args, job_timeout=JOB_TIMEOUT, result_ttl=0, failure_ttl=FAILED_JOB_KEPT
            )
        except RedisError:
            log.warning("%s could not be queued: running it in this process", job, exc_info=True)
            self._here.call(job, *args)


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


def run_worker(redis_url: str, queue_name: str, *, burst: bool = False) -> bool:
    """Work on the queue until stopped (or, with `burst`, until it is empty).

    Returns whether any job was run.
    """
    connection = Redis.from_url(redis_url, socket_connect_timeout=5)
    queue = Queue(queue_name, connection=connection)
    worker = Worker([queue], connection=connection)
    # After Redis comes back, resume within seconds: RQ's wait between reconnection attempts
    # otherwise doubles up to a minute.
    worker.max_connection_wait_time = 5.0
    return worker.work(burst=burst, with_scheduler=False)
