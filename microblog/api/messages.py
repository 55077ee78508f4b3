"""Private messages between two users."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import func, select

from microblog.api.auth import current_user
from microblog.api.pagination import paginate_timeline
from microblog.api.representations import message_json, message_url
from microblog.api.schemas import Collection, MessageBody, MessageOut, TimelineQuery
from microblog.api.spec import RESPONSE_ID, Link, Reply, operation
from microblog.boundary import writes_on_read
from microblog.extensions import db
from microblog.messaging import services
from microblog.messaging.models import Message

bp = Blueprint("messages", __name__)


def _mailbox(
    query: Any, wanted: TimelineQuery, owner_column: Any, size: int | None = None
) -> Reply:
    me = current_user()
    total = select(func.count(Message.id)).where(owner_column == me.id)
    return paginate_timeline(
        query,
        wanted,
        message_json,
        Message.id,
        lambda: size if size is not None else db.session.scalar(total) or 0,
        item_id=lambda message: message.id,
    )


@bp.post("/messages")
@operation(
    tag="messages",
    body=MessageBody,
    response=MessageOut,
    status=201,
    errors=(400, 422),
    headers=("Location",),
    idempotent=True,
    links=(
        Link("GetMessage", "api.messages.get_message", {"message_id": RESPONSE_ID}),
        Link("GetRecipient", "api.users.get_one_user", {"user_id": "$response.body#/recipient/id"}),
    ),
)
def send_message(body: MessageBody) -> Reply:
    """Send a private message.

    Only you and the recipient can ever read it. Send an `Idempotency-Key` header to make
    retries safe.
    """
    message = services.send_message(db.session, current_user(), body.recipient_id, body.body)
    return Reply(
        message_json(message),
        headers={"Location": message_url(message.id)},
        subject_id=message.recipient_id,
    )


@bp.get("/messages")
@writes_on_read
@operation(tag="messages", query=TimelineQuery, response=Collection[MessageOut], errors=(400,))
def inbox(query: TimelineQuery) -> Reply:
    """The messages you received, newest first; reading them marks them all read."""
    me = current_user()
    # Marking read first also tells the inbox's size when anything was new: no COUNT then.
    size = services.mark_read(db.session, me)
    return _mailbox(services.received_by(me.id), query, Message.recipient_id, size)


@bp.get("/messages/sent")
@operation(tag="messages", query=TimelineQuery, response=Collection[MessageOut], errors=(400,))
def sent(query: TimelineQuery) -> Reply:
    """The messages you sent, newest first."""
    return _mailbox(services.sent_by(current_user().id), query, Message.sender_id)


@bp.get("/messages/<int:message_id>")
@operation(tag="messages", response=MessageOut, errors=(404,))
def get_message(message_id: int) -> dict[str, Any]:
    """One message you sent or received."""
    return message_json(services.get_message(db.session, current_user(), message_id))
