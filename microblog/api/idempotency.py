"""Idempotency keys: a retried POST with the same `Idempotency-Key` gets the first answer.

The key is claimed by inserting a row in the same transaction as the work it guards. On
PostgreSQL a concurrent retry blocks on the unique key until the first request commits, then
replays its answer; on SQLite writers are serialized anyway. A failed request (4xx/5xx) rolls
back with its claim, so the client may retry it with the same key.

A stored answer that shows another person (a message shows its recipient) names them in
`subject_id`, and goes with their account, by the foreign key's cascade: after an erasure no
replay tells their name. A retry then runs again and is answered as the erasure left things.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Response, request
from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import BadRequest, UnprocessableEntity

from microblog.db import Base, UTCDateTime, utcnow
from microblog.extensions import db

KEY_MAX = 255
LIFETIME = timedelta(hours=24)


class IdempotentRequest(Base):
    __tablename__ = "idempotent_requests"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotent_requests_subject_id", "subject_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The other person the stored answer shows, if any.
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_MAX))
    # What the key was first used for; the same key on another route is a client bug.
    route: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the request (method, path, body): a retry must be the same request.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[int] = mapped_column(default=0)
    body: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    location: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# What a guarded request answers: its response, and the other person that response shows.
Answer = tuple[Response, int | None]


def replay_or_run(user_id: int, run: Callable[[], Answer]) -> Response:
    """The first answer to this user's `Idempotency-Key`, or `run()`'s answer, remembered
    (until the key's lifetime ends, or the account of the person it shows does)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return run()[0]
    if not 1 <= len(key) <= KEY_MAX or not key.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1 to {KEY_MAX} printable characters")
    claim = _claim(user_id, key)
    if claim.status:
        return _replay(claim)
    response, subject_id = run()
    claim.subject_id = subject_id
    claim.status = response.status_code
    claim.body = response.get_data()
    claim.location = response.headers.get("Location")
    db.session.flush()
    return response


def _find(user_id: int, key: str) -> IdempotentRequest | None:
    return db.session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.user_id == user_id, IdempotentRequest.key == key
        )
    )


def _claim(user_id: int, key: str) -> IdempotentRequest:
    """This request's claim on the key, or the earlier request's record if it has one."""
    route = f"{request.method} {request.path}"
    fingerprint = hashlib.sha256(
        b"\n".join([route.encode(), request.get_data(cache=True)])
    ).hexdigest()
    session = db.session
    # Every record of this user past its lifetime goes, not only this key's: clients send a
    # new key with each request, so the table then holds at most a day of each user's keys.
    session.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.user_id == user_id,
            IdempotentRequest.created_at < utcnow() - LIFETIME,
        )
    )
    existing = _find(user_id, key)
    if existing is None:
        claim = IdempotentRequest(user_id=user_id, key=key, route=route, fingerprint=fingerprint)
        try:
            with session.begin_nested():
                session.add(claim)
            return claim
        except IntegrityError:
            # Another request with this key committed first: answer what it answered.
            existing = _find(user_id, key)
            assert existing is not None
    if existing.route != route:
        raise UnprocessableEntity(
            f"this Idempotency-Key was already used for {existing.route}; use a new key"
        )
    if existing.fingerprint != fingerprint:
        raise UnprocessableEntity(
            "this Idempotency-Key was already used with a different request; use a new key"
        )
    return existing


def _replay(record: IdempotentRequest) -> Response:
    response = Response(record.body, status=record.status, mimetype="application/json")
    if record.location:
        response.headers["Location"] = record.location
    response.headers["Idempotent-Replayed"] = "true"
    return response
