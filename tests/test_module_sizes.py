"""Files a newcomer can hold in their head (issue 22): no Python module of app.py, the shipped code, the
local stack, the scripts or the benchmarks passes ``MAX_LINES``; a module that grows past it is split by concern.

Nothing imports in a circle either: that is the ``no-cycles`` contract in .importlinter (import-linter's
``acyclic_siblings``, run by tests/test_gates.py).
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 600
CHECKED = ("app.py", "chalicelib", "devstack", "scripts", "bench")


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
def test_no_module_passes_the_limit() -> None:
    too_long = {path: n for path, n in line_counts().items() if n > MAX_LINES}
    assert not too_long, f"over {MAX_LINES} lines: split by concern (one module per concern): {too_long}"


@pytest.mark.no_stack
def test_the_count_sees_every_package_it_guards() -> None:
    counts = line_counts()
    assert "app.py" in counts
    for top in CHECKED[1:]:
        assert any(path.startswith(top + "/") for path in counts), top
