"""Counters are columns, moved in the same transaction as the rows they count; whatever happens,
each must equal a COUNT(*) over those rows.

Hypothesis drives the domain services (not HTTP: a step costs a few statements, not a request)
through random sequences of following, unfollowing, posting, deleting posts, sending messages,
reading them and deleting one's account, mistakes included: following twice or oneself,
unfollowing someone not followed, deleting a post already deleted or someone else's, writing to
a missing (or deleted) user or an empty body, deleting an account with a wrong password. Each
step runs as a request does, in a transaction of its own (a savepoint) that is rolled back when
the service raises a domain error. After every step, every counter is recomputed from the rows
with SQL, and the follow graph and the posts are compared with a model of them; after an account
deletion, nothing of the deleted user remains and the site's totals equal their rows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from microblog import totals
from microblog.accounts.deletion import delete_account
from microblog.accounts.models import Token, User
from microblog.accounts.services import register_user
from microblog.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from microblog.extensions import db
from microblog.messaging import services as messaging
from microblog.messaging.models import MESSAGE_MAX, Message, Notification
from microblog.posts import services as posting
from microblog.posts.models import Post
from microblog.social import services as social
from microblog.social.models import Follow
from tests.accounts.deletion_support import COUNTERS, count_of

USERS = 4
PASSWORD = "correct-horse"
# Runs of the machine, and steps in each: some 1,800 steps per backend, in seconds. (Fewer runs
# than before accounts could be deleted: a deletion, or an attempt with a wrong password, costs
# more than the other steps, and the time stays what it was.)
MAX_EXAMPLES = 70
STEPS = 30
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# An index past the real users stands for a user that does not exist.
someone = st.integers(min_value=0, max_value=USERS)
POST_BODIES = st.sampled_from(["Hello, world", "   ", "x" * (posting.BODY_MAX + 1)])
MESSAGE_BODIES = st.sampled_from(["Are you there?", "\t", "y" * (MESSAGE_MAX + 1)])
# One try in five is right: accounts go now and then, not at the first chance.
DELETION_PASSWORDS = st.sampled_from(
    ["wrong-horse", "", PASSWORD.upper(), f" {PASSWORD}", PASSWORD]
)


UNREAD = select(
    User.id,
    count_of(Message, Message.recipient_id == User.id, Message.id > User.last_read_message_id),
).order_by(User.id)
UNREAD_NOTICES = select(Notification.user_id, Notification.payload).where(
    Notification.name == "unread_message_count"
)


# One statement: each site total beside the rows it counts.
TOTALS = select(
    *(
        select(func.coalesce(func.sum(totals.Total.value), 0))
        .where(totals.Total.name == name)
        .scalar_subquery()
        for name in (totals.USERS, totals.POSTS)
    ),
    count_of(User),
    count_of(Post),
)


def _rows_of(user_id: int) -> Any:
    """One statement: how many rows of each table still refer to `user_id`."""
    return select(
        count_of(User, User.id == user_id),
        count_of(Token, Token.user_id == user_id),
        count_of(Post, Post.user_id == user_id),
        count_of(Follow, (Follow.follower_id == user_id) | (Follow.followed_id == user_id)),
        count_of(Message, (Message.sender_id == user_id) | (Message.recipient_id == user_id)),
        count_of(Notification, Notification.user_id == user_id),
    )


class CounterMachine(RuleBasedStateMachine):
    """Users act at random; the counters must keep up, and a refused action changes nothing."""

    engine: ClassVar[Engine]
    # What the steps came to over every run (`follow`, `follow:Conflict`, ...).
    outcomes: ClassVar[Counter[str]]
    post_ids = Bundle("post_ids")

    def __init__(self) -> None:
        super().__init__()
        # The whole run in one transaction, rolled back at the end: each run starts empty.
        self.connection = self.engine.connect()
        self.outer = self.connection.begin()
        self.session = Session(bind=self.connection, join_transaction_mode="create_savepoint")
        self.user_ids: list[int] = []
        self.deleted_ids: list[int] = []
        # The follow graph as it should be, to tell which actions must be refused.
        self.follows: set[tuple[int, int]] = set()
        self.live_posts: dict[int, int] = {}

    def teardown(self) -> None:
        self.session.close()
        self.outer.rollback()
        self.connection.close()

    # --- steps ------------------------------------------------------------------------------

    def _id(self, index: int) -> int:
        """The id of user `index`; past the last user, a deleted user's id, or one nobody has."""
        if index < len(self.user_ids):
            return self.user_ids[index]
        return self.deleted_ids[-1] if self.deleted_ids else max(self.user_ids) + 1000

    def _actor(self, index: int) -> User:
        user = self.session.get(User, self.user_ids[index % len(self.user_ids)])
        assert user is not None
        return user

    def _request(self, name: str, action: Callable[[], Any]) -> Any:
        """`action` as a request runs it: its own transaction, undone on a domain error."""
        try:
            with self.session.begin_nested():
                result = action()
        except DomainError as error:
            self.outcomes[f"{name}:{type(error).__name__}"] += 1
            raise
        self.outcomes[name] += 1
        return result

    @initialize()
    def sign_up(self) -> None:
        for number in range(USERS):
            user = register_user(
                self.session,
                username=f"user{number}",
                email=f"user{number}@example.com",
                password=PASSWORD,
            )
            self.user_ids.append(user.id)

    @rule(actor=someone, other=someone)
    def follow(self, actor: int, other: int) -> None:
        me, them = self._actor(actor), self._id(other)
        edge = (me.id, them)
        expected: type[DomainError] | None = None
        if them == me.id:
            expected = Invalid
        elif them not in self.user_ids:
            expected = NotFound
        elif edge in self.follows:
            expected = Conflict
        self._expect(expected, "follow", lambda: social.follow(self.session, me, them))
        if expected is None:
            self.follows.add(edge)

    @rule(actor=someone, other=someone)
    def unfollow(self, actor: int, other: int) -> None:
        me, them = self._actor(actor), self._id(other)
        edge = (me.id, them)
        expected: type[DomainError] | None = None
        if them not in self.user_ids:
            expected = NotFound
        elif edge not in self.follows:
            expected = Conflict
        self._expect(expected, "unfollow", lambda: social.unfollow(self.session, me, them))
        self.follows.discard(edge)

    @precondition(lambda self: self.follows)
    @rule(data=st.data())
    def unfollow_someone_followed(self, data: st.DataObject) -> None:
        """Random pairs seldom follow each other: this unfollows along an edge that exists."""
        follower, followed = data.draw(st.sampled_from(sorted(self.follows)))
        me = self.session.get(User, follower)
        assert me is not None
        self._expect(None, "unfollow", lambda: social.unfollow(self.session, me, followed))
        self.follows.discard((follower, followed))

    @rule(target=post_ids, author=someone, body=POST_BODIES)
    def write_post(self, author: int, body: str) -> Any:
        me = self._actor(author)
        valid = 0 < len(body.strip()) <= posting.BODY_MAX
        post = self._expect(
            None if valid else Invalid, "post", lambda: posting.create_post(self.session, me, body)
        )
        if post is None:
            return multiple()
        self.live_posts[post.id] = me.id
        return post.id

    @rule(actor=someone, post_id=post_ids)
    def delete_post(self, actor: int, post_id: int) -> None:
        me = self._actor(actor)
        author = self.live_posts.get(post_id)
        expected: type[DomainError] | None = None
        if author is None:
            expected = NotFound
        elif author != me.id:
            expected = Forbidden

        def delete() -> None:
            posting.delete_post(self.session, posting.own_post(self.session, me, post_id))

        self._expect(expected, "delete_post", delete)
        if expected is None:
            del self.live_posts[post_id]

    @rule(sender=someone, recipient=someone, body=MESSAGE_BODIES)
    def send_message(self, sender: int, recipient: int, body: str) -> None:
        me, them = self._actor(sender), self._id(recipient)
        valid = 0 < len(body.strip()) <= MESSAGE_MAX and them != me.id and them in self.user_ids
        self._expect(
            None if valid else Invalid,
            "message",
            lambda: messaging.send_message(self.session, me, them, body),
        )

    @rule(reader=someone)
    def read_messages(self, reader: int) -> None:
        me = self._actor(reader)
        self._expect(None, "read", lambda: messaging.mark_read(self.session, me))

    # Someone always stays, so the other rules have an actor.
    @precondition(lambda self: len(self.user_ids) > 1)
    @rule(actor=someone, password=DELETION_PASSWORDS)
    def delete_own_account(self, actor: int, password: str) -> None:
        me = self._actor(actor)
        gone = me.id
        expected = None if password == PASSWORD else Invalid
        self._expect(expected, "delete_account", lambda: delete_account(self.session, me, password))
        if expected is None:
            self.user_ids.remove(gone)
            self.deleted_ids.append(gone)
            self.follows = {edge for edge in self.follows if gone not in edge}
            self.live_posts = {
                post: author for post, author in self.live_posts.items() if author != gone
            }
            # Checked here rather than after every step, where the machine's time would go on
            # looking: nothing can refer to them later (the foreign keys see to that), and the
            # totals are sums, so a total out of step since any earlier step is still out now.
            left = tuple(self.session.execute(_rows_of(gone)).one())
            assert left == (0,) * 6, (gone, left)
            users, posts, user_rows, post_rows = self.session.execute(TOTALS).one()
            assert (users, posts) == (user_rows, post_rows)

    def _expect(
        self, expected: type[DomainError] | None, name: str, action: Callable[[], Any]
    ) -> Any:
        if expected is None:
            return self._request(name, action)
        with pytest.raises(expected):
            self._request(name, action)
        return None

    # --- what must hold after every step ----------------------------------------------------

    @invariant()
    def counters_equal_the_rows_they_count(self) -> None:
        wrong = [
            row
            for row in self.session.execute(COUNTERS)
            if (row[1], row[3], row[5]) != (row[2], row[4], row[6])
        ]
        assert not wrong, f"(id, posts stored/counted, followers ..., following ...): {wrong}"

    @invariant()
    def the_unread_count_notified_is_the_unread_count(self) -> None:
        notices: dict[int, list[int]] = {}
        for user_id, payload in self.session.execute(UNREAD_NOTICES):
            notices.setdefault(user_id, []).append(payload["count"])
        for user_id, unread in self.session.execute(UNREAD):
            # A state, not an event: each notice replaces the one before, so there is at most
            # one, and it tells the count as it is now (none: nothing was ever sent).
            assert notices.get(user_id, [0]) == [unread], (user_id, unread, notices.get(user_id))

    @invariant()
    def the_follow_graph_is_the_model(self) -> None:
        if not self.user_ids:
            return
        stored = set(self.session.execute(select(Follow.follower_id, Follow.followed_id)))
        assert stored == self.follows

    @invariant()
    def the_posts_are_the_model(self) -> None:
        stored = {
            post_id: author
            for post_id, author in self.session.execute(select(Post.id, Post.user_id))
        }
        assert stored == self.live_posts


@pytest.fixture
def engine(app: Flask) -> Iterator[Engine]:
    with app.app_context():
        yield db.engine


def test_counters_equal_the_rows_they_count_after_any_sequence(
    engine: Engine, backend: str
) -> None:
    outcomes: Counter[str] = Counter()
    machine = type(
        "CounterMachineOn" + backend.title(),
        (CounterMachine,),
        {"engine": engine, "outcomes": outcomes},
    )
    started = time.monotonic()

    run_state_machine_as_test(machine, settings=SETTINGS)

    print(f"\n[{backend}] counters: {time.monotonic() - started:.1f} s, {dict(outcomes)}")
    # The mistakes were made, and the invariants held after them.
    for outcome in (
        "follow:Conflict",
        "follow:Invalid",
        "follow:NotFound",
        "unfollow:Conflict",
        "delete_post:NotFound",
        "delete_post:Forbidden",
        "message:Invalid",
        "post:Invalid",
        "delete_account:Invalid",
    ):
        assert outcomes[outcome], (outcome, dict(outcomes))
    for outcome in (
        "follow",
        "unfollow",
        "post",
        "delete_post",
        "message",
        "read",
        "delete_account",
    ):
        assert outcomes[outcome], (outcome, dict(outcomes))
