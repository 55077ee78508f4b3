"""SECURITY.md cites tests as evidence; a cited test that does not exist proves nothing.

Each table cell names tests in code spans, as `tests/dir/test_file.py::test_name`; a later
`::test_name` in the same cell refers to the last file named before it. A parametrized test is
cited without its brackets (or with them, as `::test_name[id]`). A file named alone must exist.
These tests read the document and check every citation against the test files.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECURITY_MD = ROOT / "SECURITY.md"

# A code span holding a file path (tests/....py) optionally followed by ::name, or a bare
# ::name continuation; parameters in brackets are left out of the name.
CITATION = re.compile(
    r"`(?:(?P<path>tests/[\w/]+\.py)(?:::(?P<name>\w+))?|::(?P<more>\w+))(?:\[[^`\]]*\])?`"
)


def cells(text: str) -> list[str]:
    """The document split into table cells; prose outside tables counts as one cell per line."""
    found = []
    for line in text.splitlines():
        found.extend(line.split("|") if line.lstrip().startswith("|") else [line])
    return found


def citations(text: str) -> list[tuple[str, str | None]]:
    """Every (file, test name or None) the document cites, continuations resolved per cell."""
    cited: list[tuple[str, str | None]] = []
    for cell in cells(text):
        last_file = None
        for match in CITATION.finditer(cell):
            if match["path"]:
                last_file = match["path"]
                cited.append((last_file, match["name"]))
            else:
                assert last_file, f"'::{match['more']}' follows no file in: {cell.strip()}"
                cited.append((last_file, match["more"]))
    return cited


def functions_defined(path: Path) -> set[str]:
    """Names of the functions defined at module level or in a class of a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defs = list(tree.body)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            defs.extend(node.body)
    return {node.name for node in defs if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_test_security_md_cites_exists() -> None:
    cited = citations(SECURITY_MD.read_text(encoding="utf-8"))
    assert len(cited) > 100, "the document should cite its tests"
    missing = []
    for file, name in cited:
        path = ROOT / file
        if not path.is_file():
            missing.append(file)
        elif name is not None and name not in functions_defined(path):
            missing.append(f"{file}::{name}")
    assert not missing, f"SECURITY.md cites tests that do not exist: {sorted(set(missing))}"


def test_a_continuation_refers_to_the_last_file_named_in_its_cell() -> None:
    text = (
        "| file::test | `tests/x/test_a.py::test_one`, `::test_two[a,b]`; `tests/test_b.py` "
        "| `tests/c.py::t` |"
    )
    assert citations(text) == [
        ("tests/x/test_a.py", "test_one"),
        ("tests/x/test_a.py", "test_two"),
        ("tests/test_b.py", None),
        ("tests/c.py", "t"),
    ]
