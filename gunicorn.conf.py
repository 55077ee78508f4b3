"""Gunicorn settings for `make run`: where to listen and how many workers, from the environment;
JSON logs; Prometheus metrics summed over the workers."""

import atexit
import multiprocessing
import os
import shutil
import tempfile

# The defaults are microblog.config's DEFAULT_HOST and DEFAULT_PORT: PUBLIC_URL's default.
bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '5000'}"
# WEB_CONCURRENCY is gunicorn's own convention; default: one sync worker per core, at least two.
# Measured with `make bench` on 2 cores (PostgreSQL on the same machine): every worker past
# one per core costs CPU per request (more processes contending for the caches and the
# scheduler), so 4 workers serve GET /api/users/<id> at 1,090 req/s and 2 at 1,290, the feed
# at 334 and 479; gthread workers (2 x 4 threads) did no better and had worse p99s. Writes
# lose some (a worker waits idle while PostgreSQL flushes a commit): raise it for write-heavy
# loads. Measured again on 2026-12-03 against gthread and granian (bench/servers.py): their
# reads were at best within the noise of these, and POST /api/posts on SQLite had p99s of
# 0.65-1.5 s under every threaded server. A sync worker is held by a slow client, though:
# nginx goes in front of any server the internet reaches (docs/deployment.md).
# See docs/performance.md.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
wsgi_app = "microblog:create_app()"
accesslog = "-"
timeout = 30
graceful_timeout = 10
# Request limits. What gunicorn refuses itself it answers with an HTML page (431, 414), not the
# API's JSON error, so its limits sit above the app's: a header line up to 32 KiB reaches the
# app, which answers one over 16 KiB with a JSON 431 naming the header (microblog/http_errors.py).
# Still bounded: at most 100 fields (the default), so ~3.2 MiB of headers. The request line goes
# to gunicorn's bounded maximum (8190; only "unlimited" is higher), so a long query string gets
# the app's JSON 400 naming the parameter.
limit_request_line = 8190
limit_request_field_size = 32768
# The control socket (one path per machine by default) is not used; several servers on one
# machine would otherwise delete each other's.
control_socket_disable = True

# One JSON object per line: gunicorn's log and the app's on stderr, the access log (method,
# path, status, duration, request id) on stdout. See microblog/ops/logging.py.
logger_class = "microblog.ops.logging.GunicornLogger"

# Prometheus's multiprocess mode (see microblog/ops/metrics.py): every worker writes its counts
# to files in this directory and /metrics, whichever worker answers, sums them. It must be set
# before a worker imports prometheus_client (so here, not in a hook: --preload loads the app
# before any hook runs), and be this server's alone: unless the environment names one, each
# server makes a temporary directory, removed when its master process exits. (Kept in the
# environment, so reloading this file on SIGHUP keeps the same one. For binary upgrades with
# USR2, name one in the environment: the old master would remove a temporary one.)
_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_METRICS_DIR_IS_OURS = "MICROBLOG_METRICS_DIR_IS_TEMPORARY"
if not os.environ.get(_METRICS_DIR):
    os.environ[_METRICS_DIR] = tempfile.mkdtemp(prefix="microblog-metrics-")
    os.environ[_METRICS_DIR_IS_OURS] = "1"


def on_starting(server):
    """Counts left in the directory by an earlier run are not this run's."""
    directory = os.environ[_METRICS_DIR]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.isfile(path) and name.endswith(".db"):
            os.remove(path)
    if os.environ.get(_METRICS_DIR_IS_OURS):
        # However the master exits (stopped, or failing to bind); workers inherit the handler,
        # hence the pid.
        atexit.register(_remove_directory, os.getpid(), directory)
    server.log.info("Prometheus metrics of the workers are summed in %s", directory)
    _warn_of_settings(server)


def _warn_of_settings(server):
    """Said once, by the master, rather than by every worker."""
    from microblog.config import public_url_warning

    warning = public_url_warning(os.environ)
    if warning:
        server.log.warning(warning)


def _remove_directory(owner, directory):
    if os.getpid() == owner:
        shutil.rmtree(directory, ignore_errors=True)


def child_exit(server, worker):
    """A dead worker's counters still count; its live gauges must go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# Checks of a signed-in person's password (the KDF) at once, over all the workers: one fewer than
# the workers, so one is always free for everything else (microblog.accounts.passwords). Made here, before the
# workers are forked, so that they share it.
_kdf_slots = multiprocessing.BoundedSemaphore(max(1, workers - 1))


def post_fork(server, worker):
    from microblog.accounts import passwords

    passwords.share_slots(_kdf_slots)
