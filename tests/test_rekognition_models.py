"""The local Rekognition refuses to start, loudly and naming the fix, without its model files."""

from __future__ import annotations

import pytest

from devstack.rekognition import engine

pytestmark = pytest.mark.no_stack  # devstack's code, no AWS needed


def test_a_missing_model_file_is_named_with_the_fix(monkeypatch):
    monkeypatch.setitem(engine.MODEL_FILES, "landmarks", "no_such_model.dat")
    with pytest.raises(engine.ModelsMissing) as raised:
        engine.model_paths()
    message = str(raised.value)
    assert "no_such_model.dat" in message and "requirements-dev.txt" in message


def test_the_stack_reports_it_as_a_startup_error_not_a_traceback():
    import inspect

    from devstack import __main__ as cli

    assert "ModelsMissing" in inspect.getsource(cli._up)


def test_the_installed_models_are_found():
    paths = engine.model_paths()
    assert set(paths) == {"landmarks", "descriptor"} and all(path.stat().st_size > 1_000_000 for path in paths.values())
