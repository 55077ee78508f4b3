"""Notifications, polled cheaply: "what happened after the last one I saw?"."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, url_for
from sqlalchemy import func, select

from microblog.api.auth import current_user
from microblog.api.pagination import collection, per_page
from microblog.api.representations import notification_json
from microblog.api.schemas import Collection, NotificationOut, NotificationsQuery
from microblog.api.spec import Reply, operation
from microblog.db import MAX_ID
from microblog.extensions import db
from microblog.messaging.notifications import notifications_for

bp = Blueprint("notifications", __name__)


def _since(value: str | None) -> tuple[int | None, datetime | None]:
    """`since` as an id or a time (NotificationsQuery has checked it is one of them)."""
    if value is None:
        return None, None
    if value.isascii() and value.isdigit():
        return min(int(value[:12]), MAX_ID), None
    moment = datetime.fromisoformat(value)
    return None, moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.get("/notifications")
@operation(
    tag="notifications",
    query=NotificationsQuery,
    response=Collection[NotificationOut],
    errors=(400,),
)
def list_notifications(query: NotificationsQuery) -> Reply:
    """Your notifications after `since`, oldest first.

    Names: `unread_message_count` (payload `count`), `new_follower` (`user_id`, `username`),
    `task_progress` (`task_id`, `progress`, `complete`). Poll with `since` set to the id of
    the last notification you saw (`_links.next` does that for you).
    """
    since_id, since_time = _since(query.since)
    size = per_page(query)
    wanted = notifications_for(current_user().id, since_id=since_id, since_time=since_time)
    total = db.session.scalar(select(func.count()).select_from(wanted.order_by(None).subquery()))
    rows = db.session.scalars(wanted.limit(size)).all()
    last = rows[-1].id if rows else since_id
    links = {
        "self": url_for("api.notifications.list_notifications", since=query.since, per_page=size),
        # Where to poll next: after the newest one shown (or the same point if none).
        "next": url_for(
            "api.notifications.list_notifications",
            since=last if last is not None else query.since,
            per_page=size,
        ),
        "prev": None,
    }
    items = [notification_json(row) for row in rows]
    return collection(items, None, size, total or 0, links)
