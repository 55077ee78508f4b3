"""The API over real HTTP, against gunicorn with two worker processes and a real database."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
import requests
import sqlalchemy as sa

from microblog.accounts.models import User
from tests.server.live_support import LiveServer, call, unique_name
from tests.support import ApiUser

pytestmark = pytest.mark.live

RACERS = 20
T = TypeVar("T")
R = TypeVar("R")


def _at_once(action: Callable[[T], R], arguments: list[T]) -> list[R]:
    """`action` on every argument, one thread each, all released at the same moment."""
    barrier = threading.Barrier(len(arguments), timeout=30)

    def released(argument: T) -> R:
        barrier.wait()
        return action(argument)

    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        return list(pool.map(released, arguments))


def _race(server: LiveServer, bodies: list[dict[str, str]]) -> list[tuple[int, dict[str, Any]]]:
    """POST every body to /api/users at the same moment."""

    def sign_up(body: dict[str, str]) -> tuple[int, dict[str, Any]]:
        response = call(server, "POST", "/api/users", json=body)
        return response.status_code, response.json()

    return _at_once(sign_up, bodies)


def _page_meta(server: LiveServer, user: ApiUser, path: str) -> dict[str, Any]:
    response = call(server, "GET", path, headers=user.headers, params={"per_page": 1})
    assert response.status_code == 200, response.text
    meta: dict[str, Any] = response.json()["_meta"]
    return meta


def test_signing_up_getting_a_token_and_revoking_it_over_http(
    live_server: LiveServer, register: Callable[..., ApiUser]
) -> None:
    username = unique_name("Susan")
    email = f"{username.lower()}@example.com"

    created = call(
        live_server,
        "POST",
        "/api/users",
        json={"username": username, "email": email, "password": "cat-on-keyboard"},
    )
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"] == "application/json"
    user = created.json()
    assert user["username"] == username
    assert user["email"] == email
    assert created.headers["Location"] == f"/api/users/{user['id']}"

    # A username in another case logs in too; a wrong password does not.
    wrong = call(live_server, "POST", "/api/tokens", auth=(username, "not-the-password"))
    assert wrong.status_code == 401
    assert wrong.json()["message"] == "invalid username or password"
    issued = call(live_server, "POST", "/api/tokens", auth=(username.upper(), "cat-on-keyboard"))
    assert issued.status_code == 200, issued.text
    bearer = {"Authorization": f"Bearer {issued.json()['token']}"}

    me = call(live_server, "GET", "/api/me", headers=bearer)
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]
    assert me.json()["email"] == email

    # Another user sees the profile, without the email address.
    other = register(live_server, "other")
    seen = call(live_server, "GET", f"/api/users/{user['id']}", headers=other.headers)
    assert seen.status_code == 200
    assert seen.json()["username"] == username
    assert "email" not in seen.json()

    # The list of users holds both, whichever page they are on.
    listed: set[str] = set()
    url: str | None = "/api/users?per_page=100"
    while url:
        page = call(live_server, "GET", url, headers=bearer)
        assert page.status_code == 200, page.text
        listed.update(item["username"] for item in page.json()["items"])
        url = page.json()["_links"]["next"]
    assert {username, other.username} <= listed
    assert page.json()["_meta"]["total_items"] == len(listed)

    revoked = call(live_server, "DELETE", "/api/tokens", headers=bearer)
    assert revoked.status_code == 204
    after = call(live_server, "GET", "/api/me", headers=bearer)
    assert after.status_code == 401
    assert after.json()["message"] == "the token has been revoked"
    # The other user's token is untouched.
    assert call(live_server, "GET", "/api/me", headers=other.headers).status_code == 200


@pytest.mark.parametrize(
    ("shared", "message"),
    [
        ("username", "please use a different username"),
        ("email", "please use a different email address"),
    ],
)
def test_twenty_racing_signups_for_one_name_have_one_winner(
    live_server: LiveServer, shared: str, message: str
) -> None:
    name = unique_name("racer")
    bodies = [
        {
            "username": name if shared == "username" else f"{name}_{n}",
            "email": f"{name}@example.com" if shared == "email" else f"{name}_{n}@example.com",
            "password": "p" * 12,
        }
        for n in range(RACERS)
    ]
    results = _race(live_server, bodies)
    statuses = Counter(status for status, _ in results)
    # A loser is told the name is taken: 400 if it was when the request looked, 409 if
    # another request claimed it while this one was writing it.
    assert statuses[201] == 1, results
    assert statuses[400] + statuses[409] == RACERS - 1, results
    assert all(body["message"] == message for status, body in results if status != 201), results


def test_a_storm_of_follows_and_unfollows_leaves_counters_equal_to_the_rows(
    live_server: LiveServer, register: Callable[..., ApiUser]
) -> None:
    users = [register(live_server, "storm") for _ in range(6)]
    threads, requests_each = 6, 50
    outcomes: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()

    def storm(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(requests_each):
            actor, target = rng.sample(users, 2)
            method = rng.choice(["POST", "DELETE"])
            response = call(
                live_server, method, f"/api/me/following/{target.id}", headers=actor.headers
            )
            with lock:
                outcomes[method, response.status_code] += 1

    _at_once(storm, list(range(threads)))

    assert set(outcomes) <= {("POST", 204), ("POST", 409), ("DELETE", 204), ("DELETE", 409)}, (
        outcomes
    )
    assert sum(outcomes.values()) == threads * requests_each
    # The storm did both kinds of work: changes and refusals.
    assert outcomes["POST", 204] and outcomes["DELETE", 204], outcomes
    assert outcomes["POST", 409] or outcomes["DELETE", 409], outcomes
    # Every 204 moved exactly one row: the follows that stand are the follows minus unfollows.
    standing = outcomes["POST", 204] - outcomes["DELETE", 204]

    ids = [user.id for user in users]
    engine = sa.create_engine(live_server.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT follower_id, followed_id FROM follows "
                    "WHERE follower_id IN :ids OR followed_id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": ids},
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == standing

    viewer = users[0]
    for user in users:
        shown = call(live_server, "GET", f"/api/users/{user.id}", headers=viewer.headers).json()
        followers = _page_meta(live_server, viewer, f"/api/users/{user.id}/followers")
        following = _page_meta(live_server, viewer, f"/api/users/{user.id}/following")
        in_sql = {
            "followers": sum(1 for _, followed in rows if followed == user.id),
            "following": sum(1 for follower, _ in rows if follower == user.id),
        }
        assert (shown["follower_count"], shown["following_count"]) == (
            followers["total_items"],
            following["total_items"],
        ), shown
        assert (shown["follower_count"], shown["following_count"]) == (
            in_sql["followers"],
            in_sql["following"],
        ), shown


def test_two_users_back_after_a_while_following_each_other_at_once_both_succeed(
    live_server: LiveServer, register: Callable[..., ApiUser]
) -> None:
    """The first request after a minute away records last_seen; two such requests, each
    following the other user, must both go through (on PostgreSQL they lock the same two rows)."""
    first, second = register(live_server, "back"), register(live_server, "back")

    def follow(pair: tuple[ApiUser, ApiUser]) -> requests.Response:
        actor, target = pair
        return call(live_server, "POST", f"/api/me/following/{target.id}", headers=actor.headers)

    engine = sa.create_engine(live_server.database_url)
    try:
        for trial in range(5):
            # Both were last seen two hours ago, as if they had just come back.
            with engine.begin() as conn:
                conn.execute(
                    sa.update(User)
                    .where(User.id.in_([first.id, second.id]))
                    .values(last_seen=datetime.now(UTC) - timedelta(hours=2))
                )
            answers = _at_once(follow, [(first, second), (second, first)])
            assert [answer.status_code for answer in answers] == [204, 204], (
                f"trial {trial}: {[answer.text for answer in answers]}"
            )
            for actor, target in ((first, second), (second, first)):
                gone = call(
                    live_server, "DELETE", f"/api/me/following/{target.id}", headers=actor.headers
                )
                assert gone.status_code == 204, gone.text
    finally:
        engine.dispose()


def test_an_unknown_page_is_html_for_browsers_and_json_for_curl(live_server: LiveServer) -> None:
    browser = call(
        live_server,
        "GET",
        "/no/such/page",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert browser.status_code == 404
    assert browser.headers["Content-Type"].startswith("text/html")
    assert "<h1>404 Not Found</h1>" in browser.text

    curl = call(live_server, "GET", "/no/such/page", headers={"Accept": "*/*"})
    assert curl.status_code == 404
    assert curl.headers["Content-Type"] == "application/json"
    assert curl.json()["error"] == "Not Found"

    # Under /api a browser gets JSON too.
    api = call(live_server, "GET", "/api/no/such/thing", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["Content-Type"] == "application/json"
    assert api.json()["error"] == "Not Found"
