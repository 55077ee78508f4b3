"""What runs on a request: each door's steps, declared in microblog/pipeline.py, and only those.

The API pays for no browser machinery (cookie sessions, CSRF, Talisman, languages), the site for
no API machinery, a request that never reads the database for no transaction, a rate-limited
API request for one storage operation, and a plain GET for no conditional comparison.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from redis import Redis

from microblog import pipeline
from microblog.extensions import db
from tests.api.api_helpers import ApiUser, make_app

API_STEPS = {
    "before": [
        "microblog.ops.logging.choose_request_id",
        "microblog.ops.metrics.start_clock",
        "microblog.http_errors.refuse_oversized_headers",
        "microblog.api.ratelimits.spend_before_authentication",
        "microblog.boundary.declare_write_intent",
    ],
    "after": [
        "microblog.api.ratelimits.settle_and_tell",
        "microblog.api.conditional.tag_and_answer_conditionally",
        "microblog.http_errors.api_responses_are_json",
        "microblog.web.security.static_security_headers",
        "microblog.boundary.commit",
        "microblog.ops.metrics.count_request",
        "microblog.ops.logging.send_request_id",
    ],
}
WEB_STEPS = {
    "before": [
        "microblog.ops.logging.choose_request_id",
        "microblog.ops.metrics.start_clock",
        "microblog.http_errors.refuse_oversized_headers",
        "microblog.boundary.declare_write_intent",
        "microblog.web.checks.refuse_bodies_that_are_not_forms",
        "flask_wtf.csrf.CSRFProtect.init_app.<locals>.csrf_protect",
        "flask_talisman.talisman.Talisman._force_https",
        "flask_talisman.talisman.Talisman._make_nonce",
    ],
    "after": [
        "microblog.api.ratelimits.tell_route_limit",
        "microblog.web.vary_by_language",
        "flask_talisman.talisman.Talisman._set_response_headers",
        "flask_login.login_manager.LoginManager._update_remember_cookie",
        "microblog.web.checks.keep_out_of_shared_caches",
        "microblog.boundary.commit",
        "microblog.ops.metrics.count_request",
        "microblog.ops.logging.send_request_id",
    ],
}
OPS_STEPS = {
    "before": API_STEPS["before"][:3],
    "after": API_STEPS["after"][-4:],
}


def test_each_door_runs_the_steps_declared_for_it_in_order(app: Flask) -> None:
    assert pipeline.describe(app) == {"api": API_STEPS, "ops": OPS_STEPS, "web": WEB_STEPS}
    # Flask itself sees one step of each kind: the door's.
    assert [len(hooks) for hooks in app.before_request_funcs.values()] == [1]
    assert [len(hooks) for hooks in app.after_request_funcs.values()] == [1]


def test_cors_joins_the_api_door_only_when_origins_are_configured(
    make_other_app: Callable[..., Flask],
) -> None:
    steps = pipeline.describe(make_other_app(CORS_ORIGINS=["https://app.example.com"]))
    assert steps["api"]["after"][1].startswith("flask_cors.extension.make_after_request_function")
    assert steps["web"] == WEB_STEPS


def test_a_request_hook_registered_outside_the_pipeline_stops_the_app() -> None:
    app = Flask(__name__)

    @app.before_request
    def sneaky() -> None:
        return None

    with pytest.raises(RuntimeError, match=r"outside microblog/pipeline\.py: .*sneaky"):
        pipeline.init_app(app)


def test_an_api_request_neither_reads_nor_sets_cookies_nor_varies_by_language(
    client: Any, susan: ApiUser
) -> None:
    client.get("/login")  # a site session cookie, as a browser that also uses the API has
    assert client.get_cookie("session") is not None
    response = client.get("/api/me", headers={**susan.headers, "Accept-Language": "es"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.vary and "Accept-Language" not in response.vary
    # Still inert if a browser is tricked into rendering it.
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_pages_still_have_their_session_csrf_and_language(client: Any) -> None:
    page = client.get("/login", headers={"Accept-Language": "es"})
    assert page.status_code == 200
    assert "Accept-Language" in page.vary
    assert client.get_cookie("session") is not None
    assert 'name="csrf_token"' in page.get_data(as_text=True)


@pytest.fixture
def checkouts(app: Flask) -> Iterator[list[str]]:
    """Connections taken from the pool while the test runs."""
    taken: list[str] = []

    def count(*_args: Any) -> None:
        taken.append("checkout")

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "checkout", count)
    yield taken
    sa.event.remove(engine, "checkout", count)


def test_a_request_that_never_reads_the_database_begins_no_transaction(
    client: Any, checkouts: list[str]
) -> None:
    for path in ("/api/ping", "/api/openapi.json", "/static/app.js"):
        response = client.get(path)
        response.close()
        assert response.status_code == 200, path
    assert checkouts == []


def test_a_plain_get_is_tagged_and_a_conditional_one_is_answered_304(
    client: Any, susan: ApiUser
) -> None:
    first = client.get(f"/api/users/{susan.id}", headers=susan.headers)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(
        f"/api/users/{susan.id}", headers={**susan.headers, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.get_data() == b""


@pytest.fixture
def susan(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("susan")


@pytest.fixture
def limited_on_redis(
    database_url: str, redis_prefix: tuple[str, str]
) -> Iterator[tuple[Flask, Redis, str]]:
    url, prefix = redis_prefix
    app = make_app(
        database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_API="1000 per minute",
        REDIS_URL=url,
        RATELIMIT_KEY_PREFIX=prefix,
    )
    with Redis.from_url(url) as redis:
        yield app, redis, prefix
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def commands_about(redis: Redis, prefix: str, requests: Callable[[], None]) -> list[str]:
    """The commands clients sent the Redis server that name `prefix`, while `requests` ran
    (not the ones a Lua script they called ran)."""
    seen: list[str] = []
    end = f"end-of-{prefix}"
    ready = threading.Event()

    def watch() -> None:
        with redis.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                text = command["command"]
                if end in text:
                    return
                if (
                    prefix in text
                    and command.get("client_type") != "lua"
                    and not text.startswith("ECHO")
                ):
                    seen.append(text)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert ready.wait(10)
    # MONITOR has started once it has seen a command sent after it was asked for.
    with Redis(connection_pool=redis.connection_pool) as other:
        other.echo(f"start-of-{prefix}")
    requests()
    with Redis(connection_pool=redis.connection_pool) as other:
        other.echo(end)
    watcher.join(10)
    assert not watcher.is_alive()
    return seen


def test_a_rate_limited_api_request_costs_one_storage_operation(
    limited_on_redis: tuple[Flask, Redis, str], susan: ApiUser
) -> None:
    app, redis, prefix = limited_on_redis
    client = app.test_client()
    invented = {"Authorization": f"Bearer {secrets.token_hex(32)}"}
    answers: list[int] = []

    def requests() -> None:
        answers.append(client.get(f"/api/users/{susan.id}", headers=susan.headers).status_code)
        answers.append(client.get("/api/ping").status_code)  # anonymous
        answers.append(client.get("/api/users").status_code)  # anonymous, refused
        answers.append(client.get("/api/me", headers=invented).status_code)  # refused token
        answers.append(client.get("/api/ping", headers=susan.headers).status_code)  # unchecked

    commands = commands_about(redis, prefix, requests)
    assert answers == [200, 200, 401, 401, 200]
    assert len(commands) == 5, commands
    assert all(command.startswith("EVALSHA") for command in commands), commands
