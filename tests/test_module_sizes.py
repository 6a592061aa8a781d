"""Files a newcomer can hold in their head (issue 22): no Python module of the shipped code, the local
stack or the scripts passes ``MAX_LINES``.

A module that did before this rule is listed in ``STILL_OVER`` with the size it had: it may shrink, never
grow, and its entry goes once it is split (the test says so). Nothing imports in a circle either: that is
the ``no-cycles`` contract in .importlinter (run by tests/test_gates.py).
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 600
CHECKED = ("app.py", "chalicelib", "devstack", "scripts")

#: Modules over the limit when the rule came in, with their line counts then: to split, not to grow.
STILL_OVER: dict[str, int] = {
    "devstack/pumps.py": 659,
}


def line_counts() -> dict[str, int]:
    found: dict[str, int] = {}
    for top in CHECKED:
        path = ROOT / top
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            with file.open("rb") as handle:
                found[str(file.relative_to(ROOT))] = sum(1 for _ in handle)
    return found


@pytest.mark.no_stack
def test_no_module_passes_the_limit_and_the_old_ones_do_not_grow() -> None:
    counts = line_counts()
    too_long = {path: n for path, n in counts.items() if n > MAX_LINES and path not in STILL_OVER}
    grown = {path: (counts[path], was) for path, was in STILL_OVER.items() if counts.get(path, 0) > was}
    split = sorted(path for path in STILL_OVER if counts.get(path, 0) <= MAX_LINES)
    assert not too_long, f"over {MAX_LINES} lines: split by concern: {too_long}"
    assert not grown, f"grew (now, then); split instead: {grown}"
    assert not split, f"now within {MAX_LINES} lines (or gone): drop from STILL_OVER: {split}"


@pytest.mark.no_stack
def test_the_count_sees_every_package_it_guards() -> None:
    counts = line_counts()
    assert "app.py" in counts
    for top in CHECKED[1:]:
        assert any(path.startswith(top + "/") for path in counts), top
