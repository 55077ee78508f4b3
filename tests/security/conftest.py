"""People for the security tests: a victim, an attacker and a third party, each with a token."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support import ApiUser


@pytest.fixture
def victim(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("victim", password="victims-secret-1")


@pytest.fixture
def attacker(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("attacker", password="attackers-secret-1")


@pytest.fixture
def third(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("third", password="thirds-secret-1")
