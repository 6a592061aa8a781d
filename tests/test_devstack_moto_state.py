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


def test_checkpoints_count_what_may_change_the_state_and_write_it_whole_as_of_its_time(tmp_path: Path):
    """--keep-state through a kill -9 (devstack/moto_checkpoints.py): a change is written at the next checkpoint,
    the file's time is the state's, an unchanged state is not written again, and reads and SQS long polls pass
    without counting (a long poll would hold every checkpoint off)."""
    import time

    from devstack.moto_checkpoints import Checkpoints

    served = []

    def moto(environ, start_response):
        served.append(environ["REQUEST_METHOD"])
        start_response("200 OK", [])
        return [b"answer"]

    writes = []
    checkpoints = Checkpoints(tmp_path / "aws-state.pickle", lambda: (b"state %d" % len(served), 1),
                              lambda path, data, as_of: (moto_state.save(path, data, as_of), writes.append(as_of)))
    app = checkpoints.wrap(moto)

    def request(method: str, target: str = "") -> list[bytes]:
        return list(app({"REQUEST_METHOD": method, "HTTP_X_AMZ_TARGET": target}, lambda *a: None))

    assert checkpoints.checkpoint() is False and not writes  # nothing changed yet
    for method, target in [("GET", ""), ("HEAD", ""), ("POST", "AmazonSQS.ReceiveMessage"),
                           ("POST", "DynamoDB_20120810.Query"), ("POST", "DynamoDB_20120810.TransactGetItems")]:
        assert request(method, target) == [b"answer"]
    assert checkpoints.checkpoint() is False and not writes  # reads change nothing
    before = time.time()
    assert request("PUT") == [b"answer"] and request("POST", "DynamoDB_20120810.TransactWriteItems") == [b"answer"]
    assert checkpoints.checkpoint() is True
    assert (tmp_path / "aws-state.pickle").read_bytes() == b"state 7"
    assert abs((tmp_path / "aws-state.pickle").stat().st_mtime - writes[0]) < 0.01  # as of the state's time
    assert writes[0] >= before
    assert checkpoints.checkpoint() is False and len(writes) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["aws-state.pickle"]  # no temporary file left
