"""Password hashing: Argon2id, and hashes upgraded when the parameters change."""

from argon2 import PasswordHasher

from microblog.accounts import passwords
from microblog.accounts.services import authenticate, register_user
from microblog.extensions import db


def test_hashes_are_argon2id_and_never_the_password(app) -> None:
    hashed = passwords.hash_password("correct-horse")
    assert hashed.startswith("$argon2id$")
    assert "correct-horse" not in hashed
    assert passwords.verify_password(hashed, "correct-horse")
    assert not passwords.verify_password(hashed, "wrong-horse")


def test_an_unknown_user_is_refused_like_a_wrong_password(app) -> None:
    assert passwords.verify_password(None, "anything") is False


def test_a_hash_with_old_parameters_is_upgraded_on_login(app) -> None:
    with app.app_context():
        user = register_user(
            db.session, username="susan", email="susan@example.com", password="correct-horse"
        )
        weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
        user.password_hash = weak.hash("correct-horse")
        db.session.commit()

        assert authenticate(db.session, "susan", "correct-horse") is user
        db.session.commit()
        assert "m=512," not in user.password_hash
        assert not passwords.needs_rehash(user.password_hash)
        assert authenticate(db.session, "susan", "correct-horse") is user
