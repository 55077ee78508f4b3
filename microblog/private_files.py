"""Files only the server's user may read: whatever on disk holds secrets or personal data.

The instance folder (the signing key, the SQLite database, the mail outbox with its reset
links) and everything in it are made private when they are made: directories 0700, files
0600, whatever the umask. What an older version left readable to others is tightened at
start, when it belongs to the server's user (a file of someone else's is left alone: the
server could not change it, and it is not the server's to judge).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    """`path`, made if missing (with its parents), readable by the server's user only."""
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    tighten(path, DIRECTORY_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """A new file at `path` holding `data`, private from its first byte (never 0644, even for
    a moment); it must not exist yet."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def create_private(path: Path) -> None:
    """An empty private file at `path`, unless there is a file already (then left as it is)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def tighten(path: Path, allowed: int = FILE_MODE) -> None:
    """Take from `path` any permission beyond `allowed`, if it exists and is ours."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return
    mode = stat.S_IMODE(status.st_mode)
    if mode & ~allowed and status.st_uid == os.geteuid():
        os.chmod(path, mode & allowed)
