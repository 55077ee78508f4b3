"""Absolute links for mail and other servers, from PUBLIC_URL alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from microblog.links import external_url


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000/reset_password/abc"),
        ("https://microblog.example.com", "https://microblog.example.com/reset_password/abc"),
        ("https://example.com/blog", "https://example.com/blog/reset_password/abc"),
    ],
)
def test_an_external_url_starts_with_the_public_url_and_needs_no_request(
    make_other_app: Callable[..., Flask], public_url: str, expected: str
) -> None:
    app = make_other_app(PUBLIC_URL=public_url)
    with app.app_context():
        assert external_url("auth.reset_password", token="abc") == expected


def test_a_request_s_host_does_not_change_an_external_url(
    make_other_app: Callable[..., Flask],
) -> None:
    app = make_other_app(PUBLIC_URL="https://microblog.example.com", TRUSTED_PROXIES=1)
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    with app.test_request_context("/", headers=headers):
        assert external_url("main.index") == "https://microblog.example.com/"
