"""The history is never sealed, verified or paged unkeyed: the service refuses to be built without its chain key
and refuses an empty one; the history cursor is MACed under a key derived from the chain key for that purpose
alone, so a cursor tag can never stand for a chain MAC (or be made from one)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from chalicelib.adapters.memory import InMemoryApplicationRepository
from chalicelib.services.applications import ApplicationService, ChainKeyMissing
from chalicelib.services.ports import InvalidCursor
from tests.support.fakes import fake_services, submit


def decode(cursor: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def under(key: bytes, label: str, app_id: str, place: int, text: str) -> bytes:
    """What a MAC of the cursor's fields under ``key`` is (the cursor's message format)."""
    message = json.dumps([label, app_id, place, text], separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def paged(svc: Any, applicant: Any) -> tuple[str, str]:
    """An application whose history has a second page; (its id, the first page's cursor)."""
    app_id = submit(svc, applicant).application_id
    svc.applications.withdraw(applicant, app_id, "changed my mind")
    cursor = svc.applications.history(applicant, app_id, 1).next_cursor
    assert cursor is not None
    return app_id, cursor


def test_the_service_is_not_built_without_a_chain_key():
    with pytest.raises(ChainKeyMissing):
        ApplicationService(InMemoryApplicationRepository(), chain=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ApplicationService(InMemoryApplicationRepository())  # type: ignore[call-arg]


def test_an_empty_chain_key_seals_nothing_and_pages_nothing(clock, applicant):
    svc = fake_services(clock)
    app_id, cursor = paged(svc, applicant)
    commits = svc.repository.commits
    svc.chain_key._secret = b""  # a key that went missing: refused, never used as b""
    with pytest.raises(ChainKeyMissing):
        submit(svc, applicant)
    assert svc.repository.commits == commits  # nothing was written unkeyed
    with pytest.raises(ChainKeyMissing):
        svc.applications.history(applicant, app_id, 1)  # neither a page nor a cursor is issued
    with pytest.raises(ChainKeyMissing):
        svc.applications.history(applicant, app_id, 1, cursor)  # nor one accepted


def test_the_cursor_is_not_macd_under_the_chain_key(svc, applicant):
    app_id, cursor = paged(svc, applicant)
    issued, chain = decode(cursor), svc.chain_key.secret()
    assert svc.applications.history(applicant, app_id, 1, cursor).events  # the server's own cursor pages on
    text = f"{issued['h']}:{issued['r']}"
    assert issued["t"] != under(chain, "history-cursor", app_id, issued["n"], text).hex()
    # the same cursor, its seq padded and its fields tagged under the chain key itself: refused
    [seq] = [e.seq for e in svc.repository.history(app_id) if e.hash == issued["h"]]  # the page's last event
    pad = int.from_bytes(under(chain, "history-cursor-seq", app_id, issued["n"], issued["h"]), "big")
    forged = {**issued, "r": f"{pad ^ seq:064x}"}
    forged["t"] = under(chain, "history-cursor", app_id, forged["n"], f"{forged['h']}:{forged['r']}").hex()
    with pytest.raises(InvalidCursor):
        svc.applications.history(applicant, app_id, 1, encode(forged))


def test_a_cursor_is_bound_to_the_chain_key_it_was_issued_under(clock, applicant):
    svc = fake_services(clock)
    app_id, cursor = paged(svc, applicant)
    svc.chain_key._secret = b"another history chain key, 256 bits at least"  # another stage's, or rotated
    with pytest.raises(InvalidCursor):
        svc.applications.history(applicant, app_id, 1, cursor)

