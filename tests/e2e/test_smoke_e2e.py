"""The pipeline's smoke test (scripts/smoke.py), run against the local stack's URLs as against a deployed stage."""
from __future__ import annotations

from scripts.smoke import run


def test_the_smoke_test_passes_against_the_local_stack(local_stack):
    printed: list[str] = []
    assert run(local_stack.api_url + "/", local_stack.ws_url, None, out=printed.append), printed
    assert [line.split(":")[0] for line in printed] == [
        "ok    REST health", "ok    REST OpenAPI document", "ok    REST refuses anonymous", "ok    console",
        "ok    WebSocket refuses anonymous"]


def test_the_smoke_test_fails_when_a_url_is_wrong(local_stack):
    printed: list[str] = []
    assert not run(local_stack.api_url + "/nothing-here/", None, None, out=printed.append)
    assert any(line.startswith("FAIL  REST health") for line in printed)
