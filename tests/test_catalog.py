"""The Spanish catalog is complete: every message the code can show has a translation.

The messages are extracted from the code as `make catalogs-update` does (same configuration,
same keywords), so a message added without a translation, or changed without its translation
being checked (left fuzzy), fails here. The domain's errors are checked to be marked for
extraction at all: a message not marked is one the extractor never sees.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "microblog"
SPANISH = PACKAGE / "translations" / "es" / "LC_MESSAGES" / "messages.po"
# A printf-style placeholder as Python's % reads it: %(name)s, %(num)d, %(code)04X.
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z]")
# The doors' own messages (the API's English, the site's gettext calls) are not domain errors.
DOORS = ("api", "web")


def extraction_keywords() -> list[str]:
    """The `-k` keywords of the Makefile's `pybabel extract`, the one place they are said."""
    makefile = (ROOT / "Makefile").read_text()
    command = next(line for line in makefile.splitlines() if "pybabel extract" in line)
    return re.findall(r"-k (\S+)", command)


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def messages(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    pot = tmp_path_factory.mktemp("catalog") / "messages.pot"
    keywords = [arg for keyword in extraction_keywords() for arg in ("-k", keyword)]
    pybabel = Path(sys.executable).with_name("pybabel")
    done = subprocess.run(
        [pybabel, "extract", "-F", "babel.cfg", *keywords, "-o", pot, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return read_catalog(pot)


def test_the_extraction_knows_the_lazy_and_the_domain_keywords() -> None:
    assert {"_l", "N_"} <= set(extraction_keywords())


def test_the_domain_s_messages_are_extracted(extracted: Catalog) -> None:
    ids = {message.id for message in messages(extracted)}
    assert "you already follow %(username)s" in ids
    assert "email is not a valid address: %(reason)s" in ids


def test_every_message_in_the_code_has_a_spanish_translation(extracted: Catalog) -> None:
    spanish = read_catalog(SPANISH)
    missing, fuzzy = [], []
    for message in messages(extracted):
        translation = spanish.get(message.id)
        strings = translation and (
            translation.string if isinstance(translation.string, tuple) else [translation.string]
        )
        if translation is None or not all(strings):
            missing.append(message.id)
        elif translation.fuzzy:
            fuzzy.append(message.id)
    assert (missing, fuzzy) == ([], []), "run `make catalogs-update` and translate these"


def test_every_translation_keeps_the_placeholders_of_its_message() -> None:
    changed = []
    for message in messages(read_catalog(SPANISH)):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for index, string in enumerate(strings):
            msgid = ids[min(index, len(ids) - 1)]
            if Counter(PLACEHOLDER.findall(msgid)) != Counter(PLACEHOLDER.findall(string)):
                changed.append((msgid, string))
    assert changed == []


def _domain_modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] not in DOORS:
            yield path, ast.parse(path.read_text(), str(path))


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _template_positions(modules: list[ast.Module]) -> dict[str, int]:
    """{error class: position of its template argument}: 0, or 1 after Invalid's field."""
    positions = {"DomainError": 0, "Invalid": 1}
    grown = True
    while grown:
        grown = False
        for module in modules:
            for node in ast.walk(module):
                if isinstance(node, ast.ClassDef) and node.name not in positions:
                    bases = [positions.get(_name(base) or "") for base in node.bases]
                    known = [position for position in bases if position is not None]
                    if known:
                        positions[node.name] = known[0]
                        grown = True
    return positions


def test_every_domain_error_is_raised_with_a_template_marked_for_extraction() -> None:
    """A literal or an f-string would reach Spanish readers in English: templates go through
    N_() where they are written (or are names for values that did)."""
    modules = dict(_domain_modules())
    positions = _template_positions(list(modules.values()))
    unmarked, not_literal = [], []
    for path, module in modules.items():
        for node in ast.walk(module):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            callee = _name(node.func)
            if callee == "N_":
                text = node.args[0] if len(node.args) == 1 else None
                if not (isinstance(text, ast.Constant) and isinstance(text.value, str)):
                    not_literal.append(where)
            elif callee in positions and len(node.args) > positions[callee]:
                template = node.args[positions[callee]]
                if isinstance(template, ast.Call):
                    marked = _name(template.func) == "N_"
                else:
                    marked = isinstance(template, ast.Name | ast.Subscript | ast.Attribute)
                if not marked:
                    unmarked.append(where)
    assert unmarked == [], "mark these messages with N_() and pass their values apart"
    assert not_literal == [], "N_() takes one string literal, or the extractor skips it"
