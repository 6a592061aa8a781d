"""The local stack's cache of the sanctions index's filing (devstack/sanctions_filing.py): a process that loads
what another filed screens exactly as one that filed itself, and anything that decides the filing makes another."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from chalicelib.domain.sanctions import Applicant, ScreeningIndex, ScreeningPolicy, parse_sdn, parse_un, screen
from devstack import sanctions_filing
from devstack.sanctions_filing import CODE_DIR, cached_filing, code_version

pytestmark = pytest.mark.no_stack

SYNTHETIC = Path(__file__).parent / "data" / "sanctions" / "synthetic"
APPLICANTS = [
    Applicant(names=(name,), date_of_birth=born, nationality=nationality)
    for name, born, nationality in [
        ("Erika Mustermann", dt.date(1990, 1, 1), "DEU"),
        ("Mohamed Mostafa", dt.date(1976, 5, 2), "EGY"),
        ("Kim Jong Un", None, None),
    ]
]
ORIGINAL = ScreeningIndex._file  # pytest imports this module before any stack seeds (and installs the cache)


def fresh_index() -> ScreeningIndex:
    sdn = parse_sdn((SYNTHETIC / "sdn.csv").read_text(), (SYNTHETIC / "alt.csv").read_text())
    return ScreeningIndex.build([sdn, parse_un((SYNTHETIC / "un_consolidated.xml").read_bytes())], built_at="t")


def filed_state(index: ScreeningIndex) -> dict:
    return {name: getattr(index, name) for name in sorted(ScreeningIndex._FILED) if name != "_lead_cache"}


@pytest.fixture
def counted():
    """The original filing, counting its runs (whatever this process installed over it)."""
    runs: list[str] = []

    def file(index):
        runs.append(index.version)
        ORIGINAL(index)

    return file, runs


def test_a_second_process_loads_the_filing_and_screens_exactly_as_the_first(tmp_path, counted):
    file, runs = counted
    cached = cached_filing(file, tmp_path, min_entries=0)
    first, second = fresh_index(), fresh_index()
    cached(first)
    assert runs == [first.version] and len(list(tmp_path.glob("*.pickle"))) == 1
    cached(second)  # as another process would: a new index object of the same content
    assert runs == [first.version], "the second filing was done again instead of loaded"
    assert ScreeningIndex._FILED <= set(vars(second)), "loaded, yet not set on the index"
    assert filed_state(second) == filed_state(first)
    policy = ScreeningPolicy(review_threshold=0.85)
    for applicant in APPLICANTS:
        assert screen(second, applicant, policy) == screen(first, applicant, policy)


def test_other_code_or_other_content_is_filed_again(tmp_path, counted):
    file, runs = counted
    code = tmp_path / "code"
    shutil.copytree(CODE_DIR, code)
    cache = tmp_path / "cache"
    cached_filing(file, cache, min_entries=0, code_dir=code)(fresh_index())
    before = code_version(code)
    (code / "index.py").write_text((code / "index.py").read_text() + "\n# changed\n")
    assert code_version(code) != before
    cached_filing(file, cache, min_entries=0, code_dir=code)(fresh_index())
    assert len(runs) == 2, "a filing made by other code was reused"

    smaller = fresh_index()
    smaller = ScreeningIndex(smaller.entries[1:], smaller.lists, "t")
    cached_filing(file, cache, min_entries=0, code_dir=code)(smaller)
    assert len(runs) == 3 and runs[-1] == smaller.version != runs[0], "other lists reused the filing"


def test_an_unreadable_file_is_filed_again_and_rewritten(tmp_path, counted):
    file, runs = counted
    cached = cached_filing(file, tmp_path, min_entries=0)
    cached(fresh_index())
    (kept,) = tmp_path.glob("*.pickle")
    kept.write_bytes(kept.read_bytes()[:1000])  # torn
    index = fresh_index()
    cached(index)
    assert len(runs) == 2
    assert filed_state(index) == filed_state(fresh_index())  # the original, uncached
    cached(fresh_index())
    assert len(runs) == 2, "the torn file was not rewritten"


def test_small_indexes_and_deltas_are_filed_as_before(tmp_path, counted):
    file, runs = counted
    cached_filing(file, tmp_path)(fresh_index())  # the synthetic lists: fewer than MIN_ENTRIES
    assert len(fresh_index().entries) < sanctions_filing.MIN_ENTRIES
    assert len(runs) == 1 and not list(tmp_path.glob("*.pickle"))
