"""What makes a username, email, password and about-me acceptable (shared by both doors)."""

import re

import pytest

from microblog.accounts import rules
from microblog.errors import Invalid


@pytest.mark.parametrize("name", ["a", "susan", "Susan_99", "j.doe-x", "x" * 64])
def test_usernames_of_letters_digits_and_punctuation_are_accepted(name: str) -> None:
    assert rules.username(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "su san", "susan!", "süsan", "a/b", "a\nb"])
def test_other_usernames_are_refused_naming_the_field(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        rules.username(name)
    assert caught.value.field == "username"


def test_emails_are_normalized_to_lower_case() -> None:
    assert rules.email("Susan@Example.COM") == "susan@example.com"


@pytest.mark.parametrize("address", ["", "susan", "susan@", "@example.com", "a@b@c.com"])
def test_malformed_emails_are_refused(address: str) -> None:
    with pytest.raises(Invalid) as caught:
        rules.email(address)
    assert caught.value.field == "email"


@pytest.mark.parametrize("length", [7, 257])
def test_passwords_outside_8_to_256_characters_are_refused(length: int) -> None:
    with pytest.raises(Invalid) as caught:
        rules.password("x" * length)
    assert caught.value.field == "password"


def test_about_me_is_trimmed_and_limited_to_140_characters() -> None:
    assert rules.about_me("  hello  ") == "hello"
    assert rules.about_me("x" * 140) == "x" * 140
    with pytest.raises(Invalid):
        rules.about_me("x" * 141)


@pytest.mark.parametrize("name", [".", ".."])
def test_usernames_that_are_dot_segments_of_a_url_are_refused(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        rules.username(name)
    assert caught.value.field == "username"
    assert "'.' or '..'" in caught.value.message


NAMES = [".", "..", "...", ".a", "a.", "..a", "a..", "a", "ab", "x" * 64, "x" * 65, "", "a/b"]


@pytest.mark.parametrize("name", NAMES)
def test_the_api_document_s_username_pattern_states_the_rule(name: str) -> None:
    try:
        rules.username(name)
    except Invalid:
        accepted = False
    else:
        accepted = True
    assert bool(re.fullmatch(rules.USERNAME_PATTERN, name)) == accepted
