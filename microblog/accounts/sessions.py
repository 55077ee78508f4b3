"""The ways into an account a person can see and end: web sessions and API tokens.

Both are rows of `tokens` (see `models.Token`). A web session is started at sign-in; its key
is what Flask-Login keeps in the session cookie and the remember-me cookie, so ending the row
ends every copy of those cookies. A new password ends every other session and token: whoever
held one of them (someone who stole it, say) is out once the owner changes or resets it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from microblog.accounts.models import WEB, Token, User
from microblog.accounts.tokens import issue_token, revoke_token
from microblog.db import MAX_ID, Db
from microblog.errors import N_, NotFound


def start_session(session: Db, user: User, lifetime: timedelta, label: str) -> tuple[str, Token]:
    """A web session for `user`, signed in from `label` (the browser's User-Agent): its key,
    given to the browser once, and its row."""
    return issue_token(session, user, lifetime, kind=WEB, label=label)


def live_tokens(session: Db, user: User, now: datetime) -> list[Token]:
    """The person's sessions and tokens that still work, the most recently used first."""
    return list(
        session.scalars(
            select(Token)
            .where(Token.user_id == user.id, Token.revoked_at.is_(None), Token.expires_at > now)
            .order_by(Token.last_used_at.desc(), Token.id.desc())
        )
    )


def end_token(session: Db, user: User, token_id: int, now: datetime) -> Token:
    """End one of the person's own live sessions or tokens; NotFound for any other (someone
    else's is no business of theirs, and telling it exists would say so)."""
    token = session.get(Token, token_id) if 0 < token_id <= MAX_ID else None
    if token is None or token.user_id != user.id or not is_live(token, now):
        raise NotFound(N_("you have no token %(token_id)s"), token_id=token_id)
    revoke_token(token, now)
    session.flush()
    return token


def is_live(token: Token, now: datetime) -> bool:
    return token.revoked_at is None and token.expires_at > now


def end_other_tokens(session: Db, user: User, now: datetime, keep: Token | None = None) -> None:
    """End every live session and token of `user` but `keep` (the one making the change)."""
    ending = update(Token).where(Token.user_id == user.id, Token.revoked_at.is_(None))
    if keep is not None:
        ending = ending.where(Token.id != keep.id)
    session.execute(ending.values(revoked_at=now))
