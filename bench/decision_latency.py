"""Decision latency on the local stack: document uploaded -> the client sees APPROVED.

    python -m bench.decision_latency [--count 20] [--workers 4] [--no-concurrent]

One ``python -m devstack up`` on free ports; an applicant of its own signs up.
For each application: create (its answer carries the upload form), the
holder's liveness check (issue 17: nothing is decided without the face check),
upload a passport carrying the holder's face through the presigned POST, then
poll ``GET /applications/{id}`` (fresh connection, 50 ms apart) until it is
APPROVED. Measured: the time from the upload's response to the first poll
response that shows the decision -- what a client polling at 50 ms
experiences, with S3 notification -> identity check, stream -> outbox -> SNS
-> SQS -> address check, and the fan-in consolidation in between.

Baseline, in the same run: the median round trip of one ``GET
/applications/{id}`` on the same stack (ratio = decision latency / one API
round trip). A sequential pass, then (unless --no-concurrent) a second pass
with the same count submitted by a small thread pool, reported separately.
"""
from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
import sys
import time

from bench._common import (HOLDERS, Stuck, allow_many_applications, call, diagnose, header, holder_passport, median,
                           ms, percentile, start_stack, submit_with_document, summary, timed_call)

POLL_INTERVAL_S = 0.05
DECISION_DEADLINE_S = 180.0  # OCR and the face engine on a busy 2-core machine (the suite's OUTCOME_S)
BASELINE_REQUESTS = 30
FINAL = ("APPROVED", "REJECTED", "FLAGGED", "WITHDRAWN", "EXPIRED")


#: The face its applicant shows: one that bench.load's first two clients (its smoke run) do not show, so that on
#: a stack the benches share (tests/test_benches.py) no application here is FLAGGED for a face seen under
#: another applicant (DUPLICATE_FACE).
HOLDER = HOLDERS[2]


def one_application(stack, token: str, body: dict, data: bytes) -> dict:
    # The liveness check first (nothing is decided without the face check): the upload is the last step.
    app_id, uploaded_at = submit_with_document(stack, token, body, data, selfie=True, holder=HOLDER)
    polls: list[float] = []
    deadline = uploaded_at + DECISION_DEADLINE_S
    while True:
        reply, rtt = timed_call(stack.api_url, "GET", f"/applications/{app_id}", token)
        seen_at = time.perf_counter()
        polls.append(rtt)
        state = reply.json().get("state") if reply.status_code == 200 else f"HTTP {reply.status_code}"
        if state in FINAL:
            if state != "APPROVED":
                raise Stuck(f"{app_id} ended {state}, not APPROVED: {reply.text[:300]}")
            return {"id": app_id, "latency": seen_at - uploaded_at, "polls": polls}
        if seen_at > deadline:
            raise Stuck(f"application {app_id} still {state} {DECISION_DEADLINE_S:.0f} s after its upload: "
                        + diagnose(stack, token, app_id))
        time.sleep(POLL_INTERVAL_S)


def baseline_rtt(stack, token: str, app_id: str, count: int = BASELINE_REQUESTS) -> list[float]:
    times = []
    for _ in range(count):
        reply, rtt = timed_call(stack.api_url, "GET", f"/applications/{app_id}", token)
        if reply.status_code != 200:
            raise RuntimeError(f"baseline GET -> {reply.status_code}")
        times.append(rtt)
    return times


def report(label: str, results: list[dict], base: float, wall: float, wanted: int) -> None:
    if len(results) < wanted:
        print(f"{label}: INCOMPLETE, {len(results)} of {wanted} applications decided")
    if not results:
        return
    latencies = [r["latency"] for r in results]
    polls = [p for r in results for p in r["polls"]]
    print(summary(f"{label}: upload -> sees APPROVED", latencies, base))
    print(f"{'':<34} polls per application median {median([len(r['polls']) for r in results]):.0f}, "
          f"poll round trip median {ms(median(polls))} p95 {ms(percentile(polls, 95))}; "
          f"pass wall time {wall:.2f} s ({len(results) / wall:.2f} applications/s end to end)")


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS = ['--count', '1', '--workers', '2']


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decision_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="thread pool of the concurrent pass")
    parser.add_argument("--no-concurrent", action="store_true", help="sequential pass only")
    args = parser.parse_args(argv)

    from bench.load import sign_up_clients
    from tests.support.documents import make_declared

    header(f"decision latency: {args.count} auto-approved applications on the local stack")
    body = make_declared()
    data = holder_passport(body, HOLDER)  # matches the declaration and carries the holder's face (noise is FLAGGED)
    with start_stack() as stack:
        allow_many_applications(stack)  # 1 + 2 x count applications: past an applicant's daily limit
        [token] = sign_up_clients(stack, 1)  # its own applicant: the demo one may have spent its day
        # Warm-up (first-call costs: JWKS fetch, settings cache, lazy clients), not measured.
        try:
            warm = one_application(stack, token, body, data)
        except Stuck as error:
            print(f"PROBLEM: the warm-up application was never decided: {error}")
            return 1
        base_times = baseline_rtt(stack, token, warm["id"])
        base = median(base_times)

        problems: list[str] = []
        started = time.perf_counter()
        sequential: list[dict] = []
        try:
            for _ in range(args.count):
                sequential.append(one_application(stack, token, body, data))
        except Stuck as error:  # the stack stopped deciding: later ones would only time out too
            problems.append(f"sequential pass stopped: {error}")
        sequential_wall = time.perf_counter() - started

        parallel = None
        if not args.no_concurrent and not problems:
            parallel = []
            started = time.perf_counter()
            with ThreadPoolExecutor(args.workers) as pool:
                futures = [pool.submit(one_application, stack, token, body, data) for _ in range(args.count)]
                for future in futures:
                    try:
                        parallel.append(future.result())
                    except Stuck as error:
                        problems.append(f"concurrent pass: {error}")
            concurrent_wall = time.perf_counter() - started
        base_after = median(baseline_rtt(stack, token, warm["id"]))
        still_ok = call(stack.api_url, "GET", "/health").status_code

    print(summary("baseline: GET /applications/{id}", base_times))
    print(f"{'':<34} (re-measured after the passes: median {ms(base_after)}; /health {still_ok})")
    report("sequential", sequential, base, sequential_wall, args.count)
    if parallel is not None:
        report(f"concurrent ({args.workers} threads)", parallel, base, concurrent_wall, args.count)
    for problem in problems[:3]:
        print(f"PROBLEM: {problem}")
    if len(problems) > 3:
        print(f"PROBLEM: ... and {len(problems) - 3} more stuck applications")
    print(f"stack stopped with exit code {stack.exit_code}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
