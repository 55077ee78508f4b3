"""Plain helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from flask import Flask

from microblog import create_app

# Cheap Argon2 parameters: the suite hashes hundreds of passwords.
FAST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def make_app(database_url: str, **overrides: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PASSWORD_HASH": FAST_HASH,
            **overrides,
        }
    )


@dataclass
class ApiUser:
    """A registered user and a live token, as a test sees them."""

    id: int
    username: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def basic_auth(username: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}
