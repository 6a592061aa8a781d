"""Load on the local stack: many applications from concurrent clients, submit to decision.

    python -m bench.load [--clients 3] [--counts 200,1000] [--baseline 20] [--same-page | --one-way] [--measure-calls]

One ``python -m devstack up`` on free ports. Each client is its own Cognito
user (signed up through the stack's Cognito) with its own WebSocket
connection, and works like the reference client, one application at a time:

    create     POST /applications                     (its answer carries the presigned POSTs)
    selfie     the liveness check, as ./dev selfie takes it (consent, session, frames, complete):
               nothing is decided without the face check (issue 17)
    upload     the POST straight to the local S3 (a passport carrying the holder's face)
    decision   upload answered -> the WebSocket frame with APPROVED/FLAGGED/REJECTED
    total      create sent -> decision seen

Each client subscribes once, to ``my-applications``, when it connects (as the
console does), so watching costs no call per application.

Each client is a different person (``bench._common.HOLDERS``: a face of
tests/data/faces that can pass the local liveness check, its own photo on its
data page): the face check takes the same face under another applicant for a
second identity and FLAGS it, so a client beyond the distinct faces there are
(three) reuses one and its applications end FLAGGED (printed; the default is
one client per face). By default every application uploads a page of its own
(its own document number, matching its declaration), so the local Textract
reads every upload for real (one page per core at once: the local Textract's
worker processes, ``DEVSTACK_OCR_WORKERS``); with
``--same-page`` each client uploads one page again and again and the local
Textract answers identical bytes from its cache, so the pass measures the app
and the local stack without OCR (in AWS, OCR is Textract's managed service;
the local engine's own speed and read rate are ``bench/ocr_read_rate.py``'s).
By default it reports both ways in one run: after the loaded passes, the
last count again with one page per client (its first reading of each
client's page counted), and the ratio of the two rates; ``--one-way`` leaves
that pass out (``--both``, the default, is still accepted).

Passes, on the same stack one after the other: the baseline (one client,
``--baseline`` applications: the unloaded latency of each step), then each
of ``--counts`` with ``--clients`` clients. Printed per pass: the rate
(applications decided per second of wall time), p50/p95/p99 of each step and
how many were lost (no decision within DECISION_DEADLINE_S, checked again
through the API at the end). Ratios: each step's p50 to the baseline's p50,
and the rate of the last pass to the rate of the first (the tables grow
between them). Exit status 1 if any application was lost.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench._common import (HOLDERS, ROOT, Holder, allow_many_applications, call, header, holder_passport, percentile,
                           start_stack, take_selfie, upload)

STEPS = ("create", "selfie", "upload", "decision", "total")
FINAL = ("APPROVED", "FLAGGED", "REJECTED")
DECISION_DEADLINE_S = 180.0  # real OCR on every upload, on a busy 2-core machine (the suite's OUTCOME_S)
TARGET_RATE = 5.0
TARGET_DECISION_P50_S = 1.0


@dataclass
class Pass:
    label: str
    clients: int
    count: int
    wall: float = 0.0
    timings: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    outcomes: dict[str, str] = field(default_factory=dict)  # application id -> final state
    lost: list[str] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)  # application id -> its applicant's token
    errors: list[str] = field(default_factory=list)

    @property
    def decided(self) -> int:
        return len(self.outcomes)

    @property
    def rate(self) -> float:
        return self.decided / self.wall if self.wall else 0.0


class Client:
    """One applicant: a Cognito user, a WebSocket connection, one application at a time."""

    def __init__(self, stack: Any, token: str, holder: Holder, same_page: bool) -> None:
        from websockets.sync.client import connect

        from tests.support.documents import make_declared

        self.stack = stack
        self.token = token
        self.holder = holder
        self.same_page = same_page
        self.body = make_declared()
        self.page = holder_passport(self.body, holder) if same_page else b""
        self._connection = connect(f"{stack.ws_url}?token={token}", open_timeout=30, max_size=None)
        self.ws = self._connection.__enter__()
        self.ws.send(json.dumps({"action": "subscribe", "topic": "my-applications"}))
        if self._await(lambda f: f.get("type") == "subscribed", time.perf_counter() + 30) is None:
            raise RuntimeError("no 'subscribed' frame for my-applications")

    def close(self) -> None:
        self._connection.__exit__(None, None, None)

    def _await(self, predicate: Any, deadline: float) -> dict | None:
        while (remaining := deadline - time.perf_counter()) > 0:
            try:
                frame = json.loads(self.ws.recv(timeout=remaining))
            except TimeoutError:
                return None
            if predicate(frame):
                return frame
        return None

    def next_page(self) -> tuple[dict, bytes]:
        """The declaration and data page of the next application: this client's one page (``--same-page``), or
        a page of its own (another document number, so another page the local Textract has not read)."""
        if self.same_page:
            return self.body, self.page
        from tests.support.documents import make_declared

        body = make_declared(doc_overrides={"number": f"{uuid.uuid4().int % 10**9:09d}"})
        return body, holder_passport(body, self.holder)

    def one(self, record: Pass, lock: threading.Lock) -> None:
        body, data = self.next_page()  # rendered before the clock starts: the client's own work
        started = time.perf_counter()
        created = call(self.stack.api_url, "POST", "/applications", self.token, json=body)
        created_at = time.perf_counter()
        if created.status_code != 201:
            raise RuntimeError(f"create -> {created.status_code}: {created.text[:200]}")
        app_id = created.json()["id"]
        with lock:
            record.owners[app_id] = self.token
        form = created.json()["uploads"]["image/jpeg"]
        take_selfie(self.stack, self.token, app_id, self.holder, attempts=LIVENESS_ATTEMPTS)
        selfie_at = time.perf_counter()
        uploaded = upload(form, data, "image/jpeg")
        uploaded_at = time.perf_counter()
        if uploaded.status_code not in (200, 201, 204):
            raise RuntimeError(f"upload -> {uploaded.status_code}: {uploaded.text[:200]}")
        frame = self._await(lambda f: f.get("type") == "events" and f.get("application_id") == app_id
                            and f["events"][-1].get("state") in FINAL,
                            uploaded_at + DECISION_DEADLINE_S)
        decided_at = time.perf_counter()
        with lock:
            if frame is None:
                record.lost.append(app_id)
                return
            record.outcomes[app_id] = frame["events"][-1]["state"]
            for step, seconds in (("create", created_at - started), ("selfie", selfie_at - created_at),
                                  ("upload", uploaded_at - selfie_at),
                                  ("decision", decided_at - uploaded_at), ("total", decided_at - started)):
                record.timings[step].append(seconds)


def allow_liveness_attempts(stack: Any, attempts: int) -> None:
    """Let an application take ``attempts`` liveness sessions on this stack (Parameter Store, as an operator
    would): the photos meet both turn challenges and never a blink, which a person would simply retry."""
    import boto3

    ssm = boto3.client("ssm", endpoint_url=stack.info["moto_url"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ssm.put_parameter(Name=stack.info["env"]["SETTINGS_PATH"].rstrip("/") + "/face_liveness_max_attempts",
                      Value=str(attempts), Type="String", Overwrite=True)


def sign_up_clients(stack: Any, count: int) -> list[str]:
    """ID tokens of ``count`` new applicants (sign-up as the README shows, confirmed by admin)."""
    import boto3

    env = stack.info["env"]
    idp = boto3.client("cognito-idp", endpoint_url=stack.info["moto_url"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    tokens = []
    for _ in range(count):
        email, password = f"load-{uuid.uuid4().hex[:10]}@example.com", "Load-Password-123"
        idp.sign_up(ClientId=env["USER_POOL_CLIENT_ID"], Username=email, Password=password,
                    UserAttributes=[{"Name": "email", "Value": email}])
        idp.admin_confirm_sign_up(UserPoolId=env["USER_POOL_ID"], Username=email)
        tokens.append(idp.initiate_auth(ClientId=env["USER_POOL_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
                                        AuthParameters={"USERNAME": email, "PASSWORD": password}
                                        )["AuthenticationResult"]["IdToken"])
    return tokens


def run_pass(stack: Any, tokens: list[str], label: str, count: int, same_page: bool) -> Pass:
    record = Pass(label, len(tokens), count)
    lock = threading.Lock()
    remaining = iter(range(count))
    clients = [Client(stack, token, HOLDERS[n % len(HOLDERS)], same_page) for n, token in enumerate(tokens)]

    def work(client: Client) -> None:
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            try:
                client.one(record, lock)
            except Exception as error:  # noqa: BLE001 - counted and shown, the pass goes on
                with lock:
                    record.errors.append(f"{type(error).__name__}: {error}")

    started = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(work, clients))
    record.wall = time.perf_counter() - started
    for client in clients:
        client.close()
    # "Lost" means never decided, not "frame missed": ask the API once more.
    for app_id in list(record.lost):  # asked with its own applicant's token (anyone else's gets 404)
        state = call(stack.api_url, "GET", f"/applications/{app_id}", record.owners[app_id]).json().get("state")
        if state in FINAL:
            record.lost.remove(app_id)
            record.errors.append(f"{app_id} decided ({state}) but its frame was not seen in time")
    return record


def report(record: Pass, baseline: Pass | None) -> None:
    print(f"\n{record.label}: {record.count} applications, {record.clients} client(s): "
          f"{record.decided} decided in {record.wall:.1f} s = {record.rate:.2f} applications/s; "
          f"lost {len(record.lost)}; errors {len(record.errors)}")
    outcomes: dict[str, int] = {}
    for state in record.outcomes.values():
        outcomes[state] = outcomes.get(state, 0) + 1
    print(f"  outcomes {outcomes}")
    for step in STEPS:
        values = record.timings[step]
        if not values:
            continue
        p50, p95, p99 = (percentile(values, pct) for pct in (50, 95, 99))
        line = f"  {step:<9} p50 {p50 * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms   p99 {p99 * 1000:8.1f} ms"
        if baseline is not None and baseline.timings[step]:
            line += f"   p50/baseline {p50 / percentile(baseline.timings[step], 50):5.2f}x"
        print(line)
    for error in record.errors[:5]:
        print(f"  error: {error}")


TARGET_EFFICIENCY = 0.6


def calls_per_application(measure: bool = False) -> tuple[int, str]:
    """AWS calls of one warm auto-approved application, as ``bench/aws_calls.py`` counts them: from its last
    measurement (``bench/capacity-inputs.json``, what ``python -m bench.capacity --measure`` saved), or
    measured again (``measure``: its own process, a minute or two)."""
    if not measure:
        inputs = json.loads((ROOT / "bench" / "capacity-inputs.json").read_text())
        warm = inputs["scenarios"]["warm"]
        return sum(sum(entry["calls"].values()) for entry in warm.values()), f"measured {inputs['measured']}"
    out = subprocess.run([sys.executable, "-m", "bench.aws_calls"], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, check=True).stdout
    total = next(line for line in out.splitlines() if line.startswith("TOTAL calls"))
    return int(total.split()[3]), "measured now"  # the "warm" column


def call_latency(stack: Any, samples: int = 100) -> float:
    """Median seconds of one DynamoDB GetItem against the stack's local AWS (a warm client, nothing else running)."""
    import boto3

    dynamodb = boto3.client("dynamodb", endpoint_url=stack.info["moto_url"], region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    table = stack.info["env"]["APPLICATIONS_TABLE_NAME"]
    timings = []
    for _ in range(samples + 5):
        started = time.perf_counter()
        dynamodb.get_item(TableName=table, Key={"application_id": {"S": str(uuid.uuid4())}})
        timings.append(time.perf_counter() - started)
    return statistics.median(timings[5:])


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
#: The smoke run (tests/test_benches.py): both ways, two clients at once, a one-application baseline; no warm-up
#: application (its pass still runs, empty: a warm-up only keeps first-call costs out of figures nobody reads here,
#: and each application costs ~6 s of CPU: selfie frames, the face check, OCR).
SMOKE_ARGS = ['--clients', '2', '--counts', '2', '--baseline', '1', '--warm-up', '0']
#: Liveness sessions an application may take (its stack's face_liveness_max_attempts is raised to it): these
#: photos meet both turn challenges, never a blink, so a third of the sessions cannot pass.
LIVENESS_ATTEMPTS = 8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=len(HOLDERS),
                        help=f"concurrent applicants (default {len(HOLDERS)}: one per distinct face, see HOLDERS)")
    parser.add_argument("--counts", default="200,1000", help="applications per loaded pass")
    parser.add_argument("--baseline", type=int, default=20, help="applications of the one-client pass")
    parser.add_argument("--warm-up", type=int, default=3, help="applications before the baseline (not measured)")
    parser.add_argument("--same-page", action="store_true",
                        help="each client uploads one page again and again (the local Textract's cache answers)")
    parser.add_argument("--both", action="store_true",
                        help="the default: then the last count again with --same-page (real OCR against cached pages)")
    parser.add_argument("--one-way", action="store_true",
                        help="no cached pass after the real-OCR passes (only a page of its own per application)")
    parser.add_argument("--measure-calls", action="store_true",
                        help="measure the calls per application again (bench.aws_calls) for the efficiency line")
    args = parser.parse_args(argv)
    counts = [int(count) for count in args.counts.split(",")]

    pages = "one page per client, read once (--same-page)" if args.same_page else "a page of its own per application"
    header(f"load: {' then '.join(map(str, counts))} applications from {args.clients} clients, "
           f"submit to decision, on one local stack; {pages}")
    if args.clients > len(HOLDERS):
        print(f"note: {args.clients} clients for {len(HOLDERS)} distinct faces: clients beyond the first "
              f"{len(HOLDERS)} reuse a face, and their applications end FLAGGED (the same face, another applicant)")
    passes: list[Pass] = []
    with start_stack() as stack:
        allow_many_applications(stack)  # each client opens far more than an applicant's daily limit, polls more
        allow_liveness_attempts(stack, LIVENESS_ATTEMPTS)
        latency = call_latency(stack)
        tokens = sign_up_clients(stack, args.clients)
        run_pass(stack, tokens[:1], "warm-up", args.warm_up, args.same_page)  # first-call costs, not measured
        baseline = run_pass(stack, tokens[:1], "baseline", args.baseline, args.same_page)
        report(baseline, None)
        for count in counts:
            passes.append(run_pass(stack, tokens, f"load {count}", count, args.same_page))
            report(passes[-1], baseline)
        cached = None
        if not (args.one_way or args.same_page):  # both ways, unless asked for one
            cached = run_pass(stack, tokens, f"cached {counts[-1]}", counts[-1], True)
            report(cached, baseline)

    first, last = passes[0], passes[-1]
    decision_p50 = percentile(last.timings["decision"], 50) if last.timings["decision"] else float("inf")
    lost = sum(len(record.lost) for record in [baseline, *passes, *([cached] if cached else [])])
    print(f"\nrate {last.label} / {first.label}: {last.rate / first.rate if first.rate else float('nan'):.2f} "
          "(target >= 0.80)")
    print(f"rate {last.label}: {last.rate:.2f}/s (target >= {TARGET_RATE:.0f}/s; "
          f"{last.rate / baseline.rate if baseline.rate else float('nan'):.2f}x the one-client baseline)")
    if cached is not None:
        print(f"rate {last.label} (a page of its own each, real OCR) / {cached.label} (one cached page per client): "
              f"{last.rate / cached.rate if cached.rate else float('nan'):.2f} ({last.rate:.2f}/s against "
              f"{cached.rate:.2f}/s)")
    print(f"decision p50 {last.label}: {decision_p50 * 1000:.0f} ms (target <= {TARGET_DECISION_P50_S * 1000:.0f} ms)")
    calls, measured = calls_per_application(args.measure_calls)
    print(f"calls per application: {calls} ({measured})")
    for record in (baseline, last):
        total_p50 = percentile(record.timings["total"], 50) if record.timings["total"] else float("inf")
        print(f"efficiency {record.label}: {calls} calls x {latency * 1000:.1f} ms / {total_p50 * 1000:.0f} ms "
              f"per application (total p50) = {calls * latency / total_p50:.2f} (target >= {TARGET_EFFICIENCY})")
    print(f"lost: {lost}")
    print(f"stack stopped with exit code {stack.exit_code}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
