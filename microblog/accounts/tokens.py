"""API tokens: random, stored only as SHA-256 hashes, expiring and revocable.

A token is a bearer secret with 256 bits of entropy. Hashing it with a fast hash is enough
(there is nothing to brute-force, unlike a password) and keeps authentication to one indexed
lookup.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import contains_eager

from microblog.accounts.models import Token, User
from microblog.db import Db, utcnow
from microblog.errors import N_, Unauthenticated


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def issue_token(session: Db, user: User, lifetime: timedelta) -> tuple[str, Token]:
    """A new token for `user`; the plaintext is returned once and never stored."""
    plaintext = secrets.token_hex(32)
    now = utcnow()
    token = Token(
        user_id=user.id, hash=_digest(plaintext), created_at=now, expires_at=now + lifetime
    )
    session.add(token)
    session.flush()
    return plaintext, token


@functools.cache
def _token_by_digest() -> Select[Token]:
    """Built once (on first use, when every model is mapped): every API request runs it, and
    building the statement costs as much as the ORM spends executing it."""
    return (
        select(Token)
        .join(Token.user)
        .options(contains_eager(Token.user))
        .where(Token.hash == bindparam("digest"))
    )


def authenticate_token(session: Db, plaintext: str, now: datetime) -> Token:
    """The live token for `plaintext`, with its user loaded in the same query."""
    token = session.scalar(_token_by_digest(), {"digest": _digest(plaintext)})
    if token is None:
        raise Unauthenticated(N_("the token is not valid"))
    if token.revoked_at is not None:
        raise Unauthenticated(N_("the token has been revoked"))
    if token.expires_at <= now:
        raise Unauthenticated(N_("the token has expired"))
    return token


def revoke_token(token: Token, now: datetime) -> None:
    token.revoked_at = now
