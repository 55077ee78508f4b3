"""Random but reproducible data for development and benchmarks, inserted in bulk.

Thousands of rows a second: rows go in with multi-row INSERTs in batches, and counters are
recomputed with one UPDATE at the end rather than moved row by row.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta

from faker import Faker
from sqlalchemy import func, insert, select, update

from microblog import totals
from microblog.accounts.models import User
from microblog.accounts.passwords import hash_password
from microblog.db import Db, utcnow
from microblog.posts.models import Post
from microblog.social.models import Follow

BATCH = 2000
# The languages fake posts are written in, as (Faker locale, ISO 639-1 code).
LOCALES = {"en_US": "en", "es_ES": "es", "fr_FR": "fr", "de_DE": "de"}
FAKE_PASSWORD = "password"

Progress = Callable[[int], None]


def _batches(total: int) -> Iterator[int]:
    done = 0
    while done < total:
        size = min(BATCH, total - done)
        yield size
        done += size


def fake_users(session: Db, count: int, seed: int, progress: Progress) -> None:
    """`count` users named `<name>_<n>`, all with the password "password"."""
    faker = Faker("en_US")
    faker.seed_instance(seed)
    rng = random.Random(seed)
    # One hash for all: hashing each would cost 10,000 x the KDF for nothing.
    password_hash = hash_password(FAKE_PASSWORD)
    first = (session.scalar(select(func.max(User.id))) or 0) + 1
    now = utcnow()
    number = first
    for size in _batches(count):
        rows = []
        for _ in range(size):
            username = f"{faker.user_name()[:50]}_{number}"
            created = now - timedelta(days=rng.uniform(30, 400))
            rows.append(
                {
                    "username": username,
                    "email": f"{username.lower()}@example.org",
                    "password_hash": password_hash,
                    "about_me": faker.sentence(nb_words=10)[:140],
                    "created_at": created,
                    "last_seen": now - timedelta(minutes=rng.uniform(0, 43200)),
                }
            )
            number += 1
        session.execute(insert(User), rows)
        progress(size)
    totals.recount(session, totals.USERS, session.scalar(select(func.count(User.id))) or 0)


def fake_posts(session: Db, count: int, seed: int, progress: Progress) -> None:
    """`count` posts by random existing users, in four languages, timestamps rising with id."""
    user_ids = list(session.scalars(select(User.id).order_by(User.id)))
    if not user_ids:
        raise ValueError("there are no users to write posts; run `fake users` first")
    fakers = {code: Faker(locale) for locale, code in LOCALES.items()}
    for offset, one in enumerate(fakers.values()):
        one.seed_instance(seed + offset)
    rng = random.Random(seed)
    languages = list(fakers)
    now = utcnow()
    start = now - timedelta(days=30)
    step = (now - start) / max(count, 1)
    made = 0
    for size in _batches(count):
        rows = []
        for _ in range(size):
            language = rng.choice(languages)
            rows.append(
                {
                    "body": fakers[language].sentence(nb_words=rng.randint(5, 30))[:280],
                    "language": language,
                    "user_id": rng.choice(user_ids),
                    "timestamp": start + step * made,
                }
            )
            made += 1
        session.execute(insert(Post), rows)
        progress(size)
    _recount_posts(session)
    totals.recount(session, totals.POSTS, session.scalar(select(func.count(Post.id))) or 0)


def fake_follows(session: Db, per_user: int, seed: int, progress: Progress) -> None:
    """Each user follows `per_user` other random users they did not follow yet."""
    rng = random.Random(seed)
    user_ids = list(session.scalars(select(User.id).order_by(User.id)))
    existing = {
        (follower, followed)
        for follower, followed in session.execute(select(Follow.follower_id, Follow.followed_id))
    }
    want = min(per_user, len(user_ids) - 1)
    rows: list[dict[str, int]] = []
    for follower in user_ids:
        # One more than wanted, in case the follower draws themself; then exactly `want`.
        drawn = rng.sample(user_ids, min(want + 1, len(user_ids)))
        for followed in [one for one in drawn if one != follower][:want]:
            if (follower, followed) not in existing:
                rows.append({"follower_id": follower, "followed_id": followed})
                if len(rows) == BATCH:
                    session.execute(insert(Follow), rows)
                    progress(len(rows))
                    rows = []
    if rows:
        session.execute(insert(Follow), rows)
        progress(len(rows))
    _recount_follows(session)


def _recount_posts(session: Db) -> None:
    session.execute(
        update(User).values(
            post_count=select(func.count(Post.id)).where(Post.user_id == User.id).scalar_subquery()
        )
    )


def _recount_follows(session: Db) -> None:
    session.execute(
        update(User).values(
            follower_count=select(func.count())
            .select_from(Follow)
            .where(Follow.followed_id == User.id)
            .scalar_subquery(),
            following_count=select(func.count())
            .select_from(Follow)
            .where(Follow.follower_id == User.id)
            .scalar_subquery(),
        )
    )
