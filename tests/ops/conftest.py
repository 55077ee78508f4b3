"""Fixtures for the operations tests: apps with settings of their own, on the test's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from microblog.extensions import db
from tests.support import make_app


@pytest.fixture
def make_ops_app(app: Flask, database_url: str) -> Iterator[Callable[..., Flask]]:
    """Another app with settings of its own; on the test's (emptied) database unless told."""
    made: list[Flask] = []

    def make(database: str | None = None, **overrides: Any) -> Flask:
        other = make_app(database or database_url, **overrides)
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
