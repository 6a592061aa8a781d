"""``python -m devstack up`` as a developer runs it: a real process, real ports, Ctrl-C.

A throwaway project whose handlers record what they receive in the stack's own S3 (so the test observes the
process from outside, the way a developer would) starts twice, one after the other on one state directory,
and each start proves what the one before left:

1. ``--keep-state`` on an empty state directory: it serves the app and pumps every kind of event, answers the
   CLI, refuses a second ``up`` on its port; SIGTERM (as a service manager stops it) stops everything and
   saves the local AWS;
2. without ``--keep-state``: fresh (the default: the kept state is deleted); then its moto dies, and the stack
   says so and exits 1.

What a ``--keep-state`` start brings back (the local AWS as saved, this run's endpoints: a token of the earlier
run accepted, a document read) is proven by tests/test_devstack_kill9.py, after a kill -9 of the project's own
stack (one start of the project's app there instead of a third start here).

"Stops everything" is exit status 0, no child process, no port left listening, the state file removed. The
project's own app.py starts and stops on SIGINT the same way in the e2e session's stack
(tests/e2e/conftest.py checks it on teardown). Waiting is by deadline, never fixed sleeps.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from devstack.processes import read_until_ready
from tests.support.deadlines import COMMAND_S, EVENT_S, REPLY_S, START_S, STOP_S
from tests.support.stopping import child_pids, listening

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.no_stack  # each test brings its own stack, never the in-process moto
READY = "DEVSTACK_READY "
START_DEADLINE = START_S  # generous: machines are loaded while the suite runs
EVENT_DEADLINE = EVENT_S

SMOKE_APP = '''
import json, os
import boto3
from chalice import Chalice

app = Chalice(app_name="devstack-smoke")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.websocket_api.session = boto3.Session()
s3 = boto3.client("s3")


def seen(kind, detail):
    s3.put_object(Bucket=os.environ["REPORTS_BUCKET_NAME"], Key=f"seen/{kind}",
                  Body=json.dumps(detail).encode())


@app.route("/health")
def health():
    return {"ok": True, "stage": os.environ["APP_STAGE"], "extra": os.environ["FROM_CONFIG"]}


@app.on_sqs_message(queue=os.environ["ADDRESS_CHECK_QUEUE_NAME"])
def on_sqs(event):
    seen("sqs", [record.body for record in event])


@app.on_s3_event(bucket=os.environ["DOCUMENTS_BUCKET_NAME"], prefix="applications/")
def on_s3(event):
    seen("s3", event.key)


@app.on_sns_message(topic=os.environ["EVENTS_TOPIC_ARN"])
def on_sns(event):
    seen("sns", event.message)


@app.on_dynamodb_record(stream_arn=os.environ["HISTORY_STREAM_ARN"])
def on_stream(event):
    seen("stream", [record.keys for record in event])


@app.schedule("rate(1 day)", description="the smoke test's job")
def daily(event):
    return {"fired": event.detail_type, "time": event.time}


@app.on_ws_message()
def echo(event):
    app.websocket_api.send(event.connection_id, "echo:" + event.body)
'''

SMOKE_CONFIG = {
    "version": "2.0", "app_name": "devstack-smoke",
    "environment_variables": {"FROM_CONFIG": "top-level"},
    "stages": {"local": {"environment_variables": {"APP_STAGE": "local"}}},
}


def wait_until(predicate: Callable[[], Any], timeout: float = EVENT_DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.05)
    return result


@contextmanager
def devstack_up(project_dir: Path, state_dir: Path,
                *extra: str) -> Iterator[tuple[subprocess.Popen, dict, list[str]]]:
    """Start the stack, yield (process, ready info, output lines); SIGINT it afterwards."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "MOTO"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "up", "--api-port", "0", "--ws-port", "0",
         "--project-dir", str(project_dir), "--state-dir", str(state_dir), *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**env, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    try:
        info = read_until_ready(process, READY, START_DEADLINE, lines.append, "test-stack")
        if info is None:
            if process.poll() is None:
                process.kill()
                process.wait()
                pytest.fail(f"devstack was not ready within {START_DEADLINE:.0f} s; its last output:\n"
                            + "\n".join(lines[-60:]))
            pytest.fail(f"devstack exited ({process.returncode}) before it was ready; its last output:\n"
                        + "\n".join(lines[-60:]))
        yield process, info, lines
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                raise


#: Runs ``python -m devstack ARGS`` and reports on stderr which AWS SDK modules it loaded.
NO_SDK_PROBE = """
import runpy, sys
sys.argv = ["devstack", *sys.argv[1:]]
try:
    runpy.run_module("devstack", run_name="__main__")
except SystemExit as done:
    code = done.code
else:
    code = 0
print("loaded:", sorted({name.split(".")[0] for name in sys.modules} & {"boto3", "botocore", "moto"}),
      file=sys.stderr)
sys.exit(code)
"""


def get_json(url: str) -> tuple[int, Any]:
    with urllib.request.urlopen(url, timeout=REPLY_S) as response:  # a fresh connection each time
        return response.status, json.loads(response.read())


def assert_stops_cleanly(process: subprocess.Popen, info: dict, state_dir: Path,
                         signum: int = signal.SIGINT) -> None:
    children = child_pids(process.pid)
    assert (state_dir / "state.json").exists()
    process.send_signal(signum)
    assert process.wait(STOP_S) == 0
    for pid in children:
        assert not Path(f"/proc/{pid}").exists(), f"child process {pid} outlived devstack"
    for url in (info["api_url"], info["moto_url"], info["control_url"], info["ws_url"]):
        if url:
            assert not listening(url), f"{url} still accepts connections"
    assert not (state_dir / "state.json").exists()


@pytest.fixture
def smoke_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / ".chalice").mkdir(parents=True)
    shutil.copy(ROOT / "resources.yaml", project / "resources.yaml")
    (project / ".chalice" / "config.json").write_text(json.dumps(SMOKE_CONFIG))
    (project / "app.py").write_text(SMOKE_APP)
    return project


def test_a_stack_serves_pumps_and_stops_cleanly_keeps_state_on_request_and_says_when_its_local_aws_dies(
        smoke_project: Path, tmp_path: Path):
    """Two starts of the throwaway project on one state directory (the module's docstring)."""
    state_dir = tmp_path / "state"
    with devstack_up(smoke_project, state_dir, "--keep-state") as (process, first, lines):
        serves_the_app_pumps_every_kind_of_event_and_answers_the_cli(first, lines, smoke_project, state_dir, tmp_path)
        aws_client(first, "dynamodb").put_item(TableName=first["env"]["APPLICATIONS_TABLE_NAME"],
                                               Item={"application_id": {"S": "kept-1"}})
        assert_stops_cleanly(process, first, state_dir, signal.SIGTERM)  # as a service manager stops it: state kept
        wait_until(lambda: any("saved the local AWS" in line for line in lines))  # read as the output drains
        assert (state_dir / "aws-state.pickle").stat().st_size > 0

    with devstack_up(smoke_project, state_dir) as (process, fresh, lines):  # no --keep-state: fresh
        assert table_items(fresh) == []
        assert not (state_dir / "aws-state.pickle").exists()
        stops_with_a_clear_message_when_the_local_aws_dies(process, fresh, lines)


def aws_client(info: dict, service: str, endpoint_url: str | None = None) -> Any:
    """A boto3 client for the stack's local AWS (or ``endpoint_url``), with its fake credentials."""
    return boto3.client(service, endpoint_url=endpoint_url or info["moto_url"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def table_items(info: dict) -> list:
    return aws_client(info, "dynamodb").scan(TableName=info["env"]["APPLICATIONS_TABLE_NAME"])["Items"]


def serves_the_app_pumps_every_kind_of_event_and_answers_the_cli(
        info: dict, lines: list[str], project: Path, state_dir: Path, tmp_path: Path) -> None:
    env = info["env"]
    assert any("ready in" in line for line in lines)
    assert get_json(info["api_url"] + "/health") == (200, {"ok": True, "stage": "local", "extra": "top-level"})
    assert {user["role"] for user in info["users"]} == {"applicant", "reviewer", "operator"}
    s3 = aws_client(info, "s3")

    def seen(kind: str) -> Any:
        try:
            body = s3.get_object(Bucket=env["REPORTS_BUCKET_NAME"], Key=f"seen/{kind}")["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    sqs = aws_client(info, "sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=env["ADDRESS_CHECK_QUEUE_NAME"])["QueueUrl"],
                     MessageBody="check me")
    s3.put_object(Bucket=env["DOCUMENTS_BUCKET_NAME"], Key="applications/a1/passport.jpg", Body=b"x")
    aws_client(info, "sns").publish(TopicArn=env["EVENTS_TOPIC_ARN"], Message="published")
    aws_client(info, "dynamodb").put_item(TableName=env["HISTORY_TABLE_NAME"], Item={
        "application_id": {"S": "a1"}, "seq": {"N": "1"}})
    assert wait_until(lambda: seen("sqs")) == ["check me"]
    assert wait_until(lambda: seen("s3")) == "applications/a1/passport.jpg"
    assert wait_until(lambda: seen("sns")) == "published"
    assert wait_until(lambda: seen("stream")) == [{"application_id": {"S": "a1"}, "seq": {"N": "1"}}]

    from websockets.sync.client import connect

    with connect(info["ws_url"], open_timeout=REPLY_S) as websocket:
        websocket.send("hi")
        assert websocket.recv(timeout=REPLY_S) == "echo:hi"

    cli = [sys.executable, "-m", "devstack"]
    state = ["--state-dir", str(state_dir)]
    listed = subprocess.run([*cli, "fire", *state], cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_S)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["daily", "rate(1", "day)", "the", "smoke", "test's", "job"]
    fired = subprocess.run([*cli, "fire", "daily", "--as-of", "2027-01-31T00:00:00Z", *state],
                           cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_S)
    assert fired.returncode == 0, fired.stderr
    assert json.loads(fired.stdout) == {"result": {"fired": "Scheduled Event", "time": "2027-01-31T00:00:00Z"}}
    # Fast because it asks the running stack and makes no AWS client of its own (boto3's import
    # and client set-up take seconds): shown by what it loads, not by a clock on a busy machine.
    token = subprocess.run([sys.executable, "-c", NO_SDK_PROBE, "token", "reviewer", *state], cwd=ROOT,
                           capture_output=True, text=True, timeout=COMMAND_S)
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip().count(".") == 2, token.stdout  # a JWT
    assert token.stderr.strip() == "loaded: []", token.stderr

    api_port = urlsplit(info["api_url"]).port
    second = subprocess.run([*cli, "up", "--api-port", str(api_port), "--ws-port", "0",
                             "--project-dir", str(project), "--state-dir", str(tmp_path / "second")],
                            cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_S)
    assert second.returncode == 1
    assert f"port {api_port} (--api-port) already in use" in second.stderr
    # Checked before anything starts: no moto, no provisioning, no state written.
    assert "provisioned" not in second.stdout + second.stderr
    assert not (tmp_path / "second" / "state.json").exists()


def stops_with_a_clear_message_when_the_local_aws_dies(process: subprocess.Popen, info: dict,
                                                       lines: list[str]) -> None:
    """moto gone, every call would be refused: the stack says so and exits, instead of logging
    connection-refused tracebacks for ever."""
    moto_port = urlsplit(info["moto_url"]).port
    [moto_pid] = [pid for pid in child_pids(process.pid)
                  if "devstack.moto_process" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
    os.kill(moto_pid, signal.SIGKILL)
    assert process.wait(STOP_S) == 1
    assert any("the moto process exited" in line for line in lines), lines[-20:]
    assert not listening(info["moto_url"]), f"moto still listens on {moto_port}"


@pytest.mark.parametrize("command", [["token", "applicant"], ["fire"], ["fire", "daily"],
                                     ["upload", "some-id", __file__], ["env"]])
def test_commands_say_in_one_line_that_no_stack_is_running(tmp_path: Path, command: list[str]):
    (tmp_path / "state.json").write_text(json.dumps({"pid": 2 ** 22 + 1, "control_url": "x"}))
    for state_dir in (tmp_path, tmp_path / "never-started"):
        done = subprocess.run([sys.executable, "-m", "devstack", *command, "--state-dir",
                               str(state_dir)], cwd=ROOT, capture_output=True, text=True,
                              timeout=COMMAND_S)
        assert done.returncode == 1
        assert done.stdout == ""
        assert done.stderr == "devstack: the local stack is not running (start it with ./dev up)\n"
