"""A private message and a notification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microblog.accounts.models import User
from microblog.db import Base, UTCDateTime, utcnow

MESSAGE_MAX = 1000


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_recipient_id_id", "recipient_id", "id"),
        Index("ix_messages_sender_id_id", "sender_id", "id"),
        # Ids only grow, never reused after a delete: clients page and poll by id.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(String(MESSAGE_MAX))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sender: Mapped[User] = relationship(foreign_keys=[sender_id])
    recipient: Mapped[User] = relationship(foreign_keys=[recipient_id])


class Notification(Base):
    """Something a user should hear about; clients poll for those after the last id they saw.

    `subject_id` is the other person a notification names (a new follower): it goes when their
    account does, by the foreign key's cascade, whoever it was delivered to.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_subject_id", "subject_id"),
        # Replacing a notification deletes the newest row: its id must not come back.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
