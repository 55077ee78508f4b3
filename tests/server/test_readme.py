"""The README's HTTPie session, run as written against the real server."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.server.live_support import REPO_ROOT, VENV_BIN, LiveServer

pytestmark = pytest.mark.live


def readme_block(heading: str) -> str:
    """The first ```sh block after `heading` in README.md."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.partition(f"\n{heading}\n")[2]
    assert section, f"README.md has no {heading!r} heading"
    match = re.search(r"^```sh\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert match, f"no ```sh block under {heading!r} in README.md"
    return match.group(1)


def json_documents(text: str) -> list[Any]:
    """The JSON bodies HTTPie printed one after another (it prints bodies only to a pipe)."""
    decoder = json.JSONDecoder()
    documents, position = [], 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return documents
        document, position = decoder.raw_decode(text, position)
        documents.append(document)


def run_in_terminal(
    script: Path, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """bash `script` with a terminal as standard input, as a person would run it.

    HTTPie reads a request body from standard input whenever it is not a terminal, and then
    refuses `key=value` data; under CI standard input is no terminal.
    """
    controller, terminal = pty.openpty()
    try:
        return subprocess.run(
            ["bash", str(script)],
            stdin=terminal,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=120,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)


def test_readme_httpie_session_runs_verbatim(fresh_live_server: LiveServer, tmp_path: Path) -> None:
    block = readme_block("## Try the API")
    assert ":5000" in block
    script = tmp_path / "try-the-api.sh"
    script.write_text("set -euo pipefail\n" + block.replace(":5000", f":{fresh_live_server.port}"))
    # HTTPie's own settings, so a developer's ~/.config/httpie cannot change the outcome.
    config = tmp_path / "httpie"
    config.mkdir()
    (config / "config.json").write_text('{"disable_update_warnings": true}')
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HTTPIE_CONFIG_DIR": str(config),
    }

    result = run_in_terminal(script, env, tmp_path)

    report = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, report
    bodies = json_documents(result.stdout)
    # What HTTPie printed, in order (the 204s of follow and revoke print nothing).
    assert len(bodies) == 7, report
    registered, me, susans_post, johns_post, feed, users, last = bodies
    assert registered["username"] == "susan"
    assert registered["email"] == "susan@example.com"
    assert me["id"] == registered["id"]
    assert me["email"] == "susan@example.com"
    assert susans_post["body"] == "Hello, Microblog!"
    assert susans_post["author"]["username"] == "susan"
    assert johns_post["author"]["username"] == "john"
    # Susan follows John: his post, then hers, newest first.
    assert [post["id"] for post in feed["items"]] == [johns_post["id"], susans_post["id"]]
    assert users["_meta"]["per_page"] == 5
    assert [user["username"] for user in users["items"]] == ["susan", "john"]
    assert last["message"] == "the token has been revoked"
