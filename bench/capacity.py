"""Capacity model: what AWS allows this design at 100, 1,000 and 5,000 applications a second, and what it costs.

    python -m bench.capacity                  # from the last measurement (bench/capacity-inputs.json)
    python -m bench.capacity --measure        # measure again (bench.aws_calls' run + --shared 10, ~2 min), save, print
    python -m bench.capacity --rates 100,1000,5000 --no-face

The per-application work is MEASURED on the local stack by ``bench.aws_calls``
(every AWS call each handler makes for one auto-approved application, unwatched
and watched by a WebSocket client, the handlers' own CPU time, and the sizes of
the items written); ``bench/capacity-inputs.json`` keeps the last measurement
with its date. On top, what the measurement cannot give (the figures: bench/_capacity_assumptions.py):

* AWS's latency per call (typical in-region figures) -> each function's time
  per invocation -> its concurrency at a rate (Little's law);
* how the history stream batches at a rate (a shard per ~1,000 writes/s,
  polled about 4 times a second, 100 records a batch at most): the outbox's
  PublishBatch and counter transactions are per batch, shared by the
  applications in it;
* the client: every applicant signs up and signs in once (Cognito), opens one
  WebSocket connection and watches all their applications on it, and the
  console re-reads the application and its history once per pushed frame;
* the face check (issue 17, being built by face-core): its Rekognition calls
  per application, from its contract (FACE-CONTRACT.md) and the published
  quotas, not measured here (``--no-face`` leaves it out).

Printed: each AWS quota's use at each rate (over 70 % marked, the first limit
named), hot keys (every partition key's writes against the 1,000 WCU/s a
partition takes), each function's concurrency and the reserved concurrency to
set, the quota increases 1,000/s needs to stay under 70 %, and the cost per
million applications at 1,000/s with the dated price table.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from bench._common import ROOT, header
from bench._capacity_assumptions import CLIENT, DEFAULT_LATENCY, FACE, LATENCY

INPUTS = ROOT / "bench" / "capacity-inputs.json"
TARGET_USE = 0.70
STATE_SHARDS = 16  # chalicelib/adapters/dynamodb_applications.STATE_SHARDS
COUNTER_SHARDS = 256  # chalicelib/adapters/dynamodb_counters.SHARDS
STREAM_POLLS_PER_SECOND = 4  # Lambda polls each stream shard about four times a second
STREAM_BATCH = 100  # publish_history's batch_size
SHARD_WRITES_PER_SECOND = 1000  # a history-stream shard per table partition, ~1,000 writes/s each

#: The face check's handlers, measured by bench.aws_calls since issue 17 landed (inputs measured before it
#: lack them: then ``FACE``, the calls face-core's contract named, stands in).
FACE_HANDLERS = ("biometric_consent", "start_liveness_session", "complete_liveness_session", "check_face")


@dataclass
class Load:
    """Per second, at one rate: calls by service:operation, invocations and busy seconds by function,
    DynamoDB units by table, writes by hot key."""

    rate: float
    calls: dict[str, float] = field(default_factory=dict)
    invocations: dict[str, float] = field(default_factory=dict)
    busy: dict[str, float] = field(default_factory=dict)  # function -> concurrent executions
    wru: dict[str, float] = field(default_factory=dict)
    rru: dict[str, float] = field(default_factory=dict)
    hot: dict[str, float] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)

    def add(self, table: dict[str, float], key: str, value: float) -> None:
        table[key] = table.get(key, 0.0) + value


# --- inputs ------------------------------------------------------------------------------


def measure() -> dict[str, Any]:
    """One bench.aws_calls run, reduced to what the model reads."""
    from bench.aws_calls import measure as run

    counter, scenarios, results, _ = run(shared=SHARED_APPLICATIONS)
    profile: dict[str, Any] = {"measured": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                               "command": "python -m bench.capacity --measure", "scenarios": {}}
    for scenario in ("warm", "watched", "the connection"):
        handlers: dict[str, Any] = {}
        for (s, handler, op), n in counter.calls.items():
            if s == scenario:
                handlers.setdefault(handler, {"calls": {}, "invocations": 0, "cpu_seconds": 0.0})["calls"][op] = n
        for (s, handler), n in counter.invocations.items():
            if s == scenario:
                entry = handlers.setdefault(handler, {"calls": {}, "invocations": 0, "cpu_seconds": 0.0})
                entry["invocations"] = n
                entry["cpu_seconds"] = round(counter.cpu[(s, handler)], 4)
        profile["scenarios"][scenario] = handlers
    warm = results["warm"]
    profile["events"] = len(warm["history"])
    profile["sizes"] = warm["sizes"]
    # Application commits (each rewrites the application item) and how many of them wrote the biometric
    # record's own item too (issue 23), in the usual order.
    profile["commits"] = {"application": counter.commits[("warm", "ok")],
                          "biometric_record": counter.commits[("warm", "biometric record")]}
    profile["frames"] = sum(1 for f, s in zip(counter.frames, counter.frame_scenarios, strict=True)
                            if s == "watched" and isinstance(f, dict) and f.get("type") == "events")
    # A container's settings refresh (once a minute): GetParametersByPath returns ten parameters a page, so
    # the cold application's first read of the settings is all the pages one refresh costs.
    # The model's batching checked against a measured one: SHARED_APPLICATIONS in step, sharing every batch.
    from bench.aws_calls import FACE_HANDLERS as FACE_OWN, SHARED

    profile["shared"] = {
        "applications": SHARED_APPLICATIONS,
        "platform_calls_per_application": round(sum(n for (s, h, _), n in counter.calls.items()
                                                    if s == SHARED and h not in FACE_OWN) / SHARED_APPLICATIONS, 2),
        "command": f"python -m bench.aws_calls --shared {SHARED_APPLICATIONS}",
    }
    profile["settings_calls_per_refresh"] = sum(n for (s, _, op), n in counter.calls.items()
                                                if s == "cold" and op == "ssm:GetParametersByPath")
    return profile


# --- the model ------------------------------------------------------------------------------


#: Applications the measurement runs in step (bench.aws_calls --shared): about a full batch at 1,000/s.
SHARED_APPLICATIONS = 10


def platform_calls_per_application(profile: dict[str, Any], rate: float = 1000) -> float:
    """The model's platform calls per application, unwatched (every handler's but the face check's own, whose
    measured calls are a fixed set an application): what ``bench.aws_calls --shared`` measures."""
    load = model(profile, rate, face=True, watched=False)
    face_own = sum(n for handler, entry in profile["scenarios"]["warm"].items() if handler in FACE_HANDLERS
                   for n in entry["calls"].values())
    return sum(load.calls.values()) / rate - face_own


#: Parameters a GetParametersByPath page holds at most (AWS's MaxResults limit).
PARAMETERS_PER_PAGE = 10
SETTINGS_REFRESH_SECONDS = 60  # chalicelib/adapters/parameters.py: each container, at most once a minute


def settings_parameters(resources: Path = ROOT / "resources.yaml") -> int:
    """The stage's settings: the Parameter Store parameters resources.yaml puts under its path."""
    return resources.read_text().count('Name: !Sub "/account-opening/${Stage}/')


def settings_calls_per_refresh(profile: dict[str, Any]) -> int:
    """GetParametersByPath calls one container's settings refresh makes: measured (the cold application's),
    else one per page of the parameters resources.yaml defines."""
    measured = profile.get("settings_calls_per_refresh")
    return int(measured) if measured else math.ceil(settings_parameters() / PARAMETERS_PER_PAGE)


def units(size_bytes: float, unit: int) -> int:
    return max(1, math.ceil(size_bytes / unit))


def model(profile: dict[str, Any], rate: float, face: bool = True, watched: bool = True) -> Load:
    load = Load(rate)
    scenario = profile["scenarios"]["watched" if watched else "warm"]
    sizes = profile["sizes"]
    app_wcu = units(sizes["application_item"], 1024)
    app_rcu = units(sizes["application_item"], 4096)
    record_size = sizes.get("biometric_item", 0)  # inputs before issue 23's split: inside the application item
    record_wcu = units(record_size, 1024) if record_size else 0
    record_rcu = units(record_size, 4096) if record_size else 0
    history_wcu = [units(n, 1024) for n in sizes["history_items"]]
    measured_face = any(handler in FACE_HANDLERS for handler in scenario)
    # Measured runs include the face check's events and messages; --no-face takes the contract's count off.
    face_events = FACE["events"] if face != measured_face else 0
    events = profile["events"] + (face_events if face else -face_events)
    transitions = 3  # AWAITING_DOCUMENTS, VERIFYING, APPROVED: the state index's key changes (and counters)

    # the stream: shards and batches at this rate
    history_writes = rate * events
    shards = max(1, math.ceil(history_writes / SHARD_WRITES_PER_SECOND))
    batch = max(1.0, min(STREAM_BATCH, history_writes / (shards * STREAM_POLLS_PER_SECOND)))
    batches = history_writes / batch
    apps_per_batch = max(1.0, batch / events)
    face_messages = 2 if face != measured_face else 0
    messages_per_app = (scenario.get("notify_subscribers", {}).get("invocations", 4)
                        + (face_messages if face else -face_messages))
    messages = rate * messages_per_app
    load.extra.update(stream_shards=shards, records_per_batch=batch, batches_per_second=batches,
                      messages_per_second=messages, applications_per_batch=apps_per_batch)

    for handler, entry in scenario.items():
        if handler in FACE_HANDLERS and not face:
            continue
        per_batch = handler == "publish_history"
        invocations = batches if per_batch else rate * entry["invocations"]
        calls = dict(entry["calls"])
        if per_batch:  # per batch, shared: PublishBatch by ten messages (the commits count: issue 22)
            calls = {"sns:PublishBatch": math.ceil(messages / batches / 10)}
            cpu = entry["cpu_seconds"] / max(1, entry["invocations"]) * (batch / events)
            per_invocation = calls
            scale = batches
        else:
            cpu = entry["cpu_seconds"] / max(1, entry["invocations"])
            per_invocation = {op: n / entry["invocations"] for op, n in calls.items()} if entry["invocations"] else {}
            scale = invocations
        function = function_of(handler)
        load.add(load.invocations, function, invocations)
        seconds = cpu + sum(n * LATENCY.get(op, DEFAULT_LATENCY) for op, n in per_invocation.items())
        load.add(load.busy, function, invocations * seconds)
        for op, n in per_invocation.items():
            load.add(load.calls, op, n * scale)

    if face and not measured_face:
        for function, entry in (("api_handler", FACE["api_handler"]), ("check_face", FACE["check_face"])):
            load.add(load.invocations, function, rate * entry["invocations"])
            seconds = sum(n * LATENCY.get(op, DEFAULT_LATENCY) for op, n in entry["calls"].items())
            load.add(load.busy, function, rate * seconds)
            for op, n in entry["calls"].items():
                load.add(load.calls, op, rate * n)

    # the client: Cognito, a connection, re-reads per frame (REST, DynamoDB reads)
    frames = profile.get("frames", 2) if watched else 0
    reads = rate * frames * CLIENT["rest_reads_per_frame"]
    load.add(load.invocations, "api_handler", reads)
    load.add(load.busy, "api_handler", reads * 0.012)
    load.add(load.calls, "dynamodb:TransactGetItems" if record_size else "dynamodb:GetItem", reads / 2)
    load.add(load.calls, "dynamodb:Query", reads / 2)
    load.extra["rest_requests"] = rate * (1 + (3 if face else 0)) + reads
    load.extra["websocket_messages"] = rate * (frames + 2)  # frames pushed, a subscribe and its ack
    load.extra["websocket_connections"] = rate * CLIENT["websocket_connections"] if watched else 0.0
    if watched:
        connection = profile["scenarios"].get("the connection", {})
        for handler, entry in connection.items():
            function = function_of(handler)
            load.add(load.invocations, function, rate * entry["invocations"])
            seconds = entry["cpu_seconds"] + sum(n * LATENCY.get(op, DEFAULT_LATENCY)
                                                 for op, n in entry["calls"].items())
            load.add(load.busy, function, rate * seconds)
            for op, n in entry["calls"].items():
                load.add(load.calls, op, rate * n)
    load.extra["settings_calls_per_refresh"] = settings_calls_per_refresh(profile)
    load.extra["cognito_sign_ups"] = rate * CLIENT["cognito_sign_ups"]
    load.extra["cognito_sign_ins"] = rate * CLIENT["cognito_sign_ins"]

    # DynamoDB units by table (transactions write every item twice), indexes and hot keys
    commits = load.calls.get("dynamodb:TransactWriteItems", 0.0)
    measured_commits = profile.get("commits", {})
    if measured_commits and face == measured_face:
        app_commits = rate * measured_commits["application"]
        record_commits = rate * measured_commits["biometric_record"]
    else:  # create, address, sanctions, identity (+ face's: consent, session, completion, the check)
        app_commits, record_commits = rate * (4 + (3 + 1 if face else 0)), rate * (4 if face and record_size else 0)
    load.add(load.wru, "applications", app_commits * 2 * app_wcu)
    load.add(load.wru, "applications (open_by_state, keys only)", rate * transitions * 2)  # key changes: del + put
    load.add(load.wru, "applications (by_applicant, whole item)", app_commits * app_wcu)
    if record_size:
        load.add(load.wru, "biometrics", record_commits * 2 * record_wcu)
    load.add(load.wru, "history", rate * 2 * (sum(history_wcu) + (FACE["events"] if face and not measured_face else 0)))
    other_tx = max(0.0, commits - app_commits)  # counters, claims, subscriptions: small items
    load.add(load.wru, "idempotency", (other_tx + rate) * 2 * 3)  # ~3 small items a transaction
    load.add(load.wru, "connections", rate * 4)
    transact_reads = load.calls.get("dynamodb:TransactGetItems", 0.0)  # the application and its record, x2
    load.add(load.rru, "applications", (load.calls.get("dynamodb:GetItem", 0.0) + 2 * transact_reads) * app_rcu)
    if record_size:
        load.add(load.rru, "biometrics", 2 * transact_reads * record_rcu)
    load.add(load.rru, "connections", load.calls.get("dynamodb:Query", 0.0))
    per_state = rate * 2  # each open state gets an index write in and one out per application
    load.hot["open_by_state: one state's shard"] = per_state / STATE_SHARDS
    # Each commit that moves a state adds to one state shard (submitted, VERIFYING, the decision: 3 an application),
    # the decision also to one day shard, in its own transaction (issue 22), 2 WCU an item.
    load.hot["counters: one state shard item"] = rate * 3 / COUNTER_SHARDS * 2
    load.hot["counters: one day shard item"] = rate / COUNTER_SHARDS * 2
    load.hot["review_queue (FLAGGED, 5 % of applications)"] = rate * 0.05 * 2 * app_wcu
    load.hot["applicant's own items (one applicant)"] = 2.0  # an applicant's partition: a few writes a minute
    return load


def function_of(handler: str) -> str:
    """Chalice's Lambda function of a handler: REST routes share api_handler; WebSocket routes theirs."""
    return {
        "create_application": "api_handler", "request_document_upload": "api_handler",
        "biometric_consent": "api_handler", "start_liveness_session": "api_handler",
        "complete_liveness_session": "api_handler",
        "ws_connect": "websocket_connect", "ws_message": "websocket_message", "ws_disconnect": "websocket_disconnect",
    }.get(handler, handler)


# --- quotas -------------------------------------------------------------------------------


def uses(load: Load, quotas: dict[str, Any]) -> list[tuple[str, float, float, str]]:
    """(quota, used per second, quota's value, what it counts) for every quota the design touches."""
    q = {name: spec["value"] for name, spec in quotas.items()}
    calls = load.calls
    rows = [
        ("lambda.concurrency", sum(load.busy.values()), q["lambda.concurrency"]),
        ("apigateway.account_rps", load.extra["rest_requests"] + load.extra["websocket_messages"]
         + calls.get("apigatewaymanagementapi:PostToConnection", 0.0), q["apigateway.account_rps"]),
        ("apigateway.websocket_new_connections", load.extra["websocket_connections"],
         q["apigateway.websocket_new_connections"]),
        ("dynamodb.table_wru", max(load.wru.values()), q["dynamodb.table_wru"]),  # each table and index apart
        ("dynamodb.table_rru", max(load.rru.values()), q["dynamodb.table_rru"]),
        ("dynamodb.partition_wcu", max(load.hot.values()), q["dynamodb.partition_wcu"]),
        ("sns.publish", load.extra["messages_per_second"], q["sns.publish"]),
        ("textract.detect_document_text", calls.get("textract:DetectDocumentText", 0.0),
         q["textract.detect_document_text"]),
        ("rekognition.detect_faces", calls.get("rekognition:DetectFaces", 0.0), q["rekognition.detect_faces"]),
        ("rekognition.compare_faces", calls.get("rekognition:CompareFaces", 0.0), q["rekognition.compare_faces"]),
        ("rekognition.search_faces_by_image", calls.get("rekognition:SearchFacesByImage", 0.0),
         q["rekognition.search_faces_by_image"]),
        ("rekognition.index_faces", calls.get("rekognition:IndexFaces", 0.0), q["rekognition.index_faces"]),
        ("rekognition.liveness_sessions", calls.get("rekognition:CreateFaceLivenessSession", 0.0),
         q["rekognition.liveness_sessions"]),
        ("cognito.sign_up", load.extra["cognito_sign_ups"], q["cognito.sign_up"]),
        ("cognito.sign_in", load.extra["cognito_sign_ins"], q["cognito.sign_in"]),
        ("kms.symmetric", kms_requests(load), q["kms.symmetric"]),
        ("ssm.get_parameters_by_path", settings_calls(load), q["ssm.get_parameters_by_path"]),
    ]
    return [(name, used, float(value), quotas[name]["unit"]) for name, used, value in rows if value]


def kms_requests(load: Load) -> float:
    """KMS calls made on our behalf: S3 (bucket keys: few), SQS and SNS (data keys reused for 5 min per
    principal), DynamoDB (a table key cached): about one per new execution environment a few minutes,
    plus S3 object reads without bucket-key reuse. A rough ceiling: 1 % of the S3 and SQS calls."""
    s3 = sum(v for k, v in load.calls.items() if k.startswith("s3:"))
    return 0.01 * (s3 + load.extra["messages_per_second"] * 3) + containers(load) / 300


def settings_calls(load: Load) -> float:
    """GetParametersByPath calls a second: every container refreshes its settings once a minute, a call per
    page of ten parameters (one call a refresh before this was counted: the model said a quarter of it)."""
    return containers(load) / SETTINGS_REFRESH_SECONDS * load.extra["settings_calls_per_refresh"]


def containers(load: Load) -> float:
    """Execution environments alive: the concurrency, with some idle ones kept warm (x1.5)."""
    return sum(load.busy.values()) * 1.5


# --- sizing -------------------------------------------------------------------------------

#: Functions the model sizes (the per-application path and the client's WebSocket routes); the scheduled
#: jobs run one at a time and keep the stage's default reserved concurrency.
SIZED = ("api_handler", "verify_identity_document", "check_address", "screen_sanctions", "publish_history",
         "notify_subscribers", "websocket_connect", "websocket_message", "websocket_disconnect", "check_face")
MIN_RESERVED = 5
CONFIG = ROOT / ".chalice" / "config.json"


def highest_share(load: Load, quotas: dict[str, Any]) -> tuple[str, float]:
    """The quota nearest its limit at this load, and its share used."""
    return max(((name, used / value) for name, used, value, _ in uses(load, quotas)), key=lambda r: r[1])


def design_rate(profile: dict[str, Any], quotas: dict[str, Any], face: bool = True) -> float:
    """The highest whole rate at which no quota passes 70 % (bisection: every use grows with the rate)."""
    low, high = 1.0, 100_000.0
    if highest_share(model(profile, low, face=face), quotas)[1] > TARGET_USE:
        return low
    while high - low > 0.5:
        middle = (low + high) / 2
        if highest_share(model(profile, middle, face=face), quotas)[1] <= TARGET_USE:
            low = middle
        else:
            high = middle
    return math.floor(low)


def textract_concurrency(quotas: dict[str, Any], calls_per_second: float = 0.0) -> int:
    """The identity-check queue's maximum concurrency: executions that keep DetectDocumentText at 70 % of
    its quota (the default, or the one raised for ``calls_per_second``), each reading one page after another
    (a batch of five) at about the call's latency plus our own work (0.1 s). app.py's IDENTITY_CHECKS_AT_ONCE;
    the stage sets it (IDENTITY_CHECK_MAX_CONCURRENCY)."""
    tps = max(quotas["textract.detect_document_text"]["value"], calls_per_second / TARGET_USE)
    return max(2, math.floor(tps * TARGET_USE * (LATENCY["textract:DetectDocumentText"] + 0.1)))


def reserve(busy: float) -> int:
    """Reserved concurrency for a function that is ``busy`` executions on average: arrivals are about
    Poisson, so three standard deviations over the mean (sqrt(busy)) covers the second-to-second peaks,
    at 70 % of the reservation; rounded up to a multiple of five, at least five."""
    return max(MIN_RESERVED, math.ceil((busy + 3 * math.sqrt(busy)) / TARGET_USE / 5) * 5)


def sizing(profile: dict[str, Any], rate: float, quotas: dict[str, Any], face: bool = True) -> dict[str, int]:
    """Reserved concurrency per function at ``rate``: from its concurrent executions (Little's law: calls
    and CPU times latency, ``reserve``); the identity check's from Textract's quota (its queue's maximum
    concurrency, which its reservation must not be below)."""
    load = model(profile, rate, face=face)
    sized = {f: reserve(load.busy.get(f, 0.0)) for f in SIZED if f in load.busy}
    sized["verify_identity_document"] = textract_concurrency(quotas, load.calls.get("textract:DetectDocumentText", 0))
    return sized


def write_stage(stage: str, sized: dict[str, int], rate: float, path: Path = CONFIG) -> None:
    """Each sized function's ``reserved_concurrency`` in the stage's ``lambda_functions`` (functions the app
    does not have yet, like the face check, are left out), and the identity-check queue's concurrency."""
    config = json.loads(path.read_text())
    functions = config["stages"][stage].setdefault("lambda_functions", {})
    for function, reserved in sized.items():
        if function in functions or function in config["stages"]["local"].get("lambda_functions", {}):
            functions.setdefault(function, {})["reserved_concurrency"] = reserved
    config["stages"][stage].setdefault("environment_variables", {})["IDENTITY_CHECK_MAX_CONCURRENCY"] = str(
        sized["verify_identity_document"])
    path.write_text(json.dumps(config, indent=2) + "\n")
    print(f"\nwrote {stage}'s reserved concurrency for {rate:,.0f} applications/s into {path.relative_to(ROOT)}")


# --- cost -------------------------------------------------------------------------------


def cost_per_million(load: Load, prices: dict[str, float], memory_gb: float = 0.5) -> dict[str, float]:
    """Dollars per million applications at this rate, by line (list prices, first tier)."""
    per_app = 1.0 / load.rate
    calls = load.calls
    sns_messages = load.extra["messages_per_second"]
    lines = {
        "Lambda requests": sum(load.invocations.values()) * prices["lambda_request"],
        "Lambda GB-s": sum(load.busy.values()) * memory_gb * prices["lambda_gb_second"],
        "API Gateway REST": load.extra["rest_requests"] * prices["api_gateway_rest_request"],
        "API Gateway WebSocket": (load.extra["websocket_messages"]
                                  + calls.get("apigatewaymanagementapi:PostToConnection", 0.0))
        * prices["api_gateway_websocket_message"]
        + load.extra["websocket_connections"] * 10 * prices["api_gateway_websocket_connection_minute"],
        "DynamoDB writes": sum(load.wru.values()) * prices["dynamodb_write_request_unit"],
        "DynamoDB reads": sum(load.rru.values()) * prices["dynamodb_read_request_unit"],
        "S3 requests": (load.rate + calls.get("s3:PutObject", 0.0)) * prices["s3_put_post_list_request"]
        + calls.get("s3:GetObject", 0.0) * prices["s3_get_head_request"],
        "SNS": sns_messages * prices["sns_request"],
        "SQS": (sum(v for k, v in calls.items() if k.startswith("sqs:")) + sns_messages * 2) * prices["sqs_request"],
        "Textract": calls.get("textract:DetectDocumentText", 0.0) * prices["textract_detect_document_text_page"],
        "Rekognition": (calls.get("rekognition:DetectFaces", 0.0) + calls.get("rekognition:CompareFaces", 0.0)
                        + calls.get("rekognition:SearchFacesByImage", 0.0) + calls.get("rekognition:IndexFaces", 0.0))
        * prices.get("rekognition_image", 0.001)
        + calls.get("rekognition:CreateFaceLivenessSession", 0.0) * prices.get("rekognition_face_liveness", 0.015),
    }
    return {line: value * per_app * 1_000_000 for line, value in lines.items()}


# --- printing -------------------------------------------------------------------------------


def measured_face(profile: dict[str, Any]) -> bool:
    """Whether the inputs measured the face check's handlers (since issue 17 landed)."""
    return any(handler in FACE_HANDLERS for handler in profile["scenarios"]["warm"])


def report(profile: dict[str, Any], rates: list[float], quotas: dict[str, Any], prices: dict[str, float],
           face: bool) -> None:
    loads = [model(profile, rate, face=face) for rate in rates]
    print(f"\ninputs: measured {profile['measured']} ({profile['command']}); application item "
          f"{profile['sizes']['application_item']} B, biometric record's item "
          f"{profile['sizes'].get('biometric_item', 0) or '(inside it)'} B, history items {sum(profile['sizes']['history_items'])} B "
          f"for {profile['events']} events, index keys {profile['sizes']['index_keys']} B; "
          f"face check {('included (measured)' if measured_face(profile) else 'included (from its contract, not measured)') if face else 'left out'}; "
          f"a container's settings refresh (once a minute) {settings_calls_per_refresh(profile)} GetParametersByPath "
          f"calls ({settings_parameters()} parameters, {PARAMETERS_PER_PAGE} a page"
          f"{', measured' if profile.get('settings_calls_per_refresh') else ', from resources.yaml'})")
    per_app = {label: sum(model(profile, 1000, face=f, watched=w).calls.values()) / 1000
               for label, f, w in (("unwatched", False, False), ("watched", False, True), ("all", True, True))}
    print(f"AWS calls per application at 1,000/s (the outbox's per-batch calls shared by a batch's applications): "
          f"{per_app['unwatched']:.1f} unwatched, {per_app['watched']:.1f} watched (with the client's connection "
          f"and its re-reads per frame), {per_app['all']:.1f} with the face check too")
    shared = profile.get("shared")
    if shared:
        print(f"checked against measurement: the platform's calls per application, unwatched, at 1,000/s "
              f"{platform_calls_per_application(profile):.1f} in the model, "
              f"{shared['platform_calls_per_application']:.1f} measured with {shared['applications']} applications "
              f"sharing every stream batch ({shared['command']}); one application alone: "
              f"{sum(n for h, e in profile['scenarios']['warm'].items() if h not in FACE_HANDLERS for n in e['calls'].values())}")

    head = "".join(f"{f'{r:,.0f}/s':>14}" for r in rates)
    print(f"\n{'quota (per second unless said)':<40}{'value':>10}{head}   "
          f"use at {', '.join(f'{r:,.0f}' for r in rates)}")
    first: dict[float, tuple[str, float]] = {}
    for row_index, (name, _, value, _) in enumerate(uses(loads[0], quotas["quotas"])):
        cells, marks = [], []
        for load in loads:
            used = uses(load, quotas["quotas"])[row_index][1]
            share = used / value
            cells.append(f"{used:>14,.0f}")
            marks.append(f"{share:.0%}" + ("!" if share > TARGET_USE else ""))
            if load.rate not in first or share > first[load.rate][1]:
                first[load.rate] = (name, share)
        print(f"{name:<40}{value:>10,.0f}{''.join(cells)}   {', '.join(marks)}")
    print("  ! = over 70 % of the quota")
    for load in loads:
        name, share = first[load.rate]
        print(f"first limit at {load.rate:,.0f}/s: {name} at {share:.0%} (headroom x{1 / share:.2f})")

    at = next((load for load in loads if load.rate == 1000), loads[-1])
    print(f"\nhot keys at {at.rate:,.0f}/s (writes/s against 1,000 per partition key):")
    for key, writes in sorted(at.hot.items(), key=lambda kv: -kv[1]):
        print(f"  {key:<48}{writes:>10,.1f}   {writes / 1000:.1%}")
    print(f"  stream: {at.extra['stream_shards']} shards, {at.extra['records_per_batch']:.0f} records a batch, "
          f"{at.extra['batches_per_second']:,.0f} batches/s, {at.extra['messages_per_second']:,.0f} messages/s")

    print(f"\nfunctions at {at.rate:,.0f}/s: invocations/s, concurrent executions (mean)")
    for function in sorted(at.busy, key=lambda f: -at.busy[f]):
        print(f"  {function:<32}{at.invocations.get(function, 0):>10,.0f}{at.busy[function]:>10,.1f}")
    textract = quotas["quotas"]["textract.detect_document_text"]["value"]
    print(f"  (verify_identity_document's queue concurrency is set from Textract's quota: "
          f"{textract} TPS x 70 % x {LATENCY['textract:DetectDocumentText'] + 0.1:.1f} s a check = "
          f"{textract_concurrency(quotas['quotas'])} by default; raise the quota and the concurrency together)")

    rate = design_rate(profile, quotas["quotas"], face=face)
    name, share = highest_share(model(profile, rate, face=face), quotas["quotas"])
    print(f"\nwith the default quotas, the highest rate with every quota at most 70 %: {rate:,.0f}/s "
          f"(then {name} at {share:.0%})")
    print(f"reserved concurrency: at {rate:,.0f}/s (the dev stage, default quotas) | at {at.rate:,.0f}/s "
          "(after the increases below)")
    low, high = sizing(profile, rate, quotas["quotas"], face), sizing(profile, at.rate, quotas["quotas"], face)
    for function in high:
        print(f"  {function:<32}{low[function]:>8,}{high[function]:>10,}")
    account = quotas["quotas"]["lambda.concurrency"]["value"]
    print(f"  sum {sum(low.values()):,} | {sum(high.values()):,} (account concurrency {account:,}, "
          "100 of it never reservable)")

    print(f"\nquota increases for {at.rate:,.0f}/s at most 70 % of each:")
    for name, used, value, unit in uses(at, quotas["quotas"]):
        if used / value > TARGET_USE:
            needed = used / TARGET_USE
            print(f"  {name:<40} {value:>10,.0f} -> {needed:>12,.0f}   ({unit})")

    costs = cost_per_million(at, prices)
    print(f"\ncost per million applications at {at.rate:,.0f}/s ({prices.get('_file', 'prices')}):")
    for line, dollars in sorted(costs.items(), key=lambda kv: -kv[1]):
        print(f"  {line:<28}${dollars:>12,.0f}")
    print(f"  {'TOTAL':<28}${sum(costs.values()):>12,.0f}   "
          f"(without OCR and face: ${sum(v for k, v in costs.items() if k not in ('Textract', 'Rekognition')):,.0f})")


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS: list[str] = []


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measure", action="store_true", help="measure again (bench.aws_calls) and save")
    parser.add_argument("--rates", default="100,1000,5000")
    parser.add_argument("--no-face", action="store_true", help="leave the face check (issue 17) out")
    parser.add_argument("--quotas", default=str(sorted((ROOT / "bench").glob("quotas-*.json"))[-1]))
    parser.add_argument("--prices", default=str(sorted((ROOT / "bench").glob("prices-*.json"))[-1]))
    parser.add_argument("--write-stage", metavar="STAGE",
                        help="write the reserved concurrency the model sets into .chalice/config.json's STAGE")
    parser.add_argument("--rate", type=float,
                        help="with --write-stage: the rate to size for (default: the highest the quotas allow)")
    args = parser.parse_args(argv)
    if args.measure:
        profile = measure()
        INPUTS.write_text(json.dumps(profile, indent=1, sort_keys=True) + "\n")
    else:
        profile = json.loads(INPUTS.read_text())
    rates = [float(r) for r in args.rates.split(",")]
    header(f"capacity: {', '.join(f'{r:,.0f}' for r in rates)} applications/s on AWS, by design")
    quotas = json.loads(Path(args.quotas).read_text())
    prices = json.loads(Path(args.prices).read_text())
    prices["_file"] = Path(args.prices).name
    report(profile, rates, quotas, prices, face=not args.no_face)
    if args.write_stage:
        rate = args.rate or design_rate(profile, quotas["quotas"], face=not args.no_face)
        write_stage(args.write_stage, sizing(profile, rate, quotas["quotas"], face=not args.no_face), rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
