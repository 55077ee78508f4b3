"""Microblog scaled out on one machine: N app servers, a worker and nginx, on loopback.

`start` checks PostgreSQL and Redis (and starts them when they are local and down), creates
the database if it is missing, migrates it once, then starts N gunicorn app servers (each on
its own port of 127.0.0.1, with TRUSTED_PROXIES=1), one RQ worker (`microblog worker`) and
nginx as a round-robin load balancer in front of them, configured from
deploy/nginx/microblog.conf.template. Everything it starts runs detached, with its pid
(`<name>.pid`) and log (`<name>.log`) in the run directory; `stop` ends exactly those processes
and `status` shows them. PostgreSQL and Redis are shared: they are never stopped here.

The environment reaches every process: DATABASE_URL (default: the database `microblog` of the
PostgreSQL server on 127.0.0.1), REDIS_URL (default redis://127.0.0.1:6379/0), SECRET_KEY
(default: one made for the run directory and kept there, the same for every app server),
PUBLIC_URL (default: nginx's address, http://127.0.0.1:<port>, where links in mail lead), and
whatever else the app reads (RATELIMIT_*, MAIL_* ...). See docs/deployment.md.

Run it through `scripts/cluster` or `make cluster`, which use the project's virtual environment.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import http.client
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# The virtual environment this runs from holds gunicorn and the `microblog` command.
BIN = Path(sys.executable).parent
TEMPLATE = REPO / "deploy" / "nginx" / "microblog.conf.template"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/microblog"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_RUN_DIR = REPO / "instance" / "cluster"
HOST = "127.0.0.1"
LOCAL_HOSTS = {None, "", "127.0.0.1", "localhost", "::1"}
STATE_FILE = "cluster.json"
READY_TIMEOUT = 60.0
SERVICE_TIMEOUT = 30.0
# Longer than gunicorn's graceful_timeout (10 s): in-flight requests finish first.
STOP_TIMEOUT = 20.0
# How each process is asked to stop: gunicorn and RQ finish what they are doing on SIGTERM;
# nginx does on SIGQUIT. Whatever is left of the process group after STOP_TIMEOUT is killed.
STOP_SIGNALS = {"nginx": signal.SIGQUIT}
# Failures (refused or broken connections, timeouts) within 10 s before nginx leaves an app
# server out for 10 s. nginx's default, 1, lets one crashed gunicorn worker take a healthy
# server out of the round; a second failure on the other server within those 10 s then leaves
# no server at all ("no live upstreams": every request a 503 until the 10 s are up). A server
# that is really down refuses connections, and nginx passes the request on to the next server
# (even a POST, which was not sent), so counting three costs clients nothing.
MAX_FAILS = 3

NGINX_CONF = """\
# Written by scripts/cluster for the cluster in @RUN@ (rewritten on each start).
# nginx runs in the foreground with its own pid, logs and temp files, next to (never instead
# of) a system nginx; the site itself is @RUN@/nginx/microblog.conf.
daemon off;
worker_processes 1;
pid @RUN@/nginx/master.pid;
error_log @RUN@/nginx-error.log warn;
@USER@
events {
    worker_connections 1024;
}

http {
    log_format upstream '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                        'upstream=$upstream_addr upstream_status=$upstream_status '
                        'time=$request_time request_id=$request_id';
    access_log @RUN@/nginx-access.log upstream;
    client_body_temp_path @RUN@/nginx/body;
    proxy_temp_path @RUN@/nginx/proxy;
    fastcgi_temp_path @RUN@/nginx/fastcgi;
    uwsgi_temp_path @RUN@/nginx/uwsgi;
    scgi_temp_path @RUN@/nginx/scgi;
    # Which app server answered (several when nginx moved on to the next one): for watching the
    # round robin on this local cluster; a production site need not tell clients.
    add_header X-Upstream $upstream_addr always;

    include @RUN@/nginx/microblog.conf;
}
"""


class ClusterError(Exception):
    """Something the person running the cluster has to fix; the message says what."""


# -- the run directory: pids, logs, state ------------------------------------------------------


def _state_path(run_dir: Path) -> Path:
    return run_dir / STATE_FILE


def _read_state(run_dir: Path) -> dict[str, Any]:
    path = _state_path(run_dir)
    if not path.exists():
        return {"processes": {}}
    state: dict[str, Any] = json.loads(path.read_text())
    state.setdefault("processes", {})
    return state


def _write_state(run_dir: Path, state: dict[str, Any]) -> None:
    path = _state_path(run_dir)
    path.with_suffix(".tmp").write_text(json.dumps(state, indent=2) + "\n")
    path.with_suffix(".tmp").replace(path)


def _start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks after boot), or None without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count after the last ')'.
    return int(stat.rsplit(")", 1)[1].split()[19])


def _alive(pid: int) -> bool:
    """Whether the process runs; a zombie (dead, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _ours(entry: dict[str, Any]) -> bool:
    """Whether the recorded process still runs and is the one we started (not a reused pid)."""
    pid = int(entry["pid"])
    if not _alive(pid):
        return False
    started = entry.get("started")
    return started is None or _start_ticks(pid) in (None, started)


def _spawn(
    run_dir: Path, state: dict[str, Any], name: str, argv: list[str], env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start a detached process (a session and process group of its own) logging to the run
    directory, and record its pid before anything else can go wrong."""
    log_path = run_dir / f"{name}.log"
    with log_path.open("ab") as log:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"==== {stamp} scripts/cluster: {' '.join(argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (run_dir / f"{name}.pid").write_text(f"{process.pid}\n")
    state["processes"][name] = {"pid": process.pid, "started": _start_ticks(process.pid)}
    _write_state(run_dir, state)
    return process


def _tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join("    " + line for line in text)


# -- PostgreSQL, Redis -------------------------------------------------------------------------


def _wait(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise ClusterError(f"{what} is still not answering after {timeout:.0f} s")
        time.sleep(0.2)


def _start_local_postgres() -> None:
    versions = sorted(
        (entry.name for entry in Path("/etc/postgresql").glob("*") if entry.is_dir()),
        key=lambda name: [int(part) if part.isdigit() else 0 for part in name.split(".")],
    )
    if not versions or not shutil.which("pg_ctlcluster"):
        raise ClusterError("PostgreSQL is not running and no Debian cluster was found to start")
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
    print(f"PostgreSQL is not running: {shlex.join(command)}")
    subprocess.run(command, check=False, timeout=SERVICE_TIMEOUT)


def ensure_postgres(database_url: str) -> None:
    """PostgreSQL answers (started when local) and the database exists (created if not)."""
    import sqlalchemy as sa

    url = sa.make_url(database_url)
    if url.get_backend_name() != "postgresql":
        print(f"note: {url.get_backend_name()} is only shared by servers on this one machine")
        return
    if not url.database:
        raise ClusterError("DATABASE_URL names no database")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def answers() -> bool:
        try:
            with admin.connect():
                return True
        except sa.exc.OperationalError:
            return False

    try:
        if not answers():
            if url.host not in LOCAL_HOSTS:
                raise ClusterError(f"PostgreSQL at {url.host}:{url.port or 5432} is not answering")
            _start_local_postgres()
            _wait("PostgreSQL", answers, SERVICE_TIMEOUT)
        with admin.connect() as conn:
            found = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).scalar()
            if not found:
                print(f"Creating the PostgreSQL database {url.database}")
                quoted = conn.dialect.identifier_preparer.quote(url.database)
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    finally:
        admin.dispose()


def ensure_redis(redis_url: str) -> None:
    """Redis answers; started (in-memory, on loopback) when local and down."""
    from redis import Redis, RedisError

    client = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    host = client.connection_pool.connection_kwargs.get("host")
    port = int(client.connection_pool.connection_kwargs.get("port", 6379))

    def answers() -> bool:
        try:
            return bool(client.ping())
        except RedisError:
            return False

    try:
        if answers():
            return
        if host not in LOCAL_HOSTS or not shutil.which("redis-server"):
            raise ClusterError(f"Redis at {redis_url} is not answering")
        command = [
            "redis-server", "--daemonize", "yes", "--bind", HOST, "--port", str(port),
            "--save", "", "--appendonly", "no",
        ]  # fmt: skip
        print(f"Redis is not running: {shlex.join(command)}")
        subprocess.run(command, check=False, timeout=SERVICE_TIMEOUT)
        _wait("Redis", answers, SERVICE_TIMEOUT)
    finally:
        client.close()


# -- the processes we start --------------------------------------------------------------------


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As gunicorn and nginx bind: a port in TIME_WAIT is free, one being listened on is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _http_status(port: int, path: str) -> int | None:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def _healthy(port: int) -> int | None:
    """GET /healthz through this port: 200 when the app reaches its database (and says
    "degraded" in the body while Redis is away; the worker's wait checks Redis)."""
    status = _http_status(port, "/healthz")
    if status == 404:
        # An app without /healthz: any answer of its own (below 500) will do.
        answer = _http_status(port, "/api/users")
        return 200 if answer is not None and answer < 500 else answer
    return status


def _wait_until_serving(name: str, process: subprocess.Popen[bytes], log: Path, port: int) -> None:
    """Until GET /healthz through this port answers 200."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if process.poll() is not None:
            raise ClusterError(f"{name} exited with {process.returncode}; {log}:\n{_tail(log)}")
        status = _healthy(port)
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise ClusterError(
                f"{name} is not serving on port {port} after {READY_TIMEOUT:.0f} s "
                f"(last answer: {status}); {log}:\n{_tail(log)}"
            )
        time.sleep(0.2)


def _wait_until_working(process: subprocess.Popen[bytes], log: Path, redis_url: str) -> None:
    """Until the worker has registered itself with RQ on Redis."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url, socket_connect_timeout=2)
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while not any(worker.pid == process.pid for worker in Worker.all(connection=connection)):
            if process.poll() is not None:
                raise ClusterError(f"the worker exited with {process.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise ClusterError(f"the worker did not register with RQ:\n{_tail(log)}")
            time.sleep(0.2)
    finally:
        connection.close()


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
        None,
    )
    if found is None:
        raise ClusterError(
            "nginx is not installed: `make nginx` (as root) or `apt-get install nginx-light`"
        )
    return found


def render_site(listen: str, servers: Iterable[str], max_conns: int = 0) -> str:
    """deploy/nginx/microblog.conf.template with its placeholders filled in.

    `max_conns` (0: no limit) caps the requests nginx has in flight to each app server: past
    it, on every server, a request is refused at once (a JSON 503 for the API) instead of
    waiting in gunicorn's listen queue until the client gives up. Every server is left out
    only after MAX_FAILS failures within 10 s."""
    options = f" max_fails={MAX_FAILS}" + (f" max_conns={max_conns}" if max_conns > 0 else "")
    lines = "\n    ".join(f"server {server}{options};" for server in servers)
    text = TEMPLATE.read_text()
    for placeholder, value in (("MICROBLOG_LISTEN", listen), ("MICROBLOG_SERVERS", lines)):
        text = text.replace("${" + placeholder + "}", value)
    return text


def _nginx_user(run_dir: Path) -> str:
    """nginx started by root hands its workers to `user`: the run directory's owner, who can
    write the temp files there (unprivileged, the directive is needless)."""
    if os.geteuid() != 0:
        return ""
    info = run_dir.stat()
    return f"user {pwd.getpwuid(info.st_uid).pw_name} {grp.getgrgid(info.st_gid).gr_name};"


def write_nginx_config(run_dir: Path, port: int, app_ports: list[int], max_conns: int = 0) -> Path:
    nginx_dir = run_dir / "nginx"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (nginx_dir / sub).mkdir(parents=True, exist_ok=True)
    site = render_site(
        f"{HOST}:{port}", (f"{HOST}:{app_port}" for app_port in app_ports), max_conns
    )
    (nginx_dir / "microblog.conf").write_text(site)
    main = NGINX_CONF.replace("@RUN@", str(run_dir)).replace("@USER@", _nginx_user(run_dir))
    conf = run_dir / "nginx.conf"
    conf.write_text(main)
    return conf


def _secret_key(run_dir: Path) -> str:
    """SECRET_KEY from the environment, or one kept in the run directory: every app server
    must sign and check sessions with the same key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = run_dir / "secret_key"
    if not path.exists():
        # Private from its first byte, not made readable and then tightened.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def _base_env(
    database_url: str, redis_url: str, run_dir: Path, concurrency: int, port: int
) -> dict[str, str]:
    env = dict(os.environ)
    # Command-line settings would override gunicorn.conf.py's bind from HOST and PORT.
    env.pop("GUNICORN_CMD_ARGS", None)
    # Per app server below, never one directory for all (nor the environment's).
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("MICROBLOG_METRICS_DIR_IS_TEMPORARY", None)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=_secret_key(run_dir),
        # Exactly one proxy, nginx, stands in front of every app server.
        TRUSTED_PROXIES="1",
        # Links in mail lead to nginx, not to the app server that wrote them.
        PUBLIC_URL=os.environ.get("PUBLIC_URL") or f"http://{HOST}:{port}",
        WEB_CONCURRENCY=str(concurrency),
        PYTHONUNBUFFERED="1",
    )
    return env


def _hide_password(url: str) -> str:
    import sqlalchemy as sa

    with contextlib.suppress(Exception):
        return sa.make_url(url).render_as_string(hide_password=True)
    return url


def start(args: argparse.Namespace) -> None:
    run_dir: Path = args.run_dir.resolve()
    # It keeps the secret key and the servers' logs: this user's alone.
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    run_dir.chmod(0o700)
    previous = _read_state(run_dir)
    running = [name for name, entry in previous["processes"].items() if _ours(entry)]
    if running:
        raise ClusterError(
            f"a cluster is already running from {run_dir} ({', '.join(running)}): "
            "stop it first (`make cluster-stop` or `scripts/cluster stop`)"
        )
    for stale in run_dir.glob("*.pid"):
        stale.unlink()

    app_ports = args.app_ports or [args.port + number for number in range(1, args.apps + 1)]
    if len(set(app_ports)) != len(app_ports) or args.port in app_ports:
        raise ClusterError(f"every server needs a port of its own: {args.port}, {app_ports}")
    busy = [port for port in (args.port, *app_ports) if not _port_free(port)]
    if busy:
        raise ClusterError(f"port(s) {busy} of {HOST} are in use; choose others (--port ...)")
    nginx = find_nginx()

    from microblog.config import normalize_database_url

    database_url = normalize_database_url(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    ensure_postgres(database_url)
    ensure_redis(redis_url)
    env = _base_env(database_url, redis_url, run_dir, args.web_concurrency, args.port)

    migrate_log = run_dir / "migrate.log"
    with migrate_log.open("ab") as log:
        upgraded = subprocess.run(
            [str(BIN / "microblog"), "db", "upgrade"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=300,
            check=False,
        )
    if upgraded.returncode != 0:
        raise ClusterError(f"`microblog db upgrade` failed; {migrate_log}:\n{_tail(migrate_log)}")

    url = f"http://{HOST}:{args.port}"
    state: dict[str, Any] = {
        "run_dir": str(run_dir),
        "url": url,
        "database_url": _hide_password(database_url),
        "redis_url": _hide_password(redis_url),
        "apps": [
            {"name": f"app-{number}", "port": port, "url": f"http://{HOST}:{port}"}
            for number, port in enumerate(app_ports, start=1)
        ],
        "processes": {},
    }
    _write_state(run_dir, state)
    try:
        apps = [
            _spawn(
                run_dir,
                state,
                app["name"],
                [str(BIN / "gunicorn"), "--config", str(REPO / "gunicorn.conf.py")],
                {
                    **env,
                    "HOST": HOST,
                    "PORT": str(app["port"]),
                    # Each server's Prometheus counts (see gunicorn.conf.py), kept with its log.
                    "PROMETHEUS_MULTIPROC_DIR": str(run_dir / f"{app['name']}-metrics"),
                },
            )
            for app in state["apps"]
        ]
        worker = _spawn(run_dir, state, "worker", [str(BIN / "microblog"), "worker"], env)
        for app, process in zip(state["apps"], apps, strict=True):
            _wait_until_serving(app["name"], process, run_dir / f"{app['name']}.log", app["port"])
        _wait_until_working(worker, run_dir / "worker.log", redis_url)

        max_conns = args.max_conns if args.max_conns >= 0 else 4 * args.web_concurrency
        conf = write_nginx_config(run_dir, args.port, app_ports, max_conns)
        nginx_argv = [nginx, "-p", str(run_dir / "nginx"), "-c", str(conf)]
        nginx_argv += ["-e", str(run_dir / "nginx-error.log")]
        checked = subprocess.run(
            [*nginx_argv, "-t", "-q"], capture_output=True, text=True, check=False, timeout=30
        )
        if checked.returncode != 0:
            raise ClusterError(f"nginx refuses {conf}:\n{checked.stderr}")
        balancer = _spawn(run_dir, state, "nginx", nginx_argv, env)
        _wait_until_serving("nginx", balancer, run_dir / "nginx-error.log", args.port)
    except BaseException:
        stop_processes(run_dir, quiet=True)
        raise
    _report(state, run_dir)


def _report(state: dict[str, Any], run_dir: Path) -> None:
    pids = {name: entry["pid"] for name, entry in state["processes"].items()}
    print(f"Microblog cluster running from {run_dir}")
    print(f"  load balancer  {state['url']}/   (nginx, pid {pids['nginx']}, nginx-*.log)")
    for app in state["apps"]:
        name = app["name"]
        print(f"  {name:<13}  {app['url']}/   (gunicorn, pid {pids[name]}, {name}.log)")
    print(f"  worker         RQ on {state['redis_url']}   (pid {pids['worker']}, worker.log)")
    print(f"  database       {state['database_url']}")
    print("Stop it with `make cluster-stop` or `scripts/cluster stop --run-dir ...`.")


# -- stopping ----------------------------------------------------------------------------------


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def stop_processes(run_dir: Path, quiet: bool = False) -> list[str]:
    """End every process this run directory records as ours: nginx first (no new requests),
    then the app servers and the worker. Returns the names of those that were running."""
    state = _read_state(run_dir)
    entries = state["processes"]
    running = {name: entry for name, entry in entries.items() if _ours(entry)}
    order = sorted(running, key=lambda name: name != "nginx")
    first, rest = [name for name in order if name == "nginx"], [n for n in order if n != "nginx"]
    for group in (first, rest):
        for name in group:
            with contextlib.suppress(ProcessLookupError):
                os.kill(running[name]["pid"], STOP_SIGNALS.get(name, signal.SIGTERM))
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(_alive(running[name]["pid"]) for name in group):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for name in group:
            pid = running[name]["pid"]
            if _alive(pid) and not quiet:
                print(f"{name} (pid {pid}) did not stop in {STOP_TIMEOUT:.0f} s: killed")
            # Whatever is left of its process group (gunicorn workers, an RQ work horse).
            _signal_group(pid, signal.SIGKILL)
    for name in entries:
        with contextlib.suppress(FileNotFoundError):
            (run_dir / f"{name}.pid").unlink()
    state["processes"] = {}
    _write_state(run_dir, state)
    return order


def stop(args: argparse.Namespace) -> None:
    run_dir: Path = args.run_dir.resolve()
    if not _state_path(run_dir).exists():
        print(f"no cluster was started from {run_dir}")
        return
    stopped = stop_processes(run_dir)
    print(f"stopped {', '.join(stopped)}" if stopped else f"nothing was running from {run_dir}")


def status(args: argparse.Namespace) -> int:
    run_dir: Path = args.run_dir.resolve()
    state = _read_state(run_dir)
    if not state["processes"]:
        print(f"no cluster is running from {run_dir}")
        return 1
    print(f"{state.get('url')}/   (run directory {run_dir})")
    down = 0
    for name, entry in state["processes"].items():
        up = _ours(entry)
        down += not up
        print(f"  {name:<8} pid {entry['pid']:<8} {'running' if up else 'NOT RUNNING'}")
    return 1 if down else 0


# -- the command line --------------------------------------------------------------------------


def _ports(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of ports: {text}") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--run-dir",
        type=Path,
        default=Path(env("CLUSTER_RUN_DIR") or DEFAULT_RUN_DIR),
        help="pids, logs and nginx's files (env CLUSTER_RUN_DIR; default instance/cluster)",
    )
    parser = argparse.ArgumentParser(
        prog="scripts/cluster", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    starting = commands.add_parser("start", parents=[common], help="start the cluster")
    starting.add_argument(
        "--apps",
        type=int,
        default=int(env("CLUSTER_APPS") or 2),
        help="how many app servers (env CLUSTER_APPS; default 2)",
    )
    starting.add_argument(
        "--port",
        type=int,
        default=int(env("CLUSTER_PORT") or 8080),
        help="nginx's port (env CLUSTER_PORT; default 8080)",
    )
    starting.add_argument(
        "--app-ports",
        type=_ports,
        default=_ports(env("CLUSTER_APP_PORTS") or ""),
        help="the app servers' ports, comma-separated (env CLUSTER_APP_PORTS; "
        "default the --apps ports after --port)",
    )
    starting.add_argument(
        "--web-concurrency",
        type=int,
        default=int(env("WEB_CONCURRENCY") or 2),
        help="gunicorn workers per app server (env WEB_CONCURRENCY; default 2)",
    )
    starting.add_argument(
        "--max-conns",
        type=int,
        default=int(env("CLUSTER_MAX_CONNS") or -1),
        help="requests in flight per app server past which nginx answers 503 at once "
        "(env CLUSTER_MAX_CONNS; default 4 per gunicorn worker; 0: no limit)",
    )
    commands.add_parser("stop", parents=[common], help="stop what `start` started")
    commands.add_parser("status", parents=[common], help="what is running")
    args = parser.parse_args(argv)
    if args.command == "start" and (args.apps < 1 or args.web_concurrency < 1):
        parser.error("--apps and --web-concurrency must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.command == "start":
            start(args)
        elif args.command == "stop":
            stop(args)
        else:
            return status(args)
    except ClusterError as exc:
        print(f"scripts/cluster: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
