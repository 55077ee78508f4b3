"""The `microblog` command: fake data generators, and the command itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask_migrate import upgrade

from microblog import create_app
from microblog.accounts.models import User
from microblog.extensions import db
from microblog.posts.models import Post
from microblog.social.models import Follow

LANGUAGES = {"en", "es", "fr", "de"}
# Cheap Argon2 parameters, as the shared fixtures use.
FAST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def run(app: Flask, *args: str) -> Result:
    """`microblog ARGS...` in this process, as the installed command runs it."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def succeed(app: Flask, *args: str) -> Result:
    result = run(app, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture
def empty_app(
    backend: str, database_factory: Callable[[str], str]
) -> Iterator[Callable[[], Flask]]:
    """Makes applications on new, migrated, empty databases of this backend."""
    made: list[Flask] = []

    def make() -> Flask:
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": database_factory(backend),
                "PASSWORD_HASH": FAST_HASH,
            }
        )
        with app.app_context():
            upgrade()
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _usernames_and_bodies(app: Flask) -> tuple[list[str], list[tuple[str, str, str | None]]]:
    with app.app_context():
        usernames = list(db.session.scalars(sa.select(User.username).order_by(User.id)))
        posts = db.session.execute(
            sa.select(User.username, Post.body, Post.language).join(Post.author).order_by(Post.id)
        )
        return usernames, [(username, body, language) for username, body, language in posts]


def test_fake_users_and_posts_make_exactly_that_many_rows_in_four_languages(app: Flask) -> None:
    succeed(app, "fake", "users", "50", "--seed", "7")
    succeed(app, "fake", "posts", "300", "--seed", "7")

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 50
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 300
        assert db.session.scalar(sa.select(sa.func.sum(User.post_count))) == 300
        # Each counter is its own user's posts, not just the right total.
        actual = {
            user_id: count
            for user_id, count in db.session.execute(
                sa.select(Post.user_id, sa.func.count()).group_by(Post.user_id)
            )
        }
        for user in db.session.scalars(sa.select(User)):
            assert user.post_count == actual.get(user.id, 0), user
        languages = set(db.session.scalars(sa.select(Post.language).distinct()))
        assert languages == LANGUAGES
        assert len(set(db.session.scalars(sa.select(User.username)))) == 50


def test_fake_data_with_one_seed_is_the_same_on_every_empty_database(
    app: Flask, empty_app: Callable[[], Flask]
) -> None:
    again = empty_app()
    for target in (app, again):
        succeed(target, "fake", "users", "50", "--seed", "7")
        succeed(target, "fake", "posts", "300", "--seed", "7")

    first_users, first_posts = _usernames_and_bodies(app)
    second_users, second_posts = _usernames_and_bodies(again)
    assert len(first_users) == 50
    assert len(first_posts) == 300
    assert first_users == second_users
    assert first_posts == second_posts

    # Another seed, other data.
    other = empty_app()
    succeed(other, "fake", "users", "50", "--seed", "8")
    assert _usernames_and_bodies(other)[0] != first_users


def test_fake_posts_without_users_fails_saying_to_add_users_first(app: Flask) -> None:
    result = run(app, "fake", "posts", "10")

    assert result.exit_code != 0
    assert "Error: there are no users to write posts; run `fake users` first" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


def test_fake_follows_makes_every_user_follow_that_many_others(app: Flask) -> None:
    succeed(app, "fake", "users", "20", "--seed", "3")
    succeed(app, "fake", "follows", "5", "--seed", "3")

    with app.app_context():
        follows = db.session.execute(sa.select(Follow.follower_id, Follow.followed_id)).all()
        users = list(db.session.scalars(sa.select(User)))
    assert all(follower != followed for follower, followed in follows)
    for user in users:
        following = sum(1 for follower, _ in follows if follower == user.id)
        followers = sum(1 for _, followed in follows if followed == user.id)
        assert (user.following_count, user.follower_count) == (following, followers), user
    per_user = {user.username: user.following_count for user in users}
    assert set(per_user.values()) == {5}, per_user
    assert len(follows) == 20 * 5


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_fake_data_goes_in_at_thousands_of_rows_a_second(app: Flask) -> None:
    rates: dict[str, float] = {}
    for kind, count in (("users", 2000), ("posts", 20000)):
        started = time.perf_counter()
        succeed(app, "fake", kind, str(count), "--seed", "1")
        rates[kind] = count / (time.perf_counter() - started)

    print(f"fake data on SQLite: {rates['users']:,.0f} users/s, {rates['posts']:,.0f} posts/s")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 20000
    assert rates["posts"] > 2000, rates
    assert rates["users"] > 1000, rates


def test_microblog_help_lists_its_commands(tmp_path: Path) -> None:
    env: dict[str, Any] = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'help.db'}"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "microblog"), "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    commands = result.stdout.partition("Commands:")[2].split()
    for command in ("run", "db", "fake", "shell"):
        assert command in commands, result.stdout
