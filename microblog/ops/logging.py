"""Structured logs: one JSON object per line, each tied to its request by a request id.

Every response carries `X-Request-ID`: the one the request came with (nginx's `$request_id`,
a client's) when it looks like an id, a new one otherwise. Records logged while a request is
handled carry it as `request_id`, with the method and path.

Under gunicorn (`logger_class` in gunicorn.conf.py) everything is JSON: gunicorn's own log and
the app's on stderr, and the access log on stdout, one object per request with its method,
path, status, duration and request id. Without gunicorn (`flask run`, tests) logging is left as
Python configures it; `JsonFormatter` can be put on any handler.

Secrets in URLs never reach a log: a reset link's token (/reset_password/<token>) and the value
of any query parameter named like a secret (token, access_token, code, key, password ...) are
replaced by "[redacted]" in every JSON record (its message, path, query, referer and other
fields) and in the development server's request lines.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask, g, has_request_context, request
from gunicorn import glogging
from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter
from werkzeug.wrappers import Response

REQUEST_ID_HEADER = "X-Request-ID"
# What an incoming id may look like to be reused: short, and nothing that could forge a log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}")
RECORD_FIELDS = ("asctime", "levelname", "name", "message")
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}

REDACTED = "[redacted]"
_URL_END = r"/?#&;\s\"'<>"
# Paths whose last part is a secret: the password-reset link's token.
_SECRET_IN_PATH = re.compile(rf"(/reset_password/)[^{_URL_END}]+")
# A query parameter named like a secret, and its value (in a query string or a whole URL).
_SECRET_PARAMETER = re.compile(
    rf"((?:^|[?&;])[^={_URL_END}]*(?:token|secret|passw|key|signature|code)[^={_URL_END}]*=)"
    rf"[^{_URL_END}]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` (a path, a query string, a URL, a log message) without the secrets URLs carry."""
    if "/reset_password/" in text:
        text = _SECRET_IN_PATH.sub(rf"\1{REDACTED}", text)
    if "=" in text:
        text = _SECRET_PARAMETER.sub(rf"\1{REDACTED}", text)
    return text


class RedactSecrets(logging.Filter):
    """Takes secrets out of a record's message (for handlers that do not format as JSON, such
    as the development server's request lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def request_id() -> str:
    """The id of the request being handled (chosen on first use)."""
    current: str | None = g.get("request_id")
    if current is None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        current = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_id = current
    return current


def init_app(app: Flask) -> None:
    # `flask run`'s server logs each request line, path and query included.
    development_server = logging.getLogger("werkzeug")
    if not any(isinstance(known, RedactSecrets) for known in development_server.filters):
        development_server.addFilter(RedactSecrets())


def choose_request_id() -> None:
    """Pipeline step, first of every door: the id is there for every later step's logs."""
    request_id()


def send_request_id(response: Response) -> Response:
    """Pipeline step, last of every door."""
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


class JsonFormatter(_BaseJsonFormatter):
    """A record as one line of JSON: time, level, logger, message, any `extra` fields, and the
    request's id, method and path when logged while handling one; every text in it redacted."""

    def __init__(self) -> None:
        super().__init__(
            list(RECORD_FIELDS),
            rename_fields=RENAMED,
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            static_fields={},
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["pid"] = record.process
        if has_request_context() and "request_id" not in log_data:
            log_data["request_id"] = request_id()
            log_data.setdefault("method", request.method)
            log_data.setdefault("path", request.path)
        for name, value in log_data.items():
            if isinstance(value, str):
                log_data[name] = redact(value)


def configure_root(level: int = logging.INFO) -> None:
    """The app's logs (everything that reaches the root logger) as JSON on stderr."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_microblog_json", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._microblog_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic, imported by Flask-Migrate in every worker, announces its plugins at INFO.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))


class GunicornLogger(glogging.Logger):
    """Gunicorn's logger, writing JSON: its error log, its access log (one object per request)
    and, through the root logger, the app's logs."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
        configure_root(self.loglevel)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        try:
            fields = access_fields(resp, environ, request_time)
            self.access_log.info(
                "%s %s %s", fields["method"], fields["path"], fields["status"], extra=fields
            )
        except Exception:
            self.exception("the access log line could not be written")


def access_fields(resp: Any, environ: dict[str, Any], request_time: timedelta) -> dict[str, Any]:
    """What the access log says of one request, from gunicorn's response and WSGI environ."""
    status = resp.status
    code = int(str(status).split(None, 1)[0]) if status else 0
    headers = {name.lower(): value for name, value in resp.headers}
    return {
        "method": environ.get("REQUEST_METHOD", ""),
        "path": redact(environ.get("PATH_INFO", "")),
        "query": redact(environ.get("QUERY_STRING", "")),
        "status": code,
        "duration_ms": round(request_time.total_seconds() * 1000, 3),
        "bytes": getattr(resp, "sent", None),
        "request_id": headers.get(REQUEST_ID_HEADER.lower())
        or environ.get("HTTP_X_REQUEST_ID", ""),
        "remote_addr": environ.get("REMOTE_ADDR", ""),
        # Behind nginx, REMOTE_ADDR is the proxy's; the client is here.
        "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR", ""),
        "user_agent": environ.get("HTTP_USER_AGENT", ""),
        # The page before: a reset form's address, with its token, when that form was sent.
        "referer": redact(environ.get("HTTP_REFERER", "")),
        "protocol": environ.get("SERVER_PROTOCOL", ""),
    }
