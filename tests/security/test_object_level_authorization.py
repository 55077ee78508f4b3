"""API1:2023 Broken object-level authorization: every API route that names an object by id,
tried by a signed-in attacker on a victim's object.

The table below must name every such route of the app (a test compares it to `app.url_map`),
so a new route with an id fails here until someone decides what it may show to whom.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.api.api_helpers import assert_json_error
from tests.security.security_support import World, build_world, owned_by, snapshot
from tests.support import ApiUser


class Kind(Enum):
    # Only its owner may touch it: another user gets 403 or 404 and nothing changes.
    OWNED = "owned"
    # Readable by every signed-in user by design (profiles, posts, follow lists): 200, and no
    # database change.
    PUBLIC = "public"
    # The id names the other party of the caller's own relation (whom I follow): it acts on
    # the caller's data only, so what the victim owns stays as it was.
    CALLERS_OWN = "caller's own"
    # Not an object of anyone's: the documentation's static files.
    NOT_AN_OBJECT = "not an object"


@dataclass(frozen=True)
class Row:
    kind: Kind
    # The path with the victim's object filled in.
    path: Callable[[World, ApiUser], str]
    json: dict[str, Any] | None = None
    statuses: frozenset[int] = field(default_factory=frozenset)


def _post(world: World, victim: ApiUser) -> str:
    return f"/api/posts/{world.post_id}"


def _user(suffix: str = "") -> Callable[[World, ApiUser], str]:
    return lambda world, victim: f"/api/users/{victim.id}{suffix}"


def _following(world: World, victim: ApiUser) -> str:
    return f"/api/me/following/{victim.id}"


DENIED = frozenset({403, 404})

# (method, rule) -> what an attacker holding a valid token of their own may do with it.
ROUTES: dict[tuple[str, str], Row] = {
    ("PUT", "/api/posts/<int:post_id>"): Row(Kind.OWNED, _post, {"body": "pwned"}, DENIED),
    ("DELETE", "/api/posts/<int:post_id>"): Row(Kind.OWNED, _post, None, DENIED),
    ("GET", "/api/messages/<int:message_id>"): Row(
        Kind.OWNED, lambda world, _v: f"/api/messages/{world.message_id}", None, DENIED
    ),
    ("GET", "/api/tasks/<uuid:task_id>"): Row(
        Kind.OWNED, lambda world, _v: f"/api/tasks/{world.task_id}", None, DENIED
    ),
    ("GET", "/api/tasks/<uuid:task_id>/result"): Row(
        Kind.OWNED, lambda world, _v: f"/api/tasks/{world.task_id}/result", None, DENIED
    ),
    ("PUT", "/api/users/<int:user_id>"): Row(
        Kind.OWNED,
        _user(),
        {"about_me": "pwned", "email": "attacker2@example.com", "username": "owned"},
        DENIED,
    ),
    ("DELETE", "/api/tokens/<int:token_id>"): Row(
        Kind.OWNED, lambda world, _v: f"/api/tokens/{world.token_id}", None, DENIED
    ),
    ("GET", "/api/posts/<int:post_id>"): Row(Kind.PUBLIC, _post, None, frozenset({200})),
    ("GET", "/api/users/<int:user_id>"): Row(Kind.PUBLIC, _user(), None, frozenset({200})),
    ("GET", "/api/users/<int:user_id>/followers"): Row(
        Kind.PUBLIC, _user("/followers"), None, frozenset({200})
    ),
    ("GET", "/api/users/<int:user_id>/following"): Row(
        Kind.PUBLIC, _user("/following"), None, frozenset({200})
    ),
    ("GET", "/api/users/<int:user_id>/posts"): Row(
        Kind.PUBLIC, _user("/posts"), None, frozenset({200})
    ),
    ("GET", "/api/me/following/<int:user_id>"): Row(
        Kind.CALLERS_OWN, _following, None, frozenset({404})
    ),
    ("POST", "/api/me/following/<int:user_id>"): Row(
        Kind.CALLERS_OWN, _following, None, frozenset({204})
    ),
    ("DELETE", "/api/me/following/<int:user_id>"): Row(
        Kind.CALLERS_OWN, _following, None, frozenset({204})
    ),
    ("GET", "/api/docs/<path:filename>"): Row(
        Kind.NOT_AN_OBJECT, lambda _w, _v: "/api/docs/swagger-ui.css"
    ),
}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routes_with_arguments(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.arguments
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_the_table_names_every_api_route_that_takes_an_id(app: Flask) -> None:
    routes = routes_with_arguments(app)
    missing = sorted(routes - ROUTES.keys())
    assert not missing, f"add these routes to ROUTES, with who may use them: {missing}"
    assert not sorted(ROUTES.keys() - routes), "ROUTES names routes that no longer exist"


def test_another_users_objects_cannot_be_read_changed_or_deleted(
    app: Flask, client: FlaskClient, victim: ApiUser, attacker: ApiUser, third: ApiUser
) -> None:
    world = build_world(client, victim, third)
    # In this order, so the attacker's follow exists when they drop it again.
    for (method, rule), row in ROUTES.items():
        if row.kind is Kind.NOT_AN_OBJECT:
            continue
        path = row.path(world, victim)
        everything, victims = snapshot(app), owned_by(app, victim.id)

        response = client.open(path, method=method, json=row.json, headers=attacker.headers)

        where = f"{method} {rule} as another user"
        assert response.status_code in row.statuses, (where, response.get_data(as_text=True))
        assert response.mimetype == "application/json", where
        if row.kind is Kind.OWNED:
            assert_json_error(response, response.status_code)
        if row.kind in (Kind.OWNED, Kind.PUBLIC):
            assert snapshot(app) == everything, f"{where} changed the database"
        assert owned_by(app, victim.id) == victims, f"{where} changed what the victim owns"

    # And the owner still can: the refusals above were about who asked, not what was asked.
    result = client.get(f"/api/tasks/{world.task_id}/result", headers=victim.headers)
    assert result.status_code == 200
    assert client.get(f"/api/messages/{world.message_id}", headers=third.headers).status_code == 200
    owner = client.put(f"/api/posts/{world.post_id}", json={"body": "mine"}, headers=victim.headers)
    assert owner.status_code == 200
