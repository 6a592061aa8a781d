"""``python -m devstack up`` as a developer runs it: a real process, real ports, Ctrl-C.

One test runs a throwaway project whose handlers record what they receive
in the stack's own S3 (so the test observes the process from outside, the
way a developer would); another runs the project's real app.py. Each checks
that SIGINT (or SIGTERM) stops everything: exit status 0, no child process, no port left
listening, the state file removed. Waiting is by deadline, never fixed sleeps.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from tests.support.deadlines import COMMAND_S, EVENT_S, REPLY_S, START_S, STOP_S
from tests.support.stopping import child_pids, listening

ROOT = Path(__file__).resolve().parents[1]
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
    ready: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(READY):
                ready.put(json.loads(line[len(READY):]))
        ready.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        info = ready.get(timeout=START_DEADLINE)
        assert info is not None, "devstack exited before it was ready:\n" + "\n".join(lines)
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


def test_up_serves_the_app_and_pumps_every_kind_of_event_then_stops_on_sigint(
        smoke_project: Path, tmp_path: Path):
    state_dir = tmp_path / "state"
    with devstack_up(smoke_project, state_dir) as (process, info, lines):
        env = info["env"]
        assert any("ready in" in line for line in lines)
        assert get_json(info["api_url"] + "/health") == (
            200, {"ok": True, "stage": "local", "extra": "top-level"})
        assert {user["role"] for user in info["users"]} == {"applicant", "reviewer", "operator"}

        aws = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                            region_name="us-east-1")

        def client(service: str) -> Any:
            return aws.client(service, endpoint_url=info["moto_url"])

        def seen(kind: str) -> Any:
            try:
                body = client("s3").get_object(Bucket=env["REPORTS_BUCKET_NAME"],
                                               Key=f"seen/{kind}")["Body"].read()
            except client("s3").exceptions.NoSuchKey:
                return None
            return json.loads(body)

        sqs = client("sqs")
        sqs.send_message(QueueUrl=sqs.get_queue_url(
            QueueName=env["ADDRESS_CHECK_QUEUE_NAME"])["QueueUrl"], MessageBody="check me")
        client("s3").put_object(Bucket=env["DOCUMENTS_BUCKET_NAME"],
                                Key="applications/a1/passport.jpg", Body=b"x")
        client("sns").publish(TopicArn=env["EVENTS_TOPIC_ARN"], Message="published")
        client("dynamodb").put_item(TableName=env["HISTORY_TABLE_NAME"], Item={
            "application_id": {"S": "a1"}, "seq": {"N": "1"}})
        assert wait_until(lambda: seen("sqs")) == ["check me"]
        assert wait_until(lambda: seen("s3")) == "applications/a1/passport.jpg"
        assert wait_until(lambda: seen("sns")) == "published"
        assert wait_until(lambda: seen("stream")) == [
            {"application_id": {"S": "a1"}, "seq": {"N": "1"}}]

        from websockets.sync.client import connect

        with connect(info["ws_url"], open_timeout=REPLY_S) as websocket:
            websocket.send("hi")
            assert websocket.recv(timeout=REPLY_S) == "echo:hi"

        cli = [sys.executable, "-m", "devstack"]
        state = ["--state-dir", str(state_dir)]
        listed = subprocess.run([*cli, "fire", *state], cwd=ROOT, capture_output=True,
                                text=True, timeout=COMMAND_S)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.split() == ["daily", "rate(1", "day)", "the", "smoke", "test's", "job"]
        fired = subprocess.run([*cli, "fire", "daily", "--as-of", "2027-01-31T00:00:00Z", *state],
                               cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_S)
        assert fired.returncode == 0, fired.stderr
        assert json.loads(fired.stdout) == {"result": {"fired": "Scheduled Event",
                                                       "time": "2027-01-31T00:00:00Z"}}
        # Fast because it asks the running stack and makes no AWS client of its own (boto3's import
        # and client set-up take seconds): shown by what it loads, not by a clock on a busy machine.
        token = subprocess.run([sys.executable, "-c", NO_SDK_PROBE, "token", "reviewer", *state], cwd=ROOT,
                               capture_output=True, text=True, timeout=COMMAND_S)
        assert token.returncode == 0, token.stderr
        assert token.stdout.strip().count(".") == 2, token.stdout  # a JWT
        assert token.stderr.strip() == "loaded: []", token.stderr

        api_port = urlsplit(info["api_url"]).port
        second = subprocess.run([*cli, "up", "--api-port", str(api_port), "--ws-port", "0",
                                 "--project-dir", str(smoke_project), "--state-dir",
                                 str(tmp_path / "second")], cwd=ROOT, capture_output=True,
                                text=True, timeout=COMMAND_S)
        assert second.returncode == 1
        assert f"port {api_port} (--api-port) already in use" in second.stderr
        # Checked before anything starts: no moto, no provisioning, no state written.
        assert "provisioned" not in second.stdout + second.stderr
        assert not (tmp_path / "second" / "state.json").exists()

        assert_stops_cleanly(process, info, state_dir)


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


def test_keep_state_restores_the_local_aws_after_a_restart_and_fresh_is_the_default(
        smoke_project: Path, tmp_path: Path):
    state_dir = tmp_path / "state"
    aws = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                        region_name="us-east-1")

    def table_items(info: dict) -> list:
        dynamodb = aws.client("dynamodb", endpoint_url=info["moto_url"])
        return dynamodb.scan(TableName=info["env"]["APPLICATIONS_TABLE_NAME"])["Items"]

    with devstack_up(smoke_project, state_dir, "--keep-state") as (process, first, _lines):
        aws.client("s3", endpoint_url=first["moto_url"]).put_object(
            Bucket=first["env"]["REPORTS_BUCKET_NAME"], Key="kept", Body=b"still here")
        aws.client("dynamodb", endpoint_url=first["moto_url"]).put_item(
            TableName=first["env"]["APPLICATIONS_TABLE_NAME"], Item={"application_id": {"S": "kept-1"}})
        assert_stops_cleanly(process, first, state_dir, signal.SIGTERM)  # as a service manager stops it: state kept

    with devstack_up(smoke_project, state_dir, "--keep-state") as (process, second, lines):
        assert any("restored the local AWS" in line for line in lines)
        assert second["env"]["APPLICATIONS_TABLE_NAME"] == first["env"]["APPLICATIONS_TABLE_NAME"]
        body = aws.client("s3", endpoint_url=second["moto_url"]).get_object(
            Bucket=second["env"]["REPORTS_BUCKET_NAME"], Key="kept")["Body"].read()
        assert body == b"still here"
        assert [item["application_id"]["S"] for item in table_items(second)] == ["kept-1"]
        token = subprocess.run([sys.executable, "-m", "devstack", "token", "applicant",
                                "--state-dir", str(state_dir)], cwd=ROOT, capture_output=True,
                               text=True, timeout=COMMAND_S)
        assert token.returncode == 0 and token.stdout.count(".") == 2, token.stderr
        assert_stops_cleanly(process, second, state_dir)

    with devstack_up(smoke_project, state_dir) as (process, fresh, _lines):
        assert table_items(fresh) == []
        assert_stops_cleanly(process, fresh, state_dir)
