"""Bad input, table-driven (tests/api/bad_input_cases.py): every write route and every query
parameter of the API, sent what a client should never send, must answer a 4xx JSON error
naming what is wrong, and leave every row of every table as it was.

The requests share one seeded world per backend (users, a follow, posts, a message) instead of
building the app and its users for each of a few hundred cases: a rejected request changes
nothing, which is what each case checks, and a world that did change is seeded again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.test import TestResponse

from microblog.extensions import db
from tests.api.api_helpers import assert_json_error
from tests.api.bad_input_cases import BODIES, CASES, HEADERS, QUERIES, Case
from tests.support import basic_auth, make_app, stop_jobs

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PASSWORD = "correct-horse"
Snapshot = dict[str, list[str]]


@dataclass
class World:
    """An app on this backend's database, seeded through the API: susan, bob and carol with
    tokens, a post each for susan and bob, susan following bob, and a message from bob to susan
    that she has not read."""

    app: Flask
    client: FlaskClient
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    seeded: Snapshot = field(default_factory=dict)

    @classmethod
    def build(cls, database_url: str, instance: Path) -> World:
        app = make_app(database_url)
        app.instance_path = str(instance)
        world = cls(app, app.test_client())
        world.seed()
        return world

    def seed(self) -> None:
        with self.app.app_context():
            _empty(db.engine)
        for name in ("susan", "bob", "carol"):
            created = self._ok(
                "POST",
                "/api/users",
                json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
            )
            self.ids[name] = created["id"]
            token = self._ok("POST", "/api/tokens", headers=basic_auth(name, PASSWORD))
            self.tokens[name] = token["token"]
        self.ids["bob_token"] = self._ok("GET", "/api/tokens", "bob")["items"][0]["id"]
        self.ids["post"] = self._ok("POST", "/api/posts", "susan", json={"body": "hello"})["id"]
        self.ids["bob_post"] = self._ok("POST", "/api/posts", "bob", json={"body": "hi"})["id"]
        self._ok("POST", f"/api/me/following/{self.ids['bob']}", "susan")
        message = {"recipient_id": self.ids["susan"], "body": "unread"}
        self._ok("POST", "/api/messages", "bob", json=message)
        self.seeded = self.snapshot()

    def _ok(self, method: str, path: str, user: str | None = None, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if user:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        assert response.status_code < 300, response.get_data(as_text=True)
        return response.json if response.data else None

    def snapshot(self) -> Snapshot:
        """Every row of every table, as sorted text: equal snapshots, equal databases."""
        with self.app.app_context(), db.engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            return {
                table: sorted(
                    repr(tuple(row)) for row in conn.exec_driver_sql(f'SELECT * FROM "{table}"')
                )
                for table in tables
            }

    def send(self, case: Case) -> TestResponse:
        headers = dict(case.headers)
        if case.as_user and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.tokens[case.as_user]}"
        if case.content_type is not None:
            headers["Content-Type"] = case.content_type
        body = case.body
        if body is not None:
            for name, value in self.ids.items():
                body = body.replace(f'"$id:{name}"'.encode(), str(value).encode())
        return self.client.open(
            case.path.format(**self.ids), method=case.method, headers=headers, data=body
        )

    def close(self) -> None:
        stop_jobs(self.app)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def _empty(engine: sa.Engine) -> None:
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                conn.exec_driver_sql(f'DELETE FROM "{table}"')


@pytest.fixture(scope="module")
def worlds() -> Iterator[dict[str, World]]:
    """The worlds built in this module, by database URL (one per backend)."""
    made: dict[str, World] = {}
    yield made
    for world in made.values():
        world.close()


@pytest.fixture
def world(
    database_url: str, worlds: dict[str, World], tmp_path_factory: pytest.TempPathFactory
) -> World:
    """This backend's world, seeded again if anything (another module's test, a case that
    failed) changed its database."""
    built = worlds.get(database_url)
    if built is None:
        built = worlds[database_url] = World.build(database_url, tmp_path_factory.mktemp("bad"))
    elif built.snapshot() != built.seeded:
        built.seed()
    return built


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_a_json_4xx_naming_the_problem_and_changes_nothing(
    world: World, case: Case
) -> None:
    response = world.send(case)

    assert_json_error(response, case.status, *case.words)
    assert world.snapshot() == world.seeded


# ---------------------------------------------------------------------------------------------
# The table covers the API: a new write route or query parameter without a case fails here.


def _endpoint(app: Flask, method: str, path: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(urlsplit(path).path, method)
    except (HTTPException, RequestRedirect):
        return None
    return str(endpoint)


def _write_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in (rule.methods or set()) & WRITE_METHODS
    }


def test_every_write_route_of_the_api_has_bad_input_cases(world: World) -> None:
    covered = {
        (case.method, _endpoint(world.app, case.method, case.path.format(**world.ids)))
        for case in (param.values[0] for param in [*BODIES, *HEADERS])
        if isinstance(case, Case)
    }

    assert _write_routes(world.app) - covered == set()


def test_every_query_parameter_of_the_api_has_bad_input_cases(world: World) -> None:
    wanted = {
        (rule.endpoint, name)
        for rule in world.app.url_map.iter_rules()
        if (operation := getattr(world.app.view_functions[rule.endpoint], "__operation__", None))
        and operation.query is not None
        for name in operation.query.model_fields
    }
    covered = set()
    for param in QUERIES:
        case = param.values[0]
        assert isinstance(case, Case)
        endpoint = _endpoint(world.app, case.method, case.path.format(**world.ids))
        for name in parse_qs(urlsplit(case.path).query, keep_blank_values=True):
            covered.add((endpoint, name))

    assert wanted - covered == set()
    assert len(wanted) > 30  # the introspection found the routes
