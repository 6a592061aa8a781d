"""Live-update latency: a reviewer's decision -> the WebSocket frame at the applicant's client.

    python -m bench.websocket_latency [--count 50] [--prepare-workers 4]

One ``python -m devstack up`` on free ports. Preparation (not measured):
``--count`` applications whose address is a PO box get a real JPEG through
the presigned POST and are polled until FLAGGED. Then, one at a time: the
applicant connects to ``ws_url?token=...`` with the ``websockets`` sync
client, subscribes to the application and waits for the ``subscribed`` ack;
the demo reviewer POSTs ``/review/applications/{id}/decision`` (approve,
fresh connection); the time runs from sending that request to the arrival of
the ``{"type": "events", "events": [{..., "state": "APPROVED"}]}`` frame (taken by
a receiving thread the moment the frame is read, so it is not delayed by the
HTTP call still returning).

The path measured: decision transaction -> history stream -> publish_history
-> SNS -> notify_subscribers -> the management API (``@connections``) -> the
WebSocket gateway -> the client. Baseline, in the same run: the decision
request's own HTTP round trip.
"""
from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from bench._common import (Stuck, allow_many_applications, call, diagnose, header, holder_passport, median, ms,
                           start_stack, submit_with_document,
                           summary, timed_call)

PO_BOX = {"country": "GB", "street_address": ["PO Box 42"], "city": "London", "postal_code": "SW1A 2AA"}
FLAG_DEADLINE_S = 60.0  # OCR and the face engine on a busy 2-core machine
FRAME_DEADLINE_S = 10.0
POLL_INTERVAL_S = 0.05


def flagged_application(stack, token: str, body: dict, data: bytes) -> str:
    app_id, uploaded_at = submit_with_document(stack, token, body, data, selfie=True)  # face check first
    while True:
        reply = call(stack.api_url, "GET", f"/applications/{app_id}", token)
        state = reply.json().get("state") if reply.status_code == 200 else f"HTTP {reply.status_code}"
        if state == "FLAGGED":
            return app_id
        if state in ("APPROVED", "REJECTED", "WITHDRAWN", "EXPIRED"):
            raise Stuck(f"{app_id} ended {state}, not FLAGGED: {reply.text[:300]}")
        if time.perf_counter() - uploaded_at > FLAG_DEADLINE_S:
            raise Stuck(f"application {app_id} still {state} {FLAG_DEADLINE_S:.0f} s after its upload: "
                        + diagnose(stack, token, app_id))
        time.sleep(POLL_INTERVAL_S)


class Subscriber:
    """One WebSocket connection; a thread stamps every frame the moment it is read."""

    def __init__(self, ws_url: str, token: str) -> None:
        from websockets.sync.client import connect

        started = time.perf_counter()
        self.ws = connect(f"{ws_url}?token={quote(token)}", open_timeout=10, close_timeout=2)
        self.connect_s = time.perf_counter() - started
        self.frames: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, name="bench-ws-reader", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            for raw in self.ws:
                self.frames.put((time.perf_counter(), json.loads(raw)))
        except ConnectionClosed:
            pass
        self.frames.put(None)

    def send(self, frame: dict) -> None:
        self.ws.send(json.dumps(frame))

    def wait_for(self, predicate, timeout: float) -> tuple[float, dict]:
        deadline = time.perf_counter() + timeout
        seen = []
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no matching frame within {timeout:.0f} s; got {seen[-5:]}")
            try:
                item = self.frames.get(timeout=left)
            except queue.Empty:
                continue
            if item is None:
                raise ConnectionError(f"the WebSocket closed; got {seen[-5:]}")
            stamp, frame = item
            if predicate(frame):
                return stamp, frame
            seen.append(frame)

    def close(self) -> None:
        self.ws.close()
        self.thread.join(5)


def one_decision(stack, applicant: str, reviewer: str, app_id: str) -> dict[str, Any]:
    subscriber = Subscriber(stack.ws_url, applicant)
    try:
        started = time.perf_counter()
        subscriber.send({"action": "subscribe", "application_id": app_id})
        _, ack = subscriber.wait_for(lambda f: f.get("type") in ("subscribed", "error"), FRAME_DEADLINE_S)
        if ack.get("type") != "subscribed":
            raise RuntimeError(f"subscribe refused: {ack}")
        subscribe_s = time.perf_counter() - started
        sent_at = time.perf_counter()
        reply, rtt = timed_call(stack.api_url, "POST", f"/review/applications/{app_id}/decision", reviewer,
                                json={"decision": "approve", "reason": "bench"})
        if reply.status_code != 200:
            raise RuntimeError(f"decision -> {reply.status_code}: {reply.text[:300]}")
        arrived_at, _ = subscriber.wait_for(
            lambda f: f.get("type") == "events" and f["events"][-1].get("state") == "APPROVED",
            FRAME_DEADLINE_S)
        return {"latency": arrived_at - sent_at, "rtt": rtt, "connect": subscriber.connect_s,
                "subscribe": subscribe_s, "before_reply": arrived_at < sent_at + rtt}
    finally:
        subscriber.close()


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS = ['--count', '1', '--prepare-workers', '2']


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.websocket_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--prepare-workers", type=int, default=4)
    args = parser.parse_args(argv)

    from bench.load import sign_up_clients
    from tests.support.documents import make_declared

    header(f"websocket latency: reviewer decision -> APPROVED frame at the applicant, {args.count} decisions")
    body = make_declared(address=PO_BOX)  # the address check sends it to a reviewer
    data = holder_passport(body)  # read, and the holder's face for the face check
    with start_stack() as stack:
        if not stack.ws_url:
            print("PROBLEM: the local stack has no WebSocket gateway (ws_url is null): app.py registers "
                  "no WebSocket handlers")
            return 1
        allow_many_applications(stack)  # count + 1 applications: past an applicant's daily limit
        [applicant] = sign_up_clients(stack, 1)  # its own applicant: the demo one may have spent its day
        reviewer = stack.token("reviewer")
        started = time.perf_counter()
        problems: list[str] = []
        ids: list[str] = []
        with ThreadPoolExecutor(args.prepare_workers) as pool:
            futures = [pool.submit(flagged_application, stack, applicant, body, data)
                       for _ in range(args.count + 1)]  # +1: a warm-up decision, not measured
            for future in futures:
                try:
                    ids.append(future.result())
                except Stuck as error:  # the stack stopped deciding: do not wait for the rest
                    problems.append(f"preparation: {error}")
                    pool.shutdown(wait=True, cancel_futures=True)
                    ids += [f.result() for f in futures if f.done() and not f.cancelled() and not f.exception()
                            and f.result() not in ids]
                    break
        prepared_s = time.perf_counter() - started
        print(f"prepared {len(ids)} FLAGGED applications in {prepared_s:.1f} s "
              f"({args.prepare_workers} threads)", flush=True)
        results = []
        if ids:
            label = "the warm-up decision"
            try:
                one_decision(stack, applicant, reviewer, ids.pop())
                for number, app_id in enumerate(ids, start=1):
                    label = f"decision {number}"
                    results.append(one_decision(stack, applicant, reviewer, app_id))
            except (TimeoutError, ConnectionError, RuntimeError, OSError) as error:
                problems.insert(0, f"{label}: {error}")

    if results:
        rtts = [r["rtt"] for r in results]
        base = median(rtts)
        print(summary("baseline: decision HTTP round trip", rtts))
        print(summary("decision -> APPROVED frame", [r["latency"] for r in results], base))
        print(f"{'':<34} WebSocket connect median {ms(median([r['connect'] for r in results]))}, "
              f"subscribe->ack median {ms(median([r['subscribe'] for r in results]))}; "
              f"frames that beat the HTTP reply: {sum(r['before_reply'] for r in results)}")
    if len(results) < args.count:
        print(f"INCOMPLETE: {len(results)} of {args.count} decisions measured")
    for problem in problems[:3]:
        print(f"PROBLEM: {problem}")
    if len(problems) > 3:
        print(f"PROBLEM: ... and {len(problems) - 3} more")
    print(f"stack stopped with exit code {stack.exit_code}")
    return 1 if problems or len(results) < args.count else 0


if __name__ == "__main__":
    sys.exit(main())
