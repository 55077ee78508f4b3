"""Configuration read from the environment."""

import os
import re
from pathlib import Path

import pytest

from microblog import create_app
from microblog.config import normalize_database_url


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
        ("postgresql://u@db/x", "postgresql+psycopg://u@db/x"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_from_hosting_platforms_are_accepted(given: str, used: str) -> None:
    assert normalize_database_url(given) == used


def test_database_url_comes_from_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/chosen.db")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/chosen.db"


def test_default_database_is_a_sqlite_file_in_the_instance_folder(monkeypatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/microblog.db"


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path) -> None:
    from microblog.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/pragmas.db"})
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        db.engine.dispose()


# --- the secret key ------------------------------------------------------------------------


def test_without_secret_key_a_server_generates_one_and_keeps_it_private(tmp_path) -> None:
    from microblog.config import SECRET_KEY_FILE, secret_key

    key = secret_key({}, str(tmp_path))

    kept = tmp_path / SECRET_KEY_FILE
    assert kept.read_text().strip() == key
    assert re.fullmatch(r"[0-9a-f]{64}", key)  # 256 random bits
    assert kept.stat().st_mode & 0o777 == 0o600
    # Every worker of the server, and the server after a restart, signs with the same key.
    assert secret_key({}, str(tmp_path)) == key
    assert [path.name for path in tmp_path.iterdir()] == [SECRET_KEY_FILE]


def test_a_secret_key_from_the_environment_is_used_as_it_is(monkeypatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "a-long-random-string-from-the-operator")
    app = create_app()
    assert app.config["SECRET_KEY"] == "a-long-random-string-from-the-operator"


@pytest.mark.parametrize("published", ["dev-only-not-secret", "change-me-to-a-long-random-string"])
def test_a_published_secret_key_stops_the_server_at_start(monkeypatch, published: str) -> None:
    monkeypatch.setenv("SECRET_KEY", published)
    with pytest.raises(RuntimeError, match=r"SECRET_KEY .* published"):
        create_app()


def test_a_test_app_without_a_key_gets_a_random_one_shared_by_the_process(tmp_path) -> None:
    from microblog.config import PUBLISHED_SECRET_KEYS, secret_key

    first = secret_key({"TESTING": True}, str(tmp_path))
    assert first not in PUBLISHED_SECRET_KEYS and len(first) == 64
    assert secret_key({"TESTING": True}, str(tmp_path / "other")) == first
    assert not any(tmp_path.iterdir())  # nothing written


def test_the_default_server_does_not_sign_with_a_published_key(monkeypatch) -> None:
    from microblog.config import PUBLISHED_SECRET_KEYS

    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app()
    assert app.config["SECRET_KEY"] not in PUBLISHED_SECRET_KEYS
    assert len(app.config["SECRET_KEY"]) >= 64
    assert app.config["DEBUG"] is False


# --- files that hold secrets ----------------------------------------------------------------


@pytest.fixture
def readable_umask():
    """The usual umask (files 0644, folders 0755), whatever the test runner's."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_instance_folder_is_private_to_the_server(readable_umask) -> None:
    app = create_app()
    instance = Path(app.instance_path)
    instance.chmod(0o755)  # as an older version left it

    create_app()

    assert instance.stat().st_mode & 0o777 == 0o700


def test_a_sqlite_database_and_its_wal_and_shm_files_are_private(readable_umask, tmp_path) -> None:
    from microblog.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/private.db"})
    with app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE notes (body TEXT)")
            conn.exec_driver_sql("INSERT INTO notes VALUES ('personal data')")
        files = {path.name: path.stat().st_mode & 0o777 for path in tmp_path.iterdir()}
        db.engine.dispose()

    assert files == {"private.db": 0o600, "private.db-wal": 0o600, "private.db-shm": 0o600}


def test_a_database_left_readable_by_an_older_version_is_made_private(
    readable_umask, tmp_path
) -> None:
    from microblog.extensions import db

    for name in ("old.db", "old.db-wal", "old.db-shm"):
        (tmp_path / name).touch(mode=0o644)

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/old.db"})
    with app.app_context():
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        db.engine.dispose()

    assert {path.stat().st_mode & 0o777 for path in tmp_path.iterdir()} == {0o600}


# --- the public address -------------------------------------------------------------------


def test_public_url_comes_from_the_environment(monkeypatch) -> None:
    from microblog.config import from_environment

    monkeypatch.setenv("PUBLIC_URL", "https://microblog.example.com/")
    assert from_environment("/tmp")["PUBLIC_URL"] == "https://microblog.example.com"


def test_without_public_url_links_lead_where_make_run_listens(monkeypatch) -> None:
    from microblog.config import from_environment

    for name in ("PUBLIC_URL", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    assert from_environment("/tmp")["PUBLIC_URL"] == "http://127.0.0.1:5000"
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "8000")
    assert from_environment("/tmp")["PUBLIC_URL"] == "http://0.0.0.0:8000"


@pytest.mark.parametrize(
    "wrong", ["microblog.example.com", "ftp://example.com", "https://", "https://x.org/?a=1"]
)
def test_a_public_url_that_is_no_web_address_stops_the_server_at_start(
    monkeypatch, wrong: str
) -> None:
    monkeypatch.setenv("PUBLIC_URL", wrong)
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        create_app()


def test_behind_a_proxy_without_public_url_the_server_says_so(monkeypatch) -> None:
    from microblog.config import public_url_warning

    assert public_url_warning({}) is None
    assert public_url_warning({"TRUSTED_PROXIES": "1", "PUBLIC_URL": "https://x.org"}) is None
    warning = public_url_warning({"TRUSTED_PROXIES": "1", "PORT": "8001"})
    assert warning and "PUBLIC_URL is not set" in warning and "http://127.0.0.1:8001" in warning


def test_export_batch_size_comes_from_the_environment(monkeypatch) -> None:
    from microblog.config import from_environment

    assert from_environment("/tmp")["EXPORT_BATCH_SIZE"] == 500
    monkeypatch.setenv("EXPORT_BATCH_SIZE", "50")
    assert from_environment("/tmp")["EXPORT_BATCH_SIZE"] == 50


def test_only_postgresql_connections_are_tested_as_they_leave_the_pool(tmp_path) -> None:
    from microblog import create_app

    sqlite = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db", "TESTING": True})
    postgresql = create_app(
        {"SQLALCHEMY_DATABASE_URI": "postgresql://postgres@127.0.0.1/none", "TESTING": True}
    )
    assert sqlite.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    assert postgresql.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
