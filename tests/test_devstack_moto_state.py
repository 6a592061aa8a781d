"""--keep-state's save and load of moto's backends (devstack/moto_state.py), in process."""
from __future__ import annotations

import weakref
from pathlib import Path

from devstack import moto_state
from devstack.stack import app_lambda_functions


def test_a_used_lambda_backend_survives_a_save_and_a_load(tmp_path: Path):
    from moto.awslambda.models import lambda_backends

    account, region = "123456789012", "eu-central-1"
    backend = lambda_backends[account][region]  # its function index by ARN is a WeakValueDictionary
    assert isinstance(backend._lambdas._arns, weakref.WeakValueDictionary)
    path = tmp_path / "aws-state.pickle"
    try:
        assert moto_state.save(path) >= 1
        dict.pop(lambda_backends[account], region)
        assert moto_state.load(path) >= 1
        restored = lambda_backends[account][region]
        assert restored is not backend
        assert isinstance(restored._lambdas._arns, weakref.WeakValueDictionary)
    finally:
        dict.pop(lambda_backends[account], region, None)


def test_the_plain_lambda_functions_of_app_py_are_read_without_importing_it(tmp_path: Path):
    (tmp_path / "app.py").write_text(
        "import os\nfrom chalice import Chalice\napp = Chalice(app_name='x')\nos.environ['NOT_SET']\n"
        "@app.lambda_function(name='staff_token_groups')\ndef groups(event, context): ...\n"
        "@app.lambda_function()\ndef plain(event, context): ...\n"
        "@app.route('/')\ndef index(): ...\n")
    assert app_lambda_functions(tmp_path) == {"staff_token_groups", "plain"}
    assert app_lambda_functions(tmp_path / "missing") == set()
