"""Signing up, signing in and changing one's account.

Every function takes the session and the acting user explicitly, flushes but never commits:
the caller (a request, a CLI command, a job) commits once at its boundary.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Update, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from microblog import totals
from microblog.accounts import guessing, rules
from microblog.accounts.models import Token, User
from microblog.accounts.notices import EMAIL_CHANGED_JOB
from microblog.accounts.passwords import hash_password, kdf_slot, needs_rehash, verify_password
from microblog.accounts.sessions import end_other_tokens
from microblog.db import MAX_ID, Db, after_commit, autocommits, utcnow
from microblog.errors import N_, ClaimedMeanwhile, Invalid, NotFound

if TYPE_CHECKING:
    from microblog.tasks.services import Executor

TAKEN_MESSAGES = {
    "username": N_("please use a different username"),
    "email": N_("please use a different email address"),
}


def get_user(session: Db, user_id: int) -> User:
    user = session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        raise no_such_user(user_id)
    return user


def no_such_user(user_id: int) -> NotFound:
    return NotFound(N_("user %(user_id)s does not exist"), user_id=user_id)


def lock_counterpart(session: Db, actor: User, user_id: int) -> User | None:
    """User `user_id` (None if there is none), for a row `actor` is about to write that refers
    to both of them: a follow, a message.

    Both users' rows are locked as that row's foreign keys would lock them (FOR KEY SHARE on
    PostgreSQL; on SQLite writers are serialised already), but now rather than at the insert.
    So an account deletion under way, which holds its user's row (`deletion.delete_account`),
    is waited for and then seen as a user who does not exist (a 4xx), never as a foreign key
    violation at the insert (a 500); and a deletion that starts later waits for this
    transaction, then finds and uncounts its row. If `actor` is the one who is gone, this
    raises NotFound.
    """
    if not 0 < user_id <= MAX_ID:
        return None
    locked = select(User).where(User.id.in_([actor.id, user_id]))
    users = {
        user.id: user for user in session.scalars(locked.with_for_update(read=True, key_share=True))
    }
    if actor.id not in users:
        raise no_such_user(actor.id)
    return users.get(user_id)


def get_by_username(session: Db, username: str) -> User:
    user = (
        session.scalar(select(User).where(func.lower(User.username) == username.lower()))
        if "\x00" not in username
        else None
    )
    if user is None:
        raise NotFound(N_("user %(username)s does not exist"), username=username)
    return user


def find_by_login(session: Db, login: str) -> User | None:
    """The user whose username (any case) or email address is `login`."""
    if "\x00" in login:
        # No username or address holds NUL, and PostgreSQL refuses it as a parameter.
        return None
    return session.scalar(
        select(User).where(
            or_(func.lower(User.username) == login.lower(), User.email == login.lower())
        )
    )


def find_by_email(session: Db, address: str) -> User | None:
    """The user with this address, normalized as stored (`rules.email`: case, Unicode NFC)."""
    try:
        address = rules.email(address.strip())
    except Invalid:
        return None
    return session.scalar(select(User).where(User.email == address))


def register_user(
    session: Db, *, username: str, email: str, password: str, about_me: str = ""
) -> User:
    username = rules.username(username)
    email = rules.email(email)
    about_me = rules.about_me(about_me)
    # Hash before touching the database, so no transaction (and on SQLite, no write lock)
    # is held while the deliberately slow KDF runs.
    password_hash = hash_password(rules.password(password))
    _ensure_available(session, username=username, email=email)
    user = User(username=username, email=email, password_hash=password_hash, about_me=about_me)
    _flush_claiming_names(session, user)
    totals.count_in(session, totals.USERS, 1, user.id)
    return user


def authenticate(session: Db, login: str, password: str) -> User | None:
    """The user these credentials belong to, or None; takes as long either way.

    Each attempt spends one guess of the account's budget (or the unknown name's) before the
    KDF runs: TooManyGuesses when it is spent, and then no KDF runs.
    """
    user = find_by_login(session, login)
    if user is None:
        guessing.spend_for_unknown(login)
    else:
        guessing.spend_for_account(user.id)
    if not verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user


def update_user(
    session: Db,
    user: User,
    *,
    username: str | None = None,
    email: str | None = None,
    about_me: str | None = None,
    password: str | None = None,
    old_password: str | None = None,
    signed_in_with: Token | None = None,
    executor: Executor | None = None,
    language: str = "en",
) -> User:
    """Change what was given; every value is checked before anything changes.

    A new email address or password needs the current password (`old_password`), checked
    before anyone is told whether the address is taken. A new password ends every other
    session and token of the account (`signed_in_with`, the one making the change, stays). A
    new address is announced to the old one, in `language`, by a job `executor` runs after the
    commit: whoever took over a token cannot move the account away unseen.
    """
    changes: dict[str, str] = {}
    if username is not None and username != user.username:
        changes["username"] = rules.username(username)
    if email is not None:
        email = rules.email(email)
        if email != user.email:
            changes["email"] = email
    if about_me is not None:
        changes["about_me"] = rules.about_me(about_me)
    if password is not None or (old_password is not None and "email" not in changes):
        changes["password_hash"] = _new_password_hash(user, password, old_password)
    elif "email" in changes:
        confirm_password(user, old_password, field="old_password", missing=EMAIL_NEEDS_PASSWORD)
    _ensure_available(
        session,
        username=changes.get("username"),
        email=changes.get("email"),
        exclude_id=user.id,
    )
    old_email = user.email
    _flush_claiming_names(session, user, changes)
    if "password_hash" in changes:
        end_other_tokens(session, user, utcnow(), keep=signed_in_with)
    if "email" in changes:
        _tell_old_address(session, executor, (old_email, user.email, user.username, language))
    return user


EMAIL_NEEDS_PASSWORD = N_("old_password is required to change the email address")


def _tell_old_address(
    session: Db, executor: Executor | None, notice: tuple[str, str, str, str]
) -> None:
    if executor is None:
        raise TypeError("changing an email address needs an executor to tell the old one")
    after_commit(session, lambda: executor.call(EMAIL_CHANGED_JOB, *notice))


def note_activity(user: User, now: datetime, resolution: timedelta) -> bool:
    """Show `user` as seen now; True if the stored value is stale and must be saved.

    At most once per `resolution`, so authenticated reads stay reads. The value is set on the
    instance without marking it dirty: `save_last_seen` writes it at the end of the request,
    after the request's own writes, so its row lock never comes before theirs (two users
    following each other at once would otherwise deadlock on PostgreSQL).
    """
    if now - user.last_seen < resolution:
        return False
    set_committed_value(user, "last_seen", now)
    return True


def note_use(token: Token, now: datetime, resolution: timedelta) -> bool:
    """Show `token` as used now; True if the stored value is stale and must be saved: as
    `note_activity` does for `last_seen`, so the person's list of tokens says when each was
    last used, to within `resolution`."""
    if now - token.last_used_at < resolution:
        return False
    set_committed_value(token, "last_used_at", now)
    return True


def save_last_seen(session: Db, user_id: int, now: datetime) -> None:
    _save_best_effort(session, update(User).where(User.id == user_id).values(last_seen=now))


def save_last_used(session: Db, token_id: int, now: datetime) -> None:
    _save_best_effort(session, update(Token).where(Token.id == token_id).values(last_used_at=now))


def _save_best_effort(session: Db, stamp: Update) -> None:
    """Best effort: if the write cannot be had at once (SQLite busy with another writer), the
    next request tries again rather than this one failing."""
    try:
        if autocommits(session):
            session.execute(stamp)
            return
        with session.begin_nested():
            session.execute(stamp)
    except OperationalError:
        pass


def set_password(session: Db, user: User, password: str) -> None:
    """Replace the password without knowing the old one (a verified reset link).

    Every session and token of the account ends: the reset is how its owner takes it back."""
    user.password_hash = hash_password(rules.password(password))
    session.flush()
    end_other_tokens(session, user, utcnow())


WRONG_PASSWORD_MESSAGES = {
    "old_password": N_("old_password is not the current password"),
    "password": N_("password is not the current password"),
}


def confirm_password(user: User, password: str | None, *, field: str, missing: str) -> None:
    """The one check of a signed-in person's current password, outside signing in (changing
    the password, deleting the account): 400 naming `field`, with `missing` when none was sent.

    Every such check goes through here, so each spends one guess of the account's budget, the
    one signing in spends (TooManyGuesses when it is spent, before the KDF runs), and runs the
    KDF in one of the slots that keep such checks from taking every worker (KdfBusy).
    """
    if not password:
        raise Invalid(field, missing)
    guessing.spend_for_account(user.id)
    with kdf_slot():
        matches = verify_password(user.password_hash, password)
    if not matches:
        raise Invalid(field, WRONG_PASSWORD_MESSAGES[field])


def _new_password_hash(user: User, password: str | None, old_password: str | None) -> str:
    if old_password is None:
        raise Invalid("old_password", N_("old_password is required to change the password"))
    if password is None:
        raise Invalid("password", N_("password is required together with old_password"))
    confirm_password(
        user,
        old_password,
        field="old_password",
        missing=N_("old_password is required to change the password"),
    )
    return hash_password(rules.password(password))


def _ensure_available(
    session: Db,
    *,
    username: str | None,
    email: str | None,
    exclude_id: int | None = None,
) -> None:
    conditions = []
    if username is not None:
        conditions.append(func.lower(User.username) == username.lower())
    if email is not None:
        conditions.append(User.email == email)
    if not conditions:
        return
    query = select(User.username).where(or_(*conditions)).limit(2)
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    taken = [name.lower() for name in session.scalars(query)]
    if username is not None and username.lower() in taken:
        raise Invalid("username", TAKEN_MESSAGES["username"])
    if taken:
        raise Invalid("email", TAKEN_MESSAGES["email"])


def _flush_claiming_names(session: Db, user: User, changes: dict[str, str] | None = None) -> None:
    """Apply `changes` to `user` and flush, letting the unique constraints settle a race that
    the check above lost: the loser is told which name is taken (ClaimedMeanwhile: a 409 on
    the API, where a name already taken when the request came is a 400).

    The changes are made inside the savepoint: `begin_nested` flushes what is pending first,
    so a change made before it would meet the constraint outside the savepoint, and the
    violation would end the whole transaction (a 500 on PostgreSQL, where the second writer
    waits on the first's index entry and fails when it commits).
    """
    changes = changes or {}
    # Read now: a failed flush expires the instance, and reloading would show the old names.
    username = changes.get("username", user.username)
    email = changes.get("email", user.email)
    user_id = user.id
    try:
        with session.begin_nested():
            for attribute, value in changes.items():
                setattr(user, attribute, value)
            session.add(user)
    except IntegrityError:
        try:
            _ensure_available(session, username=username, email=email, exclude_id=user_id)
        except Invalid as taken:
            raise ClaimedMeanwhile(taken.field, taken.template) from None
        raise ClaimedMeanwhile("username", TAKEN_MESSAGES["username"]) from None
