"""The sanctions ports: the in-memory fakes and the real adapters (S3, HTTP on loopback) behave alike."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters import memory
from chalicelib.services.ports import DownloadFailed
from tests.contracts.conftest import KINDS
from tests.support.deadlines import REPLY_S


@pytest.fixture(params=KINDS)
def index_store(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return memory.InMemorySanctionsIndexStore()
    import boto3

    from chalicelib.adapters.s3_sanctions_index import S3SanctionsIndexStore

    s3 = boto3.client("s3")
    bucket = f"sanctions-contract-{uuid.uuid4().hex[:12]}"  # never the app's bucket: its pointer is in use
    s3.create_bucket(Bucket=bucket)
    return S3SanctionsIndexStore(s3, bucket)


class _Files(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"not found")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(params=KINDS)
def downloader(request: pytest.FixtureRequest) -> Iterator[tuple[Any, dict[str, bytes]]]:
    """(downloader, documents by URL): an https-like URL served on 127.0.0.1, and an s3:// URL."""
    if request.param == "fake":
        documents = {"http://lists.test/sdn.csv": b"1,2,3", "s3://mirror/alt.csv": b"4,5"}
        yield memory.StaticListDownloader(documents), documents
        return
    import boto3

    from chalicelib.adapters.list_downloads import UrlListDownloader

    s3 = boto3.client("s3")
    bucket = f"lists-contract-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="alt.csv", Body=b"4,5")
    _Files.files = {"/sdn.csv": b"1,2,3"}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        documents = {f"http://127.0.0.1:{server.server_port}/sdn.csv": b"1,2,3", f"s3://{bucket}/alt.csv": b"4,5"}
        yield UrlListDownloader(s3, timeout=REPLY_S), documents
    finally:
        server.shutdown()
        server.server_close()


def test_no_pointer_before_the_first_index(index_store):
    assert index_store.current() is None


def test_a_published_version_is_loadable_and_the_pointer_carries_the_manifest(index_store):
    index_store.publish("v1", b"\x1f\x8bfirst", {"built_at": "t1", "lists": {"OFAC-SDN": {"records": 7}}})
    pointer = index_store.current()
    assert pointer["version"] == "v1" and pointer["built_at"] == "t1"
    assert pointer["lists"] == {"OFAC-SDN": {"records": 7}}
    assert index_store.load("v1") == b"\x1f\x8bfirst"
    index_store.publish("v2", b"second", {"built_at": "t2", "lists": {}})
    assert index_store.current()["version"] == "v2"
    assert index_store.load("v1") == b"\x1f\x8bfirst"  # old versions stay, for audit


def test_republishing_without_a_blob_moves_only_the_pointer(index_store):
    index_store.publish("v1", b"blob", {"checked_at": "t1", "lists": {}})
    index_store.publish("v1", None, {"checked_at": "t2", "lists": {}})
    assert index_store.current()["checked_at"] == "t2" and index_store.load("v1") == b"blob"


def test_loading_an_unknown_version_raises(index_store):
    with pytest.raises(Exception):  # noqa: B017 - a missing version is a broken pointer: the caller logs it
        index_store.load("nope")


def test_a_download_returns_the_bytes_or_raises_download_failed(downloader):
    fetcher, documents = downloader
    for url, body in documents.items():
        assert fetcher.fetch(url) == body
    for url in documents:
        with pytest.raises(DownloadFailed):
            fetcher.fetch(url.replace(".csv", "-missing.csv"))
