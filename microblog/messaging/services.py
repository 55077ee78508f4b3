"""Private messages: sending, the inbox (reading it marks it read) and the sent box."""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from microblog.accounts.models import User
from microblog.accounts.services import lock_counterpart
from microblog.db import MAX_ID, Db, UTCDateTime, utcnow
from microblog.errors import N_, Invalid, NotFound
from microblog.messaging.models import MESSAGE_MAX, Message, Notification
from microblog.messaging.notifications import notify
from microblog.text import storable


def clean_body(body: str) -> str:
    body = storable("body", body).strip()
    if not body:
        raise Invalid("body", N_("body must not be empty"))
    if len(body) > MESSAGE_MAX:
        raise Invalid("body", N_("body must be at most %(max)s characters"), max=MESSAGE_MAX)
    return body


def send_message(session: Db, sender: User, recipient_id: int, body: str) -> Message:
    """Send; the recipient hears of it through an `unread_message_count` notification."""
    body = clean_body(body)
    if recipient_id == sender.id:
        raise Invalid("recipient_id", N_("you cannot send a message to yourself"))
    recipient = lock_counterpart(session, sender, recipient_id)
    if recipient is None:
        raise Invalid(
            "recipient_id",
            N_("recipient_id %(recipient_id)s is not a user"),
            recipient_id=recipient_id,
        )
    message = Message(sender=sender, recipient=recipient, body=body)
    session.add(message)
    session.flush()
    notify(
        session, recipient.id, "unread_message_count", {"count": unread_count(session, recipient)}
    )
    return message


def unread_count(session: Db, user: User) -> int:
    return (
        session.scalar(
            select(func.count(Message.id)).where(
                Message.recipient_id == user.id, Message.id > user.last_read_message_id
            )
        )
        or 0
    )


def mark_read(session: Db, user: User) -> int | None:
    """Everything received so far is read (messages arriving later stay unread).

    One statement moves the mark, only if something new arrived, and also answers how many
    messages the inbox holds; None when nothing was new.
    """
    received = Message.recipient_id == user.id
    newest = select(func.max(Message.id)).where(received).scalar_subquery()
    row = session.execute(
        update(User)
        .where(User.id == user.id, User.last_read_message_id < newest)
        .values(last_read_message_id=newest)
        .returning(
            User.last_read_message_id,
            select(func.count(Message.id)).where(received).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        return None
    read_up_to, size = row
    set_committed_value(user, "last_read_message_id", read_up_to)
    notify(session, user.id, "unread_message_count", {"count": 0})
    return int(size)


def recount_unread_without(session: Db, sender_id: int) -> None:
    """Before the messages of `sender_id` go (their account is being deleted): each person
    holding unread ones from them is told their unread count without those, as sending and
    reading do (the state notification `unread_message_count`, replaced). Two statements,
    whatever the number of people."""
    reader = aliased(User)
    holding_unread = (
        select(Message.recipient_id)
        .join(reader, reader.id == Message.recipient_id)
        .where(Message.sender_id == sender_id, Message.id > reader.last_read_message_id)
    )
    session.execute(
        delete(Notification)
        .where(
            Notification.name == "unread_message_count",
            Notification.user_id.in_(holding_unread),
        )
        .execution_options(synchronize_session=False)
    )
    still_unread = (
        select(func.count(Message.id))
        .where(
            Message.recipient_id == User.id,
            Message.id > User.last_read_message_id,
            Message.sender_id != sender_id,
        )
        .scalar_subquery()
    )
    notices = select(
        User.id,
        literal("unread_message_count"),
        _json_object(session, "count", still_unread),
        literal(utcnow(), UTCDateTime()),
    ).where(User.id.in_(holding_unread))
    session.execute(
        insert(Notification).from_select(["user_id", "name", "payload", "timestamp"], notices)
    )


def _json_object(session: Db, key: str, value: ColumnElement[int]) -> ColumnElement[object]:
    """`{key: value}` built by the database, in each one's own words (the key typed: PostgreSQL
    cannot tell the type of a parameter passed to a function taking "any")."""
    name = cast(key, String())
    if session.connection().dialect.name == "postgresql":
        return func.json_build_object(name, value)
    return func.json_object(name, value)


def get_message(session: Db, reader: User, message_id: int) -> Message:
    """A message, for its sender or its recipient only; to anyone else it does not exist."""
    message = (
        session.scalar(_with_parties(select(Message)).where(Message.id == message_id))
        if 0 < message_id <= MAX_ID
        else None
    )
    if message is None or reader.id not in (message.sender_id, message.recipient_id):
        raise NotFound(N_("message %(message_id)s does not exist"), message_id=message_id)
    return message


def received_by(user_id: int) -> Select[Message]:
    return _with_parties(select(Message).where(Message.recipient_id == user_id)).order_by(
        Message.id.desc()
    )


def sent_by(user_id: int) -> Select[Message]:
    return _with_parties(select(Message).where(Message.sender_id == user_id)).order_by(
        Message.id.desc()
    )


def _with_parties(query: Select[Message]) -> Select[Message]:
    return query.options(joinedload(Message.sender), joinedload(Message.recipient))
