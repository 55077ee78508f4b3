"""A wheel of Microblog holds everything the code reads from beside itself: templates, static
files, the migrations' own files and the translations. Installed without `-e`, a package that
lacked them would start and then fail on the first page or `microblog db upgrade`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tracked_package_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "microblog", "pyproject.toml", "README.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [name for name in listed if (ROOT / name).is_file()]


def test_the_wheel_holds_every_file_of_the_package(tmp_path: Path) -> None:
    source = tmp_path / "source"
    files = _tracked_package_files()
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    catalog = Path("microblog/translations/es/LC_MESSAGES/messages.mo")
    (source / catalog).write_bytes((ROOT / catalog).read_bytes())  # built by `make catalogs`

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", "dist", "./source"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )

    (wheel,) = (tmp_path / "dist").glob("microblog-*.whl")
    held = set(zipfile.ZipFile(wheel).namelist())
    wanted = {name for name in files if name.startswith("microblog/")} | {catalog.as_posix()}
    assert sorted(wanted - held) == []
    assert {"microblog/web/templates/base.html", "microblog/migrations/alembic.ini"} <= held
