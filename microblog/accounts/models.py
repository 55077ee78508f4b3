"""The user account and the tokens it holds."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from microblog.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.posts.models import Post


class User(Base):
    __tablename__ = "users"
    # An id is never given to another account after a deletion: notices, cached ids, session
    # and remember-me cookies naming the old one must not point at a new person.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    # Stored lower-cased by the service, so the unique constraint is case-insensitive too.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    about_me: Mapped[str] = mapped_column(String(140), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counters moved in the same transaction as the rows they count, so showing a user
    # never costs a COUNT query.
    post_count: Mapped[int] = mapped_column(default=0, server_default="0")
    follower_count: Mapped[int] = mapped_column(default=0, server_default="0")
    following_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Messages with a greater id are unread; reading the inbox moves it to the newest.
    last_read_message_id: Mapped[int] = mapped_column(default=0, server_default="0")

    posts: WriteOnlyMapped[Post] = relationship(back_populates="author", passive_deletes=True)
    tokens: WriteOnlyMapped[Token] = relationship(back_populates="user", passive_deletes=True)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"


# Usernames are unique whatever their case: "Susan" and "susan" are one person.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


# What a token is for: the API's bearer tokens and the web site's signed-in sessions share one
# table, so a person sees, and ends, every way into their account in one list (OAuth access
# tokens for Mastodon apps will be a third kind).
API = "api"
WEB = "web"
LABEL_MAX = 200


class Token(Base):
    """A secret that signs a person in: an API bearer token, or a web session's key.

    Only its SHA-256 is stored, so a database leak leaks no live token. Ending it (setting
    `revoked_at`) ends it everywhere a copy of it is kept, cookies included.
    """

    __tablename__ = "tokens"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=API, server_default=API)
    # How the person recognises it in the list: the browser or client that obtained it.
    label: Mapped[str] = mapped_column(String(LABEL_MAX), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moved at most once per LAST_SEEN_RESOLUTION, as a user's last_seen is.
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")
