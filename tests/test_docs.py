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


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every Markdown link outside code blocks."""
    found, fenced = [], False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        found.extend((number, match.group(1)) for match in LINK.finditer(line))
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """Each link of ``path`` that names no existing file of the repository (``root``), or a
    heading that its page does not have."""
    def shown(file: Path) -> str:
        return str(file.relative_to(root))

    broken = []
    for number, target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.is_file():
            broken.append(f"{shown(path)}:{number}: {target}: no such file")
        elif not resolved.is_relative_to(root):
            broken.append(f"{shown(path)}:{number}: {target}: outside the repository")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{shown(path)}:{number}: {target}: no heading #{anchor} in "
                          f"{shown(resolved)}")
    return broken


@pytest.mark.no_stack
@pytest.mark.parametrize("path", DOCS, ids=_relative)
def test_every_relative_link_resolves(path: Path) -> None:
    """Every link names a file that exists, in the repository: a page is linked when it lands,
    not before (no link to a page someone is still writing)."""
    broken = broken_links(path)
    assert not broken, "\n".join(broken)


@pytest.mark.no_stack
def test_the_link_check_finds_a_missing_page_a_missing_heading_and_a_way_out(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "testing.md").write_text("# Testing\n\n## Doc tests\n")
    (tmp_path / "outside.md").write_text("# Outside\n")
    page = root / "docs" / "page.md"
    page.write_text("# Page\n\n[fine](testing.md#doc-tests) [here](#page) [web](https://example.com)\n"
                    "[gone](face-someday.md) <!-- pending: someone -->\n"
                    "[no heading](testing.md#no-such-heading) [out](../../outside.md)\n"
                    "```text\n[in a code block](nowhere.md)\n```\n")
    assert broken_links(page, root) == [
        "docs/page.md:4: face-someday.md: no such file",
        "docs/page.md:5: testing.md#no-such-heading: no heading #no-such-heading in docs/testing.md",
        "docs/page.md:5: ../../outside.md: outside the repository",
    ]


@pytest.mark.no_stack
def test_the_readme_is_a_front_door() -> None:
    """Short enough to read in ten minutes, and it shows CI's exact command."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    ci = (ROOT / ".ci" / "run").read_text()
    command = [line for line in ci.splitlines() if line.startswith("./dev ")]
    assert command == ["./dev test"], "CI runs exactly ./dev test"
    assert "\n./dev test " in readme or "\n./dev test\n" in readme
    documented = {target.split("#")[0] for _number, target in links(ROOT / "README.md")}
    missing = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")} - documented
    assert not missing, ("the README's 'Where to go next' links every page of docs/: add a row "
                         f"for each of {sorted(missing)} (| you want to | [docs/x.md](docs/x.md) |)")
