"""The `microblog` command: Flask's CLI (run, shell, db ...) plus data generators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from microblog import fake
from microblog.db import write_intent
from microblog.extensions import db


def main() -> None:
    from microblog import create_app

    cli = FlaskGroup(create_app=create_app, help="Run and manage a Microblog server.")
    cli.main()


@click.group(help="Fill the database with random but reproducible data.")
def fake_group() -> None:
    pass


def _generate(
    label: str, total: int, generator: Callable[..., None], count: int, seed: int
) -> None:
    with write_intent(), click.progressbar(length=total, label=label) as bar:
        generator(db.session, count, seed, bar.update)
        db.session.commit()
    click.echo(f"{label}: done")


@fake_group.command("users")
@click.argument("count", type=click.IntRange(min=1))
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same data.")
def fake_users_command(count: int, seed: int) -> None:
    """Add COUNT users (each with the password "password")."""
    _generate(f"Adding {count} users", count, fake.fake_users, count, seed)


@fake_group.command("posts")
@click.argument("count", type=click.IntRange(min=1))
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same data.")
def fake_posts_command(count: int, seed: int) -> None:
    """Add COUNT posts by random existing users."""
    try:
        _generate(f"Adding {count} posts", count, fake.fake_posts, count, seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@fake_group.command("follows")
@click.argument("per_user", type=click.IntRange(min=1))
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same data.")
def fake_follows_command(per_user: int, seed: int) -> None:
    """Make every user follow PER_USER random others."""
    from microblog.accounts.models import User

    users = db.session.query(User).count()
    _generate(
        f"Adding follows for {users} users", users * per_user, fake.fake_follows, per_user, seed
    )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option(
    "--queue",
    "queue_names",
    multiple=True,
    help="A queue to work on, repeatable, first first (default: TASK_QUEUE, then its mail "
    "queue, TASK_QUEUE-mail).",
)
@with_appcontext
def worker_command(burst: bool, queue_names: tuple[str, ...]) -> None:
    """Run background jobs (post exports, then mail) queued on Redis. Needs REDIS_URL."""
    from redis import RedisError

    from microblog.tasks.executors import run_worker, worker_queues

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException(
            "REDIS_URL is not set: the worker takes its jobs from Redis. Without REDIS_URL "
            "the server runs jobs in its own threads and needs no worker."
        )
    queues = list(queue_names) or worker_queues(current_app.config["TASK_QUEUE"])
    try:
        run_worker(url, queues, burst=burst)
    except RedisError as exc:
        raise click.ClickException(f"cannot reach Redis (REDIS_URL): {exc}") from None


@click.command("expire-results")
@with_appcontext
def expire_results_command() -> None:
    """Remove the export results older than EXPORT_RESULT_TTL (each export does it too)."""
    from microblog.tasks.services import expire_results

    with write_intent():
        removed = expire_results(db.session)
        db.session.commit()
    click.echo(f"Removed {removed} expired export results.")


def init_app(app: Flask) -> None:
    app.cli.add_command(fake_group, "fake")
    app.cli.add_command(worker_command)
    app.cli.add_command(expire_results_command)

    @app.shell_context_processor
    def shell_context() -> dict[str, Any]:
        from microblog.accounts.models import Token, User
        from microblog.posts.models import Post
        from microblog.social.models import Follow

        return {"db": db, "User": User, "Token": Token, "Post": Post, "Follow": Follow}
