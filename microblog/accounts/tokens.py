"""Tokens: random, stored only as SHA-256 hashes, expiring and revocable.

A token is a bearer secret with 256 bits of entropy: an API client's bearer token, or the key
of a web session (which its cookies carry). Hashing it with a fast hash is enough (there is
nothing to brute-force, unlike a password) and keeps authentication to one indexed lookup.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.orm import contains_eager

from microblog.accounts.models import API, LABEL_MAX, Token, User
from microblog.db import Db, utcnow
from microblog.errors import N_, Unauthenticated


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def issue_token(
    session: Db, user: User, lifetime: timedelta, *, kind: str = API, label: str = ""
) -> tuple[str, Token]:
    """A new token for `user`; the plaintext is returned once and never stored.

    `label` (the client's User-Agent) is how its owner will recognise it in their list. The
    person's expired tokens are deleted on the way, so their rows never outnumber the tokens
    that might still work (revoked ones are kept until they expire, to say so to a client)."""
    plaintext = secrets.token_hex(32)
    now = utcnow()
    session.execute(delete(Token).where(Token.user_id == user.id, Token.expires_at <= now))
    token = Token(
        user_id=user.id,
        hash=_digest(plaintext),
        kind=kind,
        label=label[:LABEL_MAX],
        created_at=now,
        last_used_at=now,
        expires_at=now + lifetime,
    )
    session.add(token)
    session.flush()
    return plaintext, token


@functools.cache
def _token_by_digest() -> Select[Token]:
    """Built once (on first use, when every model is mapped): every request runs it, and
    building the statement costs as much as the ORM spends executing it."""
    return (
        select(Token)
        .join(Token.user)
        .options(contains_eager(Token.user))
        .where(Token.hash == bindparam("digest"), Token.kind == bindparam("kind"))
    )


def authenticate_token(session: Db, plaintext: str, now: datetime, *, kind: str = API) -> Token:
    """The live token of `kind` for `plaintext`, with its user loaded in the same query.

    A web session's key is no bearer token, nor the other way round."""
    token = session.scalar(_token_by_digest(), {"digest": _digest(plaintext), "kind": kind})
    if token is None:
        raise Unauthenticated(N_("the token is not valid"))
    if token.revoked_at is not None:
        raise Unauthenticated(N_("the token has been revoked"))
    if token.expires_at <= now:
        raise Unauthenticated(N_("the token has expired"))
    return token


def revoke_token(token: Token, now: datetime) -> None:
    token.revoked_at = now
