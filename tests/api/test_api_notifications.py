"""Notifications: GET /api/notifications?since=<id or ISO time>, polled after the last one seen.

New messages tell the recipient the unread count (`unread_message_count`, replaced by each new
count), new followers are announced (`new_follower`), and ids only grow so a poller never
misses one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.api_helpers import (
    ApiUser,
    assert_close_to_now,
    assert_json_error,
    basic_auth,
    parse_timestamp,
)
from tests.api.timeline_helpers import query_of

Notes = list[dict[str, Any]]


def poll(client: FlaskClient, user: ApiUser, since: str | int | None = None) -> Notes:
    query = {} if since is None else {"since": str(since)}
    response = client.get("/api/notifications", query_string=query, headers=user.headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def named(notes: Notes) -> list[tuple[str, dict[str, Any]]]:
    return [(note["name"], note["payload"]) for note in notes]


def send(client: FlaskClient, sender: ApiUser, recipient: ApiUser) -> None:
    response = client.post(
        "/api/messages", json={"recipient_id": recipient.id, "body": "hi"}, headers=sender.headers
    )
    assert response.status_code == 201, response.json


def follow(client: FlaskClient, actor: ApiUser, target: ApiUser) -> None:
    response = client.post(f"/api/me/following/{target.id}", headers=actor.headers)
    assert response.status_code == 204, response.json


def read_inbox(client: FlaskClient, user: ApiUser) -> None:
    assert client.get("/api/messages", headers=user.headers).status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({}, id="none"),
        pytest.param({"Authorization": "Bearer not-a-real-token"}, id="garbage-bearer"),
        pytest.param(basic_auth("susan", "correct-horse"), id="basic-instead-of-bearer"),
    ],
)
def test_notifications_need_a_bearer_token(
    client: FlaskClient, susan: ApiUser, credentials: dict[str, str]
) -> None:
    response = client.get("/api/notifications", headers=credentials)

    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_nothing_happened_means_no_notifications(client: FlaskClient, susan: ApiUser) -> None:
    response = client.get("/api/notifications", headers=susan.headers)

    assert response.status_code == 200
    assert response.json["items"] == []
    assert response.json["_meta"]["total_items"] == 0


def test_a_new_message_notifies_the_unread_count(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    send(client, bob, susan)

    notes = poll(client, susan)

    assert named(notes) == [("unread_message_count", {"count": 1})]
    note = notes[0]
    assert set(note) == {"id", "name", "payload", "timestamp"}
    assert isinstance(note["id"], int)
    assert_close_to_now(parse_timestamp(note["timestamp"]))
    # The sender hears nothing of it.
    assert poll(client, bob) == []


def test_being_followed_notifies_who_followed(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    follow(client, bob, susan)
    follow(client, carol, susan)

    assert named(poll(client, susan)) == [
        ("new_follower", {"user_id": bob.id, "username": "bob"}),
        ("new_follower", {"user_id": carol.id, "username": "carol"}),
    ]
    assert poll(client, bob) == []


def test_notifications_come_oldest_first_with_growing_ids(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    follow(client, bob, susan)
    send(client, carol, susan)
    follow(client, carol, susan)

    notes = poll(client, susan)

    assert named(notes) == [
        ("new_follower", {"user_id": bob.id, "username": "bob"}),
        ("unread_message_count", {"count": 1}),
        ("new_follower", {"user_id": carol.id, "username": "carol"}),
    ]
    ids = [note["id"] for note in notes]
    assert ids == sorted(ids)
    stamps = [parse_timestamp(note["timestamp"]) for note in notes]
    assert stamps == sorted(stamps)


def test_the_unread_count_is_replaced_not_repeated(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    send(client, bob, susan)
    first = poll(client, susan)[-1]
    send(client, carol, susan)
    send(client, bob, susan)

    notes = poll(client, susan)

    assert named(notes) == [("unread_message_count", {"count": 3})]
    assert notes[0]["id"] > first["id"]


def test_a_poller_after_the_last_id_gets_each_newest_count(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    """The replaced notification is always the newest row: its id must not come back (SQLite
    reuses the largest deleted rowid unless the table is AUTOINCREMENT)."""
    send(client, bob, susan)
    seen = poll(client, susan)
    assert named(seen) == [("unread_message_count", {"count": 1})]
    last = seen[-1]["id"]
    ids = [last]

    for action, count in [("read", 0), ("send", 1), ("send", 2), ("read", 0)]:
        if action == "send":
            send(client, bob, susan)
        else:
            read_inbox(client, susan)
        news = poll(client, susan, since=last)
        assert named(news) == [("unread_message_count", {"count": count})], (action, ids)
        last = news[-1]["id"]
        ids.append(last)

    assert ids == sorted(set(ids)), ids


def test_reading_an_already_read_inbox_notifies_nothing(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    send(client, bob, susan)
    read_inbox(client, susan)
    last = poll(client, susan)[-1]["id"]

    read_inbox(client, susan)

    assert poll(client, susan, since=last) == []


def test_since_an_id_returns_only_later_notifications(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    follow(client, bob, susan)
    follow(client, carol, susan)
    first, second = poll(client, susan)

    assert poll(client, susan, since=first["id"]) == [second]
    assert poll(client, susan, since=second["id"]) == []
    assert poll(client, susan, since=0) == [first, second]
    assert poll(client, susan, since=2**31) == []
    assert poll(client, susan, since="9" * 40) == []


def test_next_link_continues_polling_after_the_last_one(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    follow(client, bob, susan)
    response = client.get("/api/notifications", headers=susan.headers)
    shown = response.json["items"]
    next_url = response.json["_links"]["next"]
    assert query_of(next_url)["since"] == str(shown[-1]["id"])

    nothing_new = client.get(next_url, headers=susan.headers)
    assert nothing_new.json["items"] == []
    # With nothing new, the next poll starts from the same point.
    assert query_of(nothing_new.json["_links"]["next"])["since"] == str(shown[-1]["id"])

    follow(client, carol, susan)
    news = client.get(nothing_new.json["_links"]["next"], headers=susan.headers).json["items"]
    assert named(news) == [("new_follower", {"user_id": carol.id, "username": "carol"})]


def test_next_link_pages_through_a_backlog(
    client: FlaskClient, make_user: Callable[..., ApiUser], susan: ApiUser
) -> None:
    fans = [make_user(f"fan{n}") for n in range(5)]
    for fan in fans:
        follow(client, fan, susan)
    seen: list[int] = []
    url: str = "/api/notifications?per_page=2"

    for _ in range(4):
        body = client.get(url, headers=susan.headers).json
        seen += [note["payload"]["user_id"] for note in body["items"]]
        url = body["_links"]["next"]

    assert seen == [fan.id for fan in fans]
    assert query_of(url)["per_page"] == "2"


# ---------------------------------------------------------------------------------------------
# since as a time.


def notes_at_distinct_times(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> Notes:
    follow(client, bob, susan)
    follow(client, carol, susan)
    notes = poll(client, susan)
    assert len(notes) == 2
    first, second = (parse_timestamp(note["timestamp"]) for note in notes)
    assert first < second
    return notes


@pytest.mark.parametrize(
    "spell",
    [
        pytest.param(lambda moment: moment.isoformat(), id="utc-offset"),
        pytest.param(lambda moment: moment.isoformat().replace("+00:00", "Z"), id="zulu"),
        pytest.param(lambda moment: moment.replace(tzinfo=None).isoformat(), id="naive-is-utc"),
        pytest.param(
            lambda moment: moment.astimezone(timezone(timedelta(hours=2))).isoformat(),
            id="other-offset",
        ),
        pytest.param(
            lambda moment: moment.astimezone(
                timezone(timedelta(hours=-5, minutes=-30))
            ).isoformat(),
            id="negative-offset",
        ),
    ],
)
def test_since_a_time_returns_notifications_after_it(
    client: FlaskClient,
    susan: ApiUser,
    bob: ApiUser,
    carol: ApiUser,
    spell: Callable[[datetime], str],
) -> None:
    first, second = notes_at_distinct_times(client, susan, bob, carol)
    moment = parse_timestamp(first["timestamp"]).astimezone(UTC)

    assert poll(client, susan, since=spell(moment)) == [second]
    assert poll(client, susan, since=spell(moment - timedelta(seconds=1))) == [first, second]
    assert poll(client, susan, since=spell(datetime.now(UTC) + timedelta(minutes=1))) == []


def test_next_link_after_a_time_continues_by_id(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    first, second = notes_at_distinct_times(client, susan, bob, carol)
    start = (parse_timestamp(first["timestamp"]) - timedelta(seconds=1)).isoformat()

    response = client.get(
        "/api/notifications", query_string={"since": start}, headers=susan.headers
    )

    assert response.json["items"] == [first, second]
    assert query_of(response.json["_links"]["next"])["since"] == str(second["id"])


@pytest.mark.parametrize(
    "since",
    [
        "abc",
        "-1",
        "1.5",
        "",
        " 1",
        "1e3",
        "\u0663",
        "2024-13-01",
        "2024-01-01T25:00:00",
        "yesterday",
    ],
)
def test_bad_since_is_400_naming_since(client: FlaskClient, susan: ApiUser, since: str) -> None:
    response = client.get(
        "/api/notifications", query_string={"since": since}, headers=susan.headers
    )

    assert_json_error(response, 400, "since")


@pytest.mark.parametrize("per_page", ["0", "-1", "abc", "1.5"])
def test_bad_per_page_is_400_naming_it(client: FlaskClient, susan: ApiUser, per_page: str) -> None:
    response = client.get(
        "/api/notifications", query_string={"per_page": per_page}, headers=susan.headers
    )

    assert_json_error(response, 400, "per_page")


def test_other_users_notifications_never_appear(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    follow(client, susan, bob)
    send(client, susan, bob)
    send(client, carol, bob)
    follow(client, bob, carol)

    bobs = poll(client, bob)
    carols = poll(client, carol)

    assert named(bobs) == [
        ("new_follower", {"user_id": susan.id, "username": "susan"}),
        ("unread_message_count", {"count": 2}),
    ]
    assert named(carols) == [("new_follower", {"user_id": bob.id, "username": "bob"})]
    assert poll(client, susan) == []
    assert poll(client, susan, since=0) == []
    # Reading one's inbox replaces only one's own count.
    read_inbox(client, carol)
    assert named(poll(client, bob, since=bobs[-1]["id"])) == []
