"""A post: a short text by one author."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microblog.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.accounts.models import User


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # A user's timeline, newest first, is an index range scan.
        Index("ix_posts_user_id_id", "user_id", "id"),
        # The feed and explore, newest first: their ids are read from this index alone (the
        # author of each post it passes over is in it), and only the page's rows from the table.
        Index("ix_posts_id_user_id", "id", "user_id"),
        # Ids only grow, never reused after a delete: clients page and poll by id.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(280))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # An ISO 639-1 code, or NULL when detection was unsure.
    language: Mapped[str | None] = mapped_column(String(8))

    author: Mapped[User] = relationship(back_populates="posts")
