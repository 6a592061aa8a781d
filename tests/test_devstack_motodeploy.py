"""devstack/motodeploy.py patches moto's API Gateway when something first imports it, not at apply().

Importing ``moto.apigateway.models`` costs about 1.2 s of CPU (openapi_spec_validator, jsonschema), and the
local stack's moto process applies the patches at every start although nothing calls API Gateway unless a
rehearsal deploys into it. The deploy rehearsal (tests/test_deploy_rehearsal.py) proves the patched import
works; these tests prove the deferral does not lose it.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from devstack import motodeploy

pytestmark = pytest.mark.no_stack


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package of our own, never imported yet, with a class to patch in its submodule."""
    root = tmp_path / "deferred_patch_probe"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "models.py").write_text("class Backend:\n    def call(self):\n        return 'original'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "deferred_patch_probe.models"
    for name in ("deferred_patch_probe.models", "deferred_patch_probe"):
        sys.modules.pop(name, None)


def test_a_patch_waits_for_the_first_import_and_runs_once_before_the_importer_sees_the_module(package: str):
    calls = []

    def patch() -> None:
        module = sys.modules[package]  # executed by now: its class is there to patch
        calls.append(module.Backend.call(module.Backend()))
        module.Backend.call = lambda self: "patched"

    motodeploy.when_imported(package, patch)
    assert calls == [] and package not in sys.modules

    from deferred_patch_probe.models import Backend  # type: ignore[import-not-found]

    assert calls == ["original"] and Backend().call() == "patched"
    assert not any(isinstance(finder, motodeploy._PatchAfterImport) and finder.name == package
                   for finder in sys.meta_path)  # its finder is gone once used
    importlib.reload(sys.modules[package])
    assert calls == ["original"]  # once, not at every load


def test_a_patch_for_a_module_already_imported_runs_at_once(package: str):
    importlib.import_module(package)
    calls = []
    motodeploy.when_imported(package, lambda: calls.append("now"))
    assert calls == ["now"]


def test_apply_leaves_moto_api_gateway_patched_or_patched_when_it_is_first_imported():
    motodeploy.apply()
    name = "moto.apigateway.models"
    if name in sys.modules:
        backend = sys.modules[name].APIGatewayBackend
        assert hasattr(backend.import_rest_api, "__wrapped__") and hasattr(backend.put_rest_api, "__wrapped__")
    else:
        assert any(isinstance(finder, motodeploy._PatchAfterImport) and finder.name == name
                   for finder in sys.meta_path)
