"""The list refresh job and the per-container index cache, on in-memory fakes of their ports."""
from __future__ import annotations

import dataclasses
import datetime as dt

from chalicelib.adapters.memory import (
    InMemorySanctionsIndexStore,
    RecordingMetrics,
    StaticListDownloader,
    StaticSettings,
)
from chalicelib.domain.policy import Policy
from chalicelib.domain.sanctions import OFAC_SDN, UN_SC, ScreeningIndex
from chalicelib.services.sanctions import SanctionsIndexCache, SanctionsListRefresh
from tests.support.sanctions_lists import fixture_documents

SDN_URL, ALT_URL, UN_URL = "https://lists.test/sdn.csv", "s3://mirror/alt.csv", "https://lists.test/un.xml"
POLICY = Policy(sanctions_ofac_sdn_url=SDN_URL, sanctions_ofac_alt_url=ALT_URL, sanctions_un_url=UN_URL,
                sanctions_max_shrink=0.1)


def MemoryDownloader(documents=None):  # noqa: N802 - reads like the class it builds
    files = fixture_documents()
    served = {SDN_URL: files["sdn.csv"], ALT_URL: files["alt.csv"], UN_URL: files["un_consolidated.xml"]}
    return StaticListDownloader(served if documents is None else documents)


MemoryIndexStore = InMemorySanctionsIndexStore


def Settings(policy=POLICY):  # noqa: N802
    return StaticSettings(policy)


class Counted(RecordingMetrics):
    @property
    def names(self) -> list[str]:
        return sorted(self.counts.elements())


def clock() -> dt.datetime:
    return dt.datetime(2026, 11, 29, 6, 0, tzinfo=dt.UTC)


def job(downloader=None, store=None, metrics=None, settings=None):
    return SanctionsListRefresh(downloader or MemoryDownloader(), store or MemoryIndexStore(),
                                settings or Settings(), metrics or Counted(), clock)


def test_first_run_publishes_an_index_of_both_lists():
    store = MemoryIndexStore()
    summary = job(store=store).refresh()
    assert summary["changed"] == 1 and summary["refused"] == {} and summary["failed"] == 0
    index = ScreeningIndex.loads(store.load(store.pointer["version"]))
    assert set(index.lists) == {OFAC_SDN, UN_SC}
    assert index.lists[OFAC_SDN].records == 7 and index.lists[UN_SC].individuals == 2
    assert store.pointer["lists"][OFAC_SDN]["fetched_at"] == clock().isoformat()


def test_unchanged_lists_publish_no_new_version():
    store = MemoryIndexStore()
    first = job(store=store).refresh()
    second = job(store=store).refresh()
    assert second["changed"] == 0 and second["version"] == first["version"] and len(store.blobs) == 1


def test_a_shrunken_list_is_refused_counted_and_its_last_good_copy_kept():
    store, metrics = MemoryIndexStore(), Counted()
    first = job(store=store).refresh()
    downloader = MemoryDownloader()
    lines = downloader.documents[SDN_URL].split(b"\r\n")
    downloader.documents[SDN_URL] = b"\r\n".join(lines[:3])  # 3 of 7 records
    downloader.documents[UN_URL] = downloader.documents[UN_URL].replace(b"HAMID", b"HAMED")  # a real change
    summary = job(downloader, store, metrics).refresh()
    assert list(summary["refused"]) == [OFAC_SDN] and summary["failed"] == 1
    assert metrics.names.count("SanctionsListRefused") == 1
    assert summary["changed"] == 1 and summary["version"] != first["version"]
    index = ScreeningIndex.loads(store.load(store.pointer["version"]))
    assert index.lists[OFAC_SDN].records == 7  # the last good SDN list, not the truncated one
    assert {e.entry_id for e in index.entries if e.source == OFAC_SDN} == {"1001", "1003", "1005", "1006", "1007"}
    assert any(e.name.startswith("HAMED") for e in index.entries)


def test_an_unparseable_or_missing_download_is_refused_and_nothing_is_published_over_it():
    store = MemoryIndexStore()
    first = job(store=store).refresh()
    broken = MemoryDownloader()
    broken.documents[UN_URL] = b"<html>maintenance</html>"
    del broken.documents[ALT_URL]
    summary = job(broken, store).refresh()
    assert set(summary["refused"]) == {OFAC_SDN, UN_SC}
    assert summary["changed"] == 0 and store.pointer["version"] == first["version"]


def test_nothing_is_published_when_the_very_first_download_fails():
    store = MemoryIndexStore()
    summary = job(MemoryDownloader({}), store).refresh()
    assert summary["failed"] == 2 and store.pointer is None


def test_the_shrink_limit_is_a_setting():
    store = MemoryIndexStore()
    job(store=store).refresh()
    downloader = MemoryDownloader()
    downloader.documents[SDN_URL] = b"\r\n".join(downloader.documents[SDN_URL].split(b"\r\n")[:5])  # 5 of 7
    lenient = Settings(dataclasses.replace(POLICY, sanctions_max_shrink=0.5))
    assert job(downloader, store, settings=lenient).refresh()["refused"] == {}


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_loads_once_and_reloads_only_when_the_version_changes():
    store, ticks, metrics = MemoryIndexStore(), Ticks(), Counted()
    cache = SanctionsIndexCache(store, metrics, check_seconds=60, monotonic=ticks)
    assert cache.get() is None  # nothing published yet
    job(store=store).refresh()
    ticks.now = 61
    first = cache.get()
    assert first is not None and metrics.names == ["SanctionsIndexLoaded"]
    reads = store.pointer_reads
    ticks.now = 100
    assert cache.get() is first and store.pointer_reads == reads  # within a minute: no S3 call at all
    ticks.now = 200
    assert cache.get() is first and metrics.names == ["SanctionsIndexLoaded"]  # same version: no reload
    downloader = MemoryDownloader()
    downloader.documents[UN_URL] = downloader.documents[UN_URL].replace(b"HAMID", b"HAMED")
    job(downloader, store).refresh()
    ticks.now = 300
    second = cache.get()
    assert second is not first and second.version == store.pointer["version"]
    assert metrics.names == ["SanctionsIndexLoaded", "SanctionsIndexLoaded"]


def test_an_unreadable_new_version_keeps_the_loaded_index():
    store, ticks, metrics = MemoryIndexStore(), Ticks(), Counted()
    job(store=store).refresh()
    cache = SanctionsIndexCache(store, metrics, check_seconds=0, monotonic=ticks)
    loaded = cache.get()
    store.publish("broken", b"not an index", {"lists": {}})
    assert cache.get() is loaded and "SanctionsIndexUnloadable" in metrics.names


def test_a_refresh_that_adds_or_changes_entries_records_the_delta_to_rescreen_customers_against():
    store = MemoryIndexStore()
    job(store=store).refresh()
    files = fixture_documents()
    added = b'1099,"NEWLY, Listed Person","individual","SDGT","-0-","-0-","-0-","-0-","-0-","-0-","-0-","-0-"\r\n'
    changed_alt = files["alt.csv"].replace(b"\x1a", b"") + b'1003,599,"aka","PETROVSKY, Dmitry",-0-\r\n\x1a'
    downloader = MemoryDownloader({SDN_URL: files["sdn.csv"].replace(b"\x1a", b"") + added + b"\x1a",
                                   ALT_URL: changed_alt, UN_URL: files["un_consolidated.xml"]})
    summary = job(downloader=downloader, store=store).refresh()
    assert summary["changed"] == 1 and summary["added_or_changed"] == 2
    assert sorted(map(tuple, store.pointer["delta"]["entries"])) == [(OFAC_SDN, "1003"), (OFAC_SDN, "1099")]


def test_the_refresh_reads_the_list_urls_fresh_not_from_a_cached_policy():
    class Cached(StaticSettings):
        """A container's settings whose cached copy still has the old URL."""

        def policy(self):
            return dataclasses.replace(super().policy(), sanctions_un_url="https://old.example/un.xml")

    downloader = MemoryDownloader()
    job(downloader=downloader, settings=Cached(POLICY)).refresh()
    assert UN_URL in downloader.fetched and "https://old.example/un.xml" not in downloader.fetched
