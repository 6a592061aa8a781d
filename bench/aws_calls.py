"""AWS API calls one auto-approved application costs, end to end, counted by operation.

    python -m bench.aws_calls

In-process, no subprocess: an in-process moto server provisioned from
resources.yaml exactly as the test suite does (``tests.support.aws``), the
unchanged app behind Chalice's test client, and every handler invoked the
way AWS would invoke it, with the events AWS would send:

    POST /applications                  create_application       (client.http; it answers with the upload forms)
    history stream records              publish_history          (the real records, read from the stream)
    SNS -> address-check queue          check_address            (the message the topic really delivered)
    SNS -> the topic's Lambda           notify_subscribers       (the messages really published)
    the client's upload                 -- not counted: the client's call, not the app's
    S3 -> identity-check queue          verify_identity_document (S3's notification, in an SQS event)
    GET/POST .../biometric-consent      biometric_consent        (client.http; issue 17)
    POST .../liveness-sessions          start_liveness_session   (CreateFaceLivenessSession)
    the client streams the session      -- not counted: the browser's call to Rekognition (the test
                                           stack's stand-in writes the selfie, tests/support/rekognition.py)
    POST .../{session}/complete         complete_liveness_session (GetFaceLivenessSessionResults)
    SNS -> face-check queue             check_face               (IndexFaces, CompareFaces, SearchFacesByImage)
    ... and the stream records of every later transition, until the application is
    APPROVED and every history event has been relayed.

Counting: a botocore ``before-call`` hook (one per API call, retries not
included) plus ``before-send`` (HTTP attempts, to show retries) registered on
every client -- ``botocore.session.Session.create_client`` is wrapped before
the app is imported, so boto3, Powertools and pynamodb clients all carry it.
Counting is switched on, for the calling thread only, around each handler
invocation; the harness's own calls (reading the stream, receiving from the
queues, the upload) are never counted. Plain-HTTP fetches the app makes
(the Cognito JWKS) are counted separately through PyJWKClient.fetch_data.

Scenarios, each one application:
  cold            the first application in this process (JWKS and Parameter Store caches empty)
  warm            address check first (it starts on submission; the upload comes later): the usual order
  warm, id-first  the identity document lands before the address check runs
  watched         as warm, with the applicant's WebSocket client watching (subscribed once per
                  connection to my-applications, as the console and bench/load.py do): the notifier
                  claims and sends too; what the connection itself costs is printed apart
  at once         as warm, with whatever the queues hold delivered at the same instant, on threads (the
                  address and sanctions checks would race if one message started both; the
                  sanctions queue is fed by the address check's result, so they never meet)
  shared batches  only with ``--shared N``: N applications in step, as at a peak: each stream batch
                  holds every new record of the N (at most 100), so the outbox's PublishBatch (ten
                  messages a call) and its counters transaction are shared; each queue's messages go
                  to their handler in one SQS event (its batch size); the notifier still gets one
                  SNS message per application. Printed per application: what the capacity model
                  assumes of a batch's calls, measured (the other scenarios are one application alone,
                  every batch its own)

Platform and face check: the target of issue 23 (<= 25 calls an application with a watching client)
predates the face check; the face check's own handlers (``FACE_HANDLERS``) make a fixed set of calls an
application whatever else happens, so the bench prints the platform's calls (every handler but those)
against that target and the face check's apart. What the face check costs the platform's handlers (the
outbox relaying its events, the notifier pushing them) counts as the platform's.

Frames are "sent" to a stand-in for API Gateway's management API (a
``before-call`` answer on its client: the call is counted, nothing leaves the
process). Transactions are compared with repository commits: a commit
attempt that loses a race costs a transaction and commits nothing.
"""
from __future__ import annotations

import collections
import json
import sys
import time
from typing import Any, Optional

from bench._common import ROOT, header
from bench._call_counter import CallCounter, hook_commits, install, pin_sanctions_index_look
from bench._call_harness import Api, Harness

HANDLERS = ("create_application", "request_document_upload", "verify_identity_document",
            "check_address", "screen_sanctions", "biometric_consent", "start_liveness_session",
            "complete_liveness_session", "check_face", "publish_history", "notify_subscribers",
            "ws_connect", "ws_message", "ws_disconnect")
#: The face check's own handlers (issue 17): the applicant's consent, the liveness session and its result,
#: the check against the document and the collection. Their calls are a fixed set per application, counted
#: apart from the platform's (everything else), whose target is <= 25 with a watching client.
FACE_HANDLERS = ("biometric_consent", "start_liveness_session", "complete_liveness_session", "check_face")
PLATFORM_TARGET = 25


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS: list[str] = []


def main(argv: Optional[list[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.aws_calls", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=int, default=0, metavar="N",
                        help="also run N applications in step, sharing stream batches (a peak's batching)")
    args = parser.parse_args(argv)
    header("AWS API calls per auto-approved application (in-process, Chalice test client + moto)")
    counter, scenarios, results, elapsed = measure(shared=args.shared)
    report(counter, scenarios, results, elapsed)
    save_warm_profile(counter)
    return 0


#: A file of a measured profile (tests/test_benches.py sets it for its smoke run): ``bench.aws_calls`` writes its
#: warm application's profile there (the very scenario bench.cost measures, counted the same way), and bench.cost
#: then prices that file instead of measuring the same application again (~17 s of CPU: its own moto,
#: provisioned, and two applications). Unset -- ``./dev bench cost``, ``python -m bench.cost`` -- it measures.
PROFILE_ENV = "BENCH_WARM_PROFILE"
#: The scenario bench.cost prices.
PRICED_SCENARIO = "warm"


def profile_of(counter: Any) -> dict[str, Any]:
    """The priced scenario's AWS calls by operation, invocations and wall seconds by handler."""
    calls: dict[str, int] = {}
    for (scenario, _handler, op), n in counter.calls.items():
        if scenario == PRICED_SCENARIO:
            calls[op] = calls.get(op, 0) + n
    invocations = {h: n for (s, h), n in counter.invocations.items() if s == PRICED_SCENARIO}
    seconds = {h: t for (s, h), t in counter.seconds.items() if s == PRICED_SCENARIO}
    return {"calls": calls, "invocations": invocations, "seconds": seconds}


def save_warm_profile(counter: CallCounter) -> None:
    """When ``BENCH_WARM_PROFILE`` names a file (tests/test_benches.py), the warm application's profile as
    ``bench.cost`` measures it (the same cold-then-warm start, counted by the same counter), for ``bench.cost``
    to price instead of measuring it again."""
    import os
    from pathlib import Path

    path = os.environ.get(PROFILE_ENV)
    if path:
        Path(path).write_text(json.dumps(profile_of(counter)), encoding="utf-8")


def measure(warm_only: bool = False, shared: int = 0) -> tuple[CallCounter, list[str], dict[str, Any], float]:
    """Run the scenarios; the counter holds calls, invocations and wall time per handler. ``warm_only``: the
    cold and the warm one only (what ``bench.cost`` prices: a third of the run). ``shared``: also ``shared``
    applications in step (``SHARED``; its results are a list, and it is not one of the scenarios returned)."""
    counter = CallCounter()
    install(counter)  # before anything creates a client the app will use

    import logging
    import os

    from tests.support.aws import provisioned_environment

    for name in [key for key in os.environ if key.startswith(("AWS_", "MOTO"))]:
        del os.environ[name]  # our own local AWS only, whatever the shell points at

    provisioned_environment()  # must run before app is imported: app.py reads resource names
    if shared:  # one applicant's shared run is more than its daily limit and request rate allow
        import boto3

        for setting in ("max_applications_per_day", "applicant_requests_per_minute"):
            boto3.client("ssm").put_parameter(Name=os.environ["SETTINGS_PATH"].rstrip("/") + "/" + setting,
                                              Value="1000000", Type="String", Overwrite=True)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the app's INFO lines would bury the table
    os.environ.setdefault("WEBSOCKET_DOMAIN", "bench.execute-api.us-east-1.amazonaws.com")  # answered in-process
    # A container refreshes its settings once a minute: at 1,000 applications a second that is nothing per
    # application, but a run on a busy machine can outlast a minute and count a refresh against one of them.
    os.environ["SETTINGS_CACHE_SECONDS"] = "3600"
    os.environ.setdefault("WEBSOCKET_STAGE", "api")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sys.path.insert(0, str(ROOT))
    from chalice.test import Client

    import app as app_module  # noqa: E402

    logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "account-opening-svc")).setLevel(logging.WARNING)
    from tests.support.identities import make_user

    hook_commits(counter)
    pin_sanctions_index_look()
    started = time.perf_counter()
    scenarios = [("cold", True), ("warm", True)] + ([] if warm_only else [("warm, id-first", False)])
    with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
        harness = Harness(counter, app_module.app, client, Api(client))
        warm_ocr()
        user = make_user()
        results = {name: harness.run(name, user, address_first) for name, address_first in scenarios}
        if warm_only:
            return counter, [name for name, _ in scenarios], results, time.perf_counter() - started
        # A first connection, unreported: a container's first $connect builds what its WebSocket routes keep
        # (~0.06 s of CPU, once a container; 0.003 s after), which the capacity model would read as every
        # connection's. Only the unwatched notifier built it before the connection until the watch marks.
        harness.ws(WARM_UP, "ws_disconnect", harness.connect(WARM_UP, user), "$disconnect")
        connection = harness.connect(CONNECTION, user)
        # Once unreported, so the watched figures are a warm container's: the notifier's first send builds
        # the management API's client (~0.1 s of CPU a container, not an application).
        harness.run(WARM_UP, user)
        results[WATCHED] = harness.run(WATCHED, user)
        harness.ws(CONNECTION, "ws_disconnect", connection, "$disconnect")
        results[AT_ONCE] = harness.run(AT_ONCE, user, at_once=True)
        if shared:
            results[SHARED] = harness.run_many(SHARED, user, shared)
    elapsed = time.perf_counter() - started
    return counter, [name for name, _ in scenarios] + [WATCHED, AT_ONCE], results, elapsed


def warm_ocr() -> None:
    """Read the scenarios' passport once before counting (the harness's call, not the app's): the local
    Textract reads identical bytes once, so the cold scenario's read does not outlast the app's read timeout
    on a busy machine and count a retry that has nothing to do with the design."""
    import boto3

    from tests.support.documents import make_declared, passport_bytes

    boto3.client("textract").detect_document_text(Document={"Bytes": passport_bytes(make_declared())})


WATCHED = "watched"
WARM_UP = "watched, warming up"  # counted apart and never reported
AT_ONCE = "at once"
CONNECTION = "the connection"  # the watching client's own calls, once per connection
SHARED = "shared batches"  # --shared N: N applications in step (totals of the N; printed per application)


def report(counter: CallCounter, scenarios: list[str], results: dict[str, Any], elapsed: float) -> None:
    operations = sorted({key for (_, _, key) in counter.calls})
    width = max([len(op) for op in operations] + [24])
    head = "".join(f"{name:>16}" for name in scenarios)
    print(f"\n{'service:operation':<{width}}{head}")
    for op in operations:
        row = "".join(f"{sum(v for (s, _, k), v in counter.calls.items() if s == name and k == op):>16}"
                      for name in scenarios)
        print(f"{op:<{width}}{row}")
    totals = {name: sum(v for (s, _, _), v in counter.calls.items() if s == name) for name in scenarios}
    face = {name: sum(v for (s, h, _), v in counter.calls.items() if s == name and h in FACE_HANDLERS)
            for name in scenarios}
    platform = {name: totals[name] - face[name] for name in scenarios}
    print(f"{'TOTAL calls':<{width}}" + "".join(f"{totals[name]:>16}" for name in scenarios))
    print(f"{'  platform (all but face)':<{width}}" + "".join(f"{platform[name]:>16}" for name in scenarios)
          + f"   (target <= {PLATFORM_TARGET} watched)")
    print(f"{'  face check (its handlers)':<{width}}" + "".join(f"{face[name]:>16}" for name in scenarios))
    attempts = {name: sum(v for (s, _), v in counter.attempts.items() if s == name) for name in scenarios}
    http_calls = {name: sum(v for (s, _, k), v in counter.calls.items() if s == name and k.startswith("https:"))
                  for name in scenarios}
    print(f"{'  HTTP attempts (botocore)':<{width}}" + "".join(f"{attempts[name]:>16}" for name in scenarios)
          + "   (more attempts than botocore calls = retries)")
    print(f"{'  botocore calls':<{width}}"
          + "".join(f"{totals[name] - http_calls[name]:>16}" for name in scenarios))

    print(f"\n{'per handler (invocations)':<{width}}{head}")
    for handler in HANDLERS:
        cells = []
        for name in scenarios:
            calls = sum(v for (s, h, _), v in counter.calls.items() if s == name and h == handler)
            cells.append(f"{calls} ({counter.invocations[(name, handler)]})")
        print(f"{handler:<{width}}" + "".join(f"{c:>16}" for c in cells))

    detail = scenarios[1] if len(scenarios) > 1 else scenarios[0]
    print(f"\nper handler, by operation ({detail}):")
    for handler in HANDLERS:
        ops = sorted((k, v) for (s, h, k), v in counter.calls.items() if s == detail and h == handler)
        invocations = counter.invocations[(detail, handler)]
        print(f"  {handler:<26} {invocations} invocation(s): "
              + (", ".join(f"{k} x{v}" for k, v in ops) or "no AWS calls"))

    connection = [(k, v) for (s, h, k), v in sorted(counter.calls.items()) if s == CONNECTION]
    if connection:
        per_handler = {h: sum(v for (s, hh, _), v in counter.calls.items() if s == CONNECTION and hh == h)
                       for h in ("ws_connect", "ws_message", "ws_disconnect")}
        print(f"\nthe watching client's connection, once per connection (not per application): "
              f"{sum(v for _, v in connection)} calls: $connect {per_handler['ws_connect']}, "
              f"subscribe my-applications {per_handler['ws_message']}, $disconnect {per_handler['ws_disconnect']}")
    if WATCHED in scenarios:
        frames = [f for f, s in zip(counter.frames, counter.frame_scenarios, strict=True)
                  if s == WATCHED and isinstance(f, dict) and f.get("type") == "events"]
        print(f"frames pushed to the watching client: {len(frames)} ({sum(len(f['events']) for f in frames)} events)")

    print(f"\n{'transactions vs commits':<{width}}{head}")
    tx = {name: sum(v for (s, _, k), v in counter.calls.items() if s == name and k == "dynamodb:TransactWriteItems")
          for name in scenarios}
    attempts = {n: counter.commits[(n, "ok")] + counter.commits[(n, "failed")] for n in scenarios}
    rows = [("dynamodb:TransactWriteItems (all)", tx),
            ("repository commit attempts", attempts),
            ("repository commits ok", {n: counter.commits[(n, "ok")] for n in scenarios}),
            ("repository commits lost a race", {n: counter.commits[(n, "failed")] for n in scenarios}),
            ("history events committed", {n: counter.commits[(n, "events")] for n in scenarios}),
            ("  commits writing the biometric record", {n: counter.commits[(n, "biometric record")] for n in scenarios}),
            ("history events (final)", {n: len(results[n]["history"]) for n in scenarios})]
    for label, values in rows:
        print(f"{label:<{width}}" + "".join(f"{values[n]:>16}" for n in scenarios))
    for name in scenarios:
        ok = counter.commits[(name, "ok")]
        verdict = "no more attempts than commits" if attempts[name] == ok else "MORE attempts than commits"
        print(f"{name}: {attempts[name]} commit attempts for {ok} commits: {verdict} "
              f"({tx[name]} TransactWriteItems in all, claims and subscriptions included); "
              f"history {results[name]['history']}")
    if counter.elsewhere:
        print("\ncalls on other threads while a handler ran (not attributed):",
              dict(counter.elsewhere))
    print(f"\n(ran {len(scenarios)} applications in {elapsed:.1f} s; the client's upload and the "
          "harness's stream/queue reads are not counted)")
    face_ops = collections.Counter()
    for (s, h, k), v in counter.calls.items():
        if s == "warm" and h in FACE_HANDLERS:
            face_ops[k] += v
    print("\nthe face check's own calls (warm), by operation: "
          + ", ".join(f"{k} x{v}" for k, v in sorted(face_ops.items())))
    shared = results.get(SHARED)
    if shared:
        report_shared(counter, len(shared), platform.get("warm"))
    print(f"\nSUMMARY platform: warm {platform.get('warm')} calls per auto-approved application "
          f"(cold {platform.get('cold')}); watched by a WebSocket client {platform.get(WATCHED)} "
          f"(target <= {PLATFORM_TARGET}); delivered at once {platform.get(AT_ONCE)}")
    print(f"SUMMARY face check: warm {face.get('warm')} calls (cold {face.get('cold')}); "
          f"watched {face.get(WATCHED)}; delivered at once {face.get(AT_ONCE)}")
    print(f"SUMMARY all: warm {totals.get('warm')} (cold {totals.get('cold')}); watched {totals.get(WATCHED)}; "
          f"delivered at once {totals.get(AT_ONCE)}")


def report_shared(counter: CallCounter, count: int, alone: Optional[int]) -> None:
    """The ``--shared`` run, per application: by handler (calls, invocations), the outbox's batches."""
    def calls(handler: Optional[str] = None, face: Optional[bool] = None) -> int:
        return sum(v for (s, h, _), v in counter.calls.items() if s == SHARED and (handler is None or h == handler)
                   and (face is None or (h in FACE_HANDLERS) == face))

    platform, face = calls(face=False), calls(face=True)
    print(f"\n{count} applications in step ({SHARED}: the stream's batches and the queues' SQS events shared), "
          f"per application:")
    for handler in HANDLERS:
        if counter.invocations[(SHARED, handler)]:
            print(f"  {handler:<26} {calls(handler) / count:>6.2f} calls, "
                  f"{counter.invocations[(SHARED, handler)] / count:.2f} invocations")
    tx = sum(v for (s, _, k), v in counter.calls.items() if s == SHARED and k == "dynamodb:TransactWriteItems")
    attempts = counter.commits[(SHARED, "ok")] + counter.commits[(SHARED, "failed")]
    print(f"  commit attempts {attempts} for {counter.commits[(SHARED, 'ok')]} commits "
          f"({tx} TransactWriteItems in all)")
    print(f"SUMMARY shared batches: {count} applications in step: platform {platform / count:.1f} calls per "
          f"application (one alone: {alone}); face check {face / count:.1f}")


if __name__ == "__main__":
    sys.exit(main())
