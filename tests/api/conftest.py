"""People most API tests need; a module may override one with its own variant."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support import ApiUser


@pytest.fixture
def susan(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("susan")


@pytest.fixture
def bob(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("bob")


@pytest.fixture
def carol(make_user: Callable[..., ApiUser]) -> ApiUser:
    return make_user("carol")
