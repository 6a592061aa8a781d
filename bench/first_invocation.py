"""Each handler's first invocation, cold, from the built package, against a bare baseline in the same run.

    python -m bench first_invocation [--runs 3] [--no-tracing] [--one-baseline] [HANDLER ...]

The suite's smoke run (SMOKE_ARGS) invokes seven of the seventeen handlers, one of each kind of event and
screen_sanctions; tests/test_iam_policies.py and tests/test_package.py cover every handler's first
invocation and registration (see SMOKE_ARGS).

A cold start as Lambda has it: a fresh interpreter that sees only the lean
package (scripts/build_package.py, unpacked) and the runtime's SDK, imports
``app`` and invokes ONE handler once with a representative event, against the
local AWS (moto, in this process, provisioned from resources.yaml as the tests
do). Timed: import + that first call. Each run gets fresh data (a new
application for each check, its own stream records, documents, messages), so
no run is a replay. Textract is moto's here (it answers at once with no text:
the identity check takes its "unreadable" path); the real OCR's seconds are
Textract's, not the cold start's.

Baseline, in the same run and alternating with the handlers: a bare Chalice
app that imports boto3, makes one DynamoDB client and, on its first
invocation, makes one GetItem call against the same moto (``--one-baseline``:
sampled once, before the first handler). Printed per
handler: median import, first call and total, and total / baseline.

With tracing on (the default adds this column; ``--no-tracing`` leaves it
out): the same handlers with POWERTOOLS_TRACE_DISABLED=false and the Lambda
markers the X-Ray SDK looks for (LAMBDA_TASK_ROOT, _X_AMZN_TRACE_ID), so the
Powertools Tracer and the X-Ray SDK are built as on AWS (segments go to a UDP
port nothing listens on).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._common import ROOT, header, median

CHILD = r"""
import json, sys, time, uuid
started = time.perf_counter()
sys.path[:0] = json.loads(sys.argv[1])
import app
imported = time.perf_counter()
spec = json.loads(sys.stdin.read())

class Context:
    def __init__(self, name):
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"
        self.client_context = None
        self.identity = None
        self._deadline = time.monotonic() + 30
    def get_remaining_time_in_millis(self):
        return int((self._deadline - time.monotonic()) * 1000)

handler = app.app if spec["handler"] == "api_handler" else getattr(app, spec["handler"])
result = handler(spec["event"], Context(spec["function"]))
done = time.perf_counter()
print(json.dumps({"import": imported - started, "call": done - imported, "result": result}, default=str))
"""

BASELINE_APP = """
import boto3
from chalice import Chalice

app = Chalice(app_name="baseline")
client = boto3.client("dynamodb")


@app.lambda_function()
def handler(event, context):
    return client.get_item(TableName=event["table"], Key={"application_id": {"S": "none"}}).get("Item")
"""


class Harness:
    """The local AWS, the app in this process (to prepare data), the unpacked package, a user."""

    def __init__(self, scratch: Path) -> None:
        from tests.support.aws import provisioned_environment

        self.env_for_app = provisioned_environment()
        os.environ["AWS_ENDPOINT_URL_TEXTRACT"] = os.environ["AWS_ENDPOINT_URL"]  # moto's: no OCR time
        from chalice.test import Client

        import app as app_module
        from bench.package import runtime_sdk
        from scripts.build_package import build
        from tests.support.identities import make_user

        self.app = app_module.app
        self.client = Client(self.app, stage_name="local", project_dir=str(ROOT))
        self.client.__enter__()
        self.applicant = make_user()
        self.reviewer = make_user(("reviewers",))
        package, _, _ = build()
        self.task, self.baseline, runtime = scratch / "task", scratch / "baseline", scratch / "runtime"
        for folder in (self.task, self.baseline, runtime):
            folder.mkdir()
        with zipfile.ZipFile(package) as archive:
            archive.extractall(self.task)
        (self.baseline / "app.py").write_text(BASELINE_APP)
        self.runtime = runtime_sdk(runtime)
        config = json.loads((ROOT / ".chalice" / "config.json").read_text())
        self.child_env = {  # the local stage's configuration, then the provisioned stack's environment
            **config.get("environment_variables", {}), **config["stages"]["local"].get("environment_variables", {}),
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL"))},
        }

    # --- data, fresh for every run ---------------------------------------------------

    def application(self) -> str:
        from tests.support.documents import make_declared

        reply = self.client.http.post("/applications", headers={**self.applicant.auth, "Content-Type":
                                                                 "application/json"},
                                      body=json.dumps(make_declared()).encode())
        assert reply.status_code == 201, reply.body
        return json.loads(reply.body)["id"]

    def rest(self, method: str, resource: str, path: str, body: Any = None, user: Any = None,
             params: dict[str, str] | None = None) -> dict[str, Any]:
        headers = {"content-type": "application/json", "host": "bench.local",
                   **({"authorization": user.auth["Authorization"]} if user else {})}
        return {"resource": resource, "path": path, "httpMethod": method, "headers": headers,
                "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
                "multiValueQueryStringParameters": None, "pathParameters": params, "stageVariables": None,
                "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
                "requestContext": {"resourcePath": resource, "httpMethod": method, "requestId": str(uuid.uuid4()),
                                   "stage": "api", "path": f"/api{path}", "identity": {"sourceIp": "127.0.0.1"}}}

    def events(self) -> dict[str, tuple[str, Callable[[], dict[str, Any]], Callable[[Any], bool]]]:
        """handler -> (the Lambda function it is, an event factory, a check of its result)."""
        from tests.support.documents import jpeg_bytes, make_declared
        from tests.support.flows import address_message, s3_event, sqs_event, stream_records, upload_document

        def schedule_event(client: Any, rule: str) -> dict[str, Any]:
            event = client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={},
                resources=[f"arn:aws:events:us-east-1:123456789012:rule/{rule}"], region="us-east-1")
            event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            return event

        def ok(result: Any) -> bool:
            return True

        def rest_ok(result: Any) -> bool:
            return isinstance(result, dict) and 200 <= int(result.get("statusCode", 500)) < 300

        def batch_ok(result: Any) -> bool:
            return result == {"batchItemFailures": []}

        def document() -> dict[str, Any]:
            app_id = self.application()
            api = _Api(self.client)
            return s3_event(self.client, upload_document(api, self.applicant, app_id, jpeg_bytes()))

        def sns() -> dict[str, Any]:
            app_id = self.application()
            message = json.dumps({"application_id": app_id, "events": [{
                "event_id": f"{app_id}#1", "application_id": app_id, "seq": 1, "type": "application.submitted",
                "from_state": None, "state": "AWAITING_DOCUMENTS"}]})  # the outbox's message
            return self.client.events.generate_sns_event(message=message, subject=None)

        def websocket(route: str) -> Callable[[], dict[str, Any]]:
            def event() -> dict[str, Any]:
                return {"requestContext": {"routeKey": route, "eventType": route.strip("$").upper(),
                                           "connectionId": uuid.uuid4().hex[:14] + "=", "requestId": str(uuid.uuid4()),
                                           "domainName": "bench.local", "stage": "ws", "apiId": "bench"},
                        "queryStringParameters": {"token": self.applicant.token}, "isBase64Encoded": False}
            return event

        app_name = self.app.app_name
        table = {
            "GET /health": ("api_handler", lambda: self.rest("GET", "/health", "/health"), ok),
            "POST /applications": ("api_handler", lambda: self.rest(
                "POST", "/applications", "/applications", make_declared(), self.applicant), rest_ok),
            "GET /applications/{application_id}": ("api_handler", lambda: (lambda i: self.rest(
                "GET", "/applications/{application_id}", f"/applications/{i}", None, self.applicant,
                {"application_id": i}))(self.application()), rest_ok),
            "GET /review/queue": ("api_handler", lambda: self.rest("GET", "/review/queue", "/review/queue", None,
                                                                   self.reviewer), rest_ok),
            "verify_identity_document": ("verify_identity_document", document, batch_ok),  # an SQS batch now
            "check_address": ("check_address", lambda: sqs_event(self.client, address_message(self.application())),
                              batch_ok),
            "screen_sanctions": ("screen_sanctions", lambda: sqs_event(self.client, address_message(
                self.application())), batch_ok),
            "publish_history": ("publish_history", lambda: {"Records": stream_records(self.application())}, ok),
            "notify_subscribers": ("notify_subscribers", sns, ok),
            "ws_connect": ("websocket_connect", websocket("$connect"),
                           lambda r: isinstance(r, dict) and r.get("statusCode") == 200),
            "ws_disconnect": ("websocket_disconnect", websocket("$disconnect"), ok),
        }
        for source in self.app.event_sources:  # every schedule the app registers, new ones included
            name = source.handler_string.split(".")[-1]
            if type(source).__name__ == "ScheduledEventConfig" and name != "refresh_sanctions_lists":
                table[name] = (name, lambda n=name: schedule_event(self.client, n), ok)
        return {name: (f"{app_name}-local-{function}", event, check) for name, (function, event, check) in
                table.items()}

    # --- one cold invocation -----------------------------------------------------------

    def cold(self, handler: str, function: str, event: dict[str, Any], tracing: bool) -> dict[str, Any]:
        env = dict(self.child_env)
        if tracing:
            env.update(POWERTOOLS_TRACE_DISABLED="false", LAMBDA_TASK_ROOT=str(self.task),
                       _X_AMZN_TRACE_ID=f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
                       f"Parent={uuid.uuid4().hex[:16]};Sampled=1", AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR",
                       AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:9")
        name = "api_handler" if function.endswith("-api_handler") else handler
        return self._run(self.task, {"handler": name, "function": function, "event": event}, env)

    def bare(self) -> dict[str, Any]:
        table = self.env_for_app["APPLICATIONS_TABLE_NAME"]
        return self._run(self.baseline, {"handler": "handler", "function": "baseline", "event": {"table": table}},
                         dict(self.child_env))

    def _run(self, directory: Path, spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
        paths = json.dumps([str(directory), str(self.task), str(self.runtime)])
        done = subprocess.run([sys.executable, "-I", "-S", "-c", CHILD, paths], input=json.dumps(spec, default=str),
                              cwd=directory, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{spec['handler']} failed:\n{done.stderr[-2500:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


class _Api:
    """What tests.support.flows.upload_document needs of the tests' Api: post with a user."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, path: str, body: Any = None, user: Any = None) -> Any:
        from types import SimpleNamespace

        response = self.client.http.post(path, headers={**user.auth, "Content-Type": "application/json"},
                                         body=json.dumps(body).encode())
        return SimpleNamespace(status=response.status_code, body=json.loads(response.body))


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py): one
#: handler of each kind of event this bench makes (REST, the document's SQS batch, an SQS message, stream
#: records, an SNS message, a WebSocket route, a schedule), and screen_sanctions, whose first call loads the
#: sanctions index from the package (the slowest first invocation, ~10 s). The other ten handlers' first
#: invocations are run elsewhere: tests/test_iam_policies.py drives every handler (and fails when one did not
#: run), tests/test_package.py registers every handler from the package with only the runtime's SDK. Leaving
#: them out here saves ten cold interpreters (~12 s of CPU); ``./dev bench first_invocation`` runs them all.
SMOKE_ARGS = ['--runs', '1', '--no-tracing', '--one-baseline', 'POST /applications', 'verify_identity_document',
              'screen_sanctions', 'publish_history', 'notify_subscribers', 'ws_connect', 'write_daily_report']


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_invocation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="cold starts per handler (default 3)")
    parser.add_argument("--no-tracing", action="store_true", help="leave out the tracing-on column")
    parser.add_argument("--one-baseline", action="store_true",
                        help="sample the baseline once, not beside every handler's run (quicker, and less fair "
                             "on a machine whose load changes)")
    parser.add_argument("handlers", nargs="*", help="only these handlers (default: all)")
    args = parser.parse_args(argv)
    header("first invocation of each handler, cold, from the built package (import + first call)")
    with tempfile.TemporaryDirectory(prefix="bench-first-") as scratch:
        harness = Harness(Path(scratch))
        table = harness.events()
        unknown = sorted(set(args.handlers) - set(table))
        if unknown:  # a renamed handler must not silently drop out of a chosen run (the smoke's, above all)
            parser.error(f"unknown handler(s) {unknown}; known: {sorted(table)}")
        chosen = [name for name in table if not args.handlers or name in args.handlers]
        results: dict[str, dict[str, list[float]]] = {}
        bases: list[float] = []
        failures: list[str] = []
        for name in chosen:
            function, make_event, check = table[name]
            for _ in range(args.runs):  # alternate with the baseline: the same machine load for both
                if not (args.one_baseline and bases):
                    base = harness.bare()
                    bases.append(base["import"] + base["call"])
                for mode in ("off", "on") if not args.no_tracing else ("off",):
                    measured = harness.cold(name, function, make_event(), tracing=mode == "on")
                    if not check(measured["result"]):
                        failures.append(f"{name}: {str(measured['result'])[:200]}")
                    slot = results.setdefault(name, {})
                    slot.setdefault(f"import_{mode}", []).append(measured["import"])
                    slot.setdefault(f"call_{mode}", []).append(measured["call"])
                    slot.setdefault(f"total_{mode}", []).append(measured["import"] + measured["call"])
    base = median(bases)
    print(f"baseline: bare Chalice + boto3 + one DynamoDB client, first call = one GetItem: {base * 1000:.0f} ms "
          f"median of {len(bases)}")
    columns = f"{'handler':38} {'import':>8} {'1st call':>9} {'total':>8} {'/base':>6}"
    print(columns + (f" {'traced':>8} {'/base':>6}" if not args.no_tracing else ""))
    for name in chosen:
        row = results[name]
        total = median(row["total_off"])
        line = (f"{name:38} {median(row['import_off']) * 1000:6.0f}ms {median(row['call_off']) * 1000:7.0f}ms "
                f"{total * 1000:6.0f}ms {total / base:5.1f}x")
        if not args.no_tracing:
            traced = median(row["total_on"])
            line += f" {traced * 1000:6.0f}ms {traced / base:5.1f}x"
        print(line)
    print(f"medians of {args.runs} cold starts each; Textract is moto's (no OCR time); "
          "'traced' = Powertools Tracer and X-Ray SDK on, as on AWS")
    for failure in failures:
        print(f"UNEXPECTED RESULT {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
