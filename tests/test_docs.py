"""The docs hold: every relative link resolves, and every ``sh`` block runs.

The conventions for writing docs are at the top of docs/local-stack.md.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
#: A link followed by this comment (before the next link on its line) may name a file that is
#: not there yet: another engineer is writing it. The lead removes the mark when it lands.
PENDING = "<!-- pending"


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, fenced = set(), False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            found.add(slug(line.lstrip("#")))
    return found


def links(path: Path) -> list[tuple[int, str, bool]]:
    """(line number, target, pending) of every Markdown link outside code blocks."""
    found, fenced = [], False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        matches = list(LINK.finditer(line))
        for index, match in enumerate(matches):
            end = matches[index + 1].start() if index + 1 < len(matches) else len(line)
            found.append((number, match.group(1), PENDING in line[match.end():end]))
    return found


@pytest.mark.no_stack
@pytest.mark.parametrize("path", DOCS, ids=_relative)
def test_every_relative_link_resolves(path: Path) -> None:
    broken = []
    for number, target, pending in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            if not pending:
                broken.append(f"{_relative(path)}:{number}: {target}: no such file (mark it "
                              f"'{PENDING}: <who> -->' if someone is writing it)")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{_relative(path)}:{number}: {target}: no heading #{anchor} in "
                          f"{_relative(resolved)}")
    assert not broken, "\n".join(broken)


@pytest.mark.no_stack
def test_the_readme_is_a_front_door() -> None:
    """Short enough to read in ten minutes, and it shows CI's exact command."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    ci = (ROOT / ".ci" / "run").read_text()
    command = [line for line in ci.splitlines() if line.startswith("./dev ")]
    assert command == ["./dev test"], "CI runs exactly ./dev test"
    assert "\n./dev test " in readme or "\n./dev test\n" in readme
    documented = {target.split("#")[0] for _number, target, _pending in links(ROOT / "README.md")}
    missing = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")} - documented
    assert not missing, f"the README's 'Where to go next' links every page of docs/: add {sorted(missing)}"
