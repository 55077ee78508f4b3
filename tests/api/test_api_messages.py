"""Private messages: POST /api/messages, GET /api/messages (the inbox, which reading marks
read), GET /api/messages/sent and GET /api/messages/<id>; the unread count in /api/me."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.api_helpers import (
    BAD_CREDENTIALS,
    ApiUser,
    assert_close_to_now,
    assert_json_error,
    parse_timestamp,
)
from tests.api.timeline_helpers import ids_of, run_together

MESSAGE_FIELDS = {"id", "body", "timestamp", "sender", "recipient", "_links"}


def send(client: FlaskClient, sender: ApiUser, recipient: ApiUser, body: str = "hi") -> Any:
    response = client.post(
        "/api/messages", json={"recipient_id": recipient.id, "body": body}, headers=sender.headers
    )
    assert response.status_code == 201, response.json
    return response.json


def unread(client: FlaskClient, user: ApiUser) -> int:
    response = client.get("/api/me", headers=user.headers)
    assert response.status_code == 200, response.json
    return response.json["unread_message_count"]


# ---------------------------------------------------------------------------------------------
# Every messages route needs a bearer token.

PROTECTED = [
    ("GET", "/api/messages"),
    ("POST", "/api/messages"),
    ("GET", "/api/messages/sent"),
    ("GET", "/api/messages/1"),
]


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS)
@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_messages_routes_are_401_without_a_valid_bearer_token(
    client: FlaskClient,
    susan: ApiUser,
    bob: ApiUser,
    method: str,
    path: str,
    credentials: dict[str, str],
) -> None:
    send(client, bob, susan)

    response = client.open(
        path, method=method, headers=credentials, json={"recipient_id": susan.id, "body": "x"}
    )

    assert_json_error(response, 401)
    assert unread(client, susan) == 1


# ---------------------------------------------------------------------------------------------
# Sending, and what a message looks like.


def test_sending_is_201_with_location_and_representation(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    response = client.post(
        "/api/messages", json={"recipient_id": bob.id, "body": "hello bob"}, headers=susan.headers
    )

    assert response.status_code == 201
    message = response.json
    assert set(message) == MESSAGE_FIELDS
    assert message["body"] == "hello bob"
    assert_close_to_now(parse_timestamp(message["timestamp"]))
    for role, user in (("sender", susan), ("recipient", bob)):
        assert set(message[role]) == {"id", "username", "_links"}
        assert (message[role]["id"], message[role]["username"]) == (user.id, user.username)
        assert message[role]["_links"]["self"] == f"/api/users/{user.id}"
        assert set(message[role]["_links"]) == {"self", "avatar"}
    assert message["_links"] == {
        "self": f"/api/messages/{message['id']}",
        "sender": f"/api/users/{susan.id}",
        "recipient": f"/api/users/{bob.id}",
    }
    assert response.headers["Location"] == message["_links"]["self"]


@pytest.mark.parametrize("reader", ["sender", "recipient"])
def test_sender_and_recipient_read_the_message_at_its_location(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, reader: str
) -> None:
    message = send(client, susan, bob, "for your eyes only")

    response = client.get(
        message["_links"]["self"], headers=(susan if reader == "sender" else bob).headers
    )

    assert response.status_code == 200
    assert response.json == message


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        pytest.param("x", "x", id="1-character"),
        pytest.param("x" * 1000, "x" * 1000, id="1000-characters"),
        pytest.param(" \n" + "x" * 1000 + "\t ", "x" * 1000, id="1000-with-surrounding-space"),
        pytest.param("\U0001f642" * 1000, "\U0001f642" * 1000, id="1000-emoji"),
    ],
)
def test_body_is_stored_trimmed_up_to_1000_characters(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, sent: str, stored: str
) -> None:
    message = send(client, susan, bob, sent)

    assert message["body"] == stored
    assert client.get(message["_links"]["self"], headers=bob.headers).json["body"] == stored


BAD_SENDS = [
    pytest.param({"recipient_id": 999, "body": "hi"}, ("recipient_id",), id="unknown-recipient"),
    pytest.param({"recipient_id": 0, "body": "hi"}, ("recipient_id",), id="recipient-zero"),
    pytest.param({"recipient_id": -2, "body": "hi"}, ("recipient_id",), id="recipient-negative"),
    pytest.param({"recipient_id": 2**31, "body": "hi"}, ("recipient_id",), id="past-32-bits"),
    pytest.param({"recipient_id": 10**30, "body": "hi"}, ("recipient_id",), id="huge-recipient"),
    pytest.param({"recipient_id": "2", "body": "hi"}, ("recipient_id",), id="recipient-string"),
    pytest.param({"recipient_id": 2.0, "body": "hi"}, ("recipient_id",), id="recipient-float"),
    pytest.param({"recipient_id": True, "body": "hi"}, ("recipient_id",), id="recipient-true"),
    pytest.param({"recipient_id": None, "body": "hi"}, ("recipient_id",), id="recipient-null"),
    pytest.param({"body": "hi"}, ("recipient_id", "required"), id="recipient-missing"),
    pytest.param({"recipient_id": "me", "body": "hi"}, ("recipient_id",), id="recipient-word"),
    pytest.param({"recipient_id": 2, "body": ""}, ("body",), id="empty-body"),
    pytest.param({"recipient_id": 2, "body": " \n\t "}, ("body",), id="whitespace-body"),
    pytest.param({"recipient_id": 2, "body": "x" * 1001}, ("body", "1000"), id="1001-characters"),
    pytest.param({"recipient_id": 2}, ("body", "required"), id="body-missing"),
    pytest.param({"recipient_id": 2, "body": 5}, ("body",), id="body-number"),
    pytest.param({"recipient_id": 2, "body": None}, ("body",), id="body-null"),
    pytest.param({"recipient_id": 2, "body": "a\x00b"}, ("body", "NUL"), id="body-nul"),
]


@pytest.mark.parametrize(("payload", "words"), BAD_SENDS)
def test_bad_messages_are_400_naming_the_field_and_send_nothing(
    client: FlaskClient,
    susan: ApiUser,
    bob: ApiUser,
    payload: dict[str, Any],
    words: tuple[str, ...],
) -> None:
    assert bob.id == 2

    # Sent as text: the test client's encoder cannot write integers past 64 bits.
    response = client.post(
        "/api/messages",
        data=json.dumps(payload),
        content_type="application/json",
        headers=susan.headers,
    )

    assert_json_error(response, 400, *words)
    assert client.get("/api/messages/sent", headers=susan.headers).json["items"] == []
    assert unread(client, bob) == 0


def test_a_message_to_yourself_is_400(client: FlaskClient, susan: ApiUser) -> None:
    response = client.post(
        "/api/messages",
        json={"recipient_id": susan.id, "body": "note to self"},
        headers=susan.headers,
    )

    assert_json_error(response, 400, "yourself")
    assert client.get("/api/messages/sent", headers=susan.headers).json["items"] == []
    assert unread(client, susan) == 0


# ---------------------------------------------------------------------------------------------
# The inbox and the sent box.


def test_inbox_lists_received_messages_newest_first(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    received = [
        send(client, sender, susan, f"to susan {n}") for n, sender in enumerate([bob, carol] * 2)
    ]
    send(client, susan, bob, "from susan")
    send(client, bob, carol, "not susan's")

    response = client.get("/api/messages", headers=susan.headers)

    assert response.status_code == 200
    assert response.json["items"] == list(reversed(received))
    assert response.json["_meta"]["total_items"] == 4


def test_sent_box_lists_sent_messages_newest_first(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    sent = [
        send(client, susan, recipient, f"from susan {n}")
        for n, recipient in enumerate([bob, carol] * 2)
    ]
    send(client, bob, susan, "to susan")
    send(client, bob, carol, "not susan's")

    response = client.get("/api/messages/sent", headers=susan.headers)

    assert response.status_code == 200
    assert response.json["items"] == list(reversed(sent))
    assert response.json["_meta"]["total_items"] == 4


def test_a_third_user_never_sees_other_peoples_messages(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    messages = [send(client, susan, bob, "psst"), send(client, bob, susan, "psst back")]

    for message in messages:
        assert_json_error(client.get(message["_links"]["self"], headers=carol.headers), 404)
    for url in ("/api/messages", "/api/messages/sent"):
        listed = client.get(url, headers=carol.headers)
        assert listed.json["items"] == [], url
        assert listed.json["_meta"]["total_items"] == 0, url
    assert unread(client, carol) == 0
    notes = client.get("/api/notifications", headers=carol.headers).json["items"]
    assert [note["name"] for note in notes] == []


def test_a_message_cannot_be_told_apart_from_a_missing_one(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    message = send(client, susan, bob)

    forbidden = client.get(message["_links"]["self"], headers=carol.headers)
    missing = client.get(f"/api/messages/{message['id'] + 1}", headers=carol.headers)

    assert_json_error(forbidden, 404)
    assert_json_error(missing, 404)
    assert forbidden.json["message"].replace(str(message["id"]), "N") == missing.json[
        "message"
    ].replace(str(message["id"] + 1), "N")


@pytest.mark.parametrize("message_id", ["999", str(2**31), "9" * 30])
def test_unknown_message_is_404(client: FlaskClient, susan: ApiUser, message_id: str) -> None:
    response = client.get(f"/api/messages/{message_id}", headers=susan.headers)

    assert_json_error(response, 404)


# ---------------------------------------------------------------------------------------------
# Unread messages: reading the inbox marks them read.


def test_reading_the_inbox_marks_every_message_read(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    assert unread(client, susan) == 0
    for sender in (bob, carol, bob):
        send(client, sender, susan)
    assert unread(client, susan) == 3

    # Even a page showing only one of them marks all of them read.
    assert client.get("/api/messages?per_page=1", headers=susan.headers).status_code == 200

    assert unread(client, susan) == 0


def test_a_message_arriving_after_the_read_is_unread(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    send(client, bob, susan, "first")
    client.get("/api/messages", headers=susan.headers)
    assert unread(client, susan) == 0

    send(client, bob, susan, "second")
    send(client, bob, susan, "third")

    assert unread(client, susan) == 2
    client.get("/api/messages", headers=susan.headers)
    assert unread(client, susan) == 0


def test_unread_counts_belong_to_the_recipient_alone(
    client: FlaskClient, susan: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    send(client, bob, susan)
    send(client, bob, carol)
    send(client, bob, carol)

    # Reading one's sent box, or another user's inbox, does not mark one's inbox read.
    client.get("/api/messages", headers=carol.headers)
    client.get("/api/messages/sent", headers=susan.headers)

    assert (unread(client, susan), unread(client, bob), unread(client, carol)) == (1, 0, 0)


def test_reading_the_inbox_keeps_the_messages(
    client: FlaskClient, susan: ApiUser, bob: ApiUser
) -> None:
    sent = [send(client, bob, susan, f"m{n}") for n in range(3)]

    first = client.get("/api/messages", headers=susan.headers)
    again = client.get("/api/messages", headers=susan.headers)

    assert ids_of(first) == ids_of(again) == [message["id"] for message in reversed(sent)]


def test_reading_the_inbox_while_messages_arrive_always_succeeds(
    app: Flask, susan: ApiUser, bob: ApiUser
) -> None:
    """Reading the inbox writes (it marks it read). On SQLite a request that began as a reader
    cannot become a writer once another writer has committed: it must say so up front."""
    arrivals = 40

    def work(n: int) -> list[int]:
        client = app.test_client()
        statuses: list[int] = []
        if n == 0:
            for k in range(arrivals):
                statuses.append(
                    client.post(
                        "/api/messages",
                        json={"recipient_id": susan.id, "body": f"m{k}"},
                        headers=bob.headers,
                    ).status_code
                )
        else:
            for _ in range(arrivals):
                statuses.append(
                    client.get("/api/messages?per_page=1", headers=susan.headers).status_code
                )
        return statuses

    sends, reads = run_together(2, work)

    assert sends == [201] * arrivals
    assert reads == [200] * arrivals, f"{reads.count(200)} of {arrivals} inbox reads succeeded"
    client = app.test_client()
    inbox = client.get("/api/messages", headers=susan.headers).json
    assert inbox["_meta"]["total_items"] == arrivals
    assert client.get("/api/me", headers=susan.headers).json["unread_message_count"] == 0
