"""Benchmark: the reviewer queue's first page against a small and a large applications table.

    python bench/review_queue.py [--sizes 1000 20000] [--requests 30] [--flagged 0.05]

Starts its own in-process moto server, provisions it from resources.yaml
(stage ``bench``) like the tests do, fills the applications table with
batch writes (through the pynamodb model and the repository's mapping, not
the API), ~5 % of them FLAGGED, and times ``GET /review/queue?limit=20`` through
the Chalice test client as a signed-in reviewer, at each size.

What to read in the output. DynamoDB serves a Query on the sparse
``review_queue`` index by reading only the page: its ScannedCount is the page
size whatever the table size, which is what makes the page cost constant. The
emulator does not work that way: moto answers every Query (on a table or an
index) by walking all the items of the table in Python, so its latency grows
with the table even for a sparse index. The benchmark therefore prints, next
to the timings, the items each approach reads (ScannedCount) and a Scan with a
filter for comparison: the ratio of ScannedCounts is what carries over to AWS;
the ratio of moto timings mostly measures moto.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STAGE = "bench"
PAGE = 20
# Roughly how a live table looks: most applications closed, a few open.
STATE_MIX = {"APPROVED": 0.55, "REJECTED": 0.15, "WITHDRAWN": 0.08, "EXPIRED": 0.07,
             "AWAITING_DOCUMENTS": 0.07, "VERIFYING": 0.03}


def start_local_aws() -> tuple[Any, str]:
    """moto in this process, provisioned from the same template as every stage."""
    import boto3

    from devstack.provision import provision
    from tests.support.aws import start_moto

    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}.items():
        os.environ[name] = value
    # moto as the local stack patches it (DynamoDB made safe, and what the template's delivery part needs of
    # CloudFront): plain moto cannot provision resources.yaml any more
    server, endpoint = start_moto()
    os.environ.update(provision(ROOT / "resources.yaml", STAGE, boto3.session.Session(region_name="us-east-1"),
                                endpoint))
    return server, endpoint


def reviewer_token() -> str:
    import boto3

    from devstack.hosted_ui import staff_tokens

    email = f"bench-reviewer-{uuid.uuid4().hex[:8]}@example.com"
    cognito, pool = boto3.client("cognito-idp"), os.environ["STAFF_USER_POOL_ID"]
    cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": email}])
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="reviewers")
    # The staff client has no password flow (issue 21): what the staff pool's managed login would issue.
    return str(staff_tokens(pool, os.environ["STAFF_USER_POOL_CLIENT_ID"], email)["id_token"])


def synthetic_application(rng: random.Random, flagged_share: float, start: dt.datetime) -> Any:
    """A realistic item: declared data, check results, and for FLAGGED the reasons."""
    from chalicelib.domain.workflow.application import Application, iso
    from chalicelib.domain.workflow.states import State

    created = start + dt.timedelta(seconds=rng.randrange(0, 60 * 24 * 3600))
    if rng.random() < flagged_share:
        state = "FLAGGED"
    else:
        state = rng.choices(list(STATE_MIX), weights=list(STATE_MIX.values()))[0]
    since = created + dt.timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
    checks = {
        "identity": {"check": "identity", "outcome": "REVIEW" if state == "FLAGGED" else "PASS",
                     "reasons": [{"code": "MRZ_NAME_MISMATCH", "outcome": "REVIEW",
                                  "message": "the MRZ name differs from the declared name"}]
                     if state == "FLAGGED" else [], "details": {"document_type": "passport"}},
        "address": {"check": "address", "outcome": "PASS", "reasons": [],
                    "details": {"normalised": {"country": "GB", "postal_code": "SW1A 2AA"}}},
    }
    reasons = tuple({"check": "identity", **r} for r in checks["identity"]["reasons"])
    declared = {
        "full_name": {"given_names": rng.choice(["Emily Jane", "Oliver", "Amara", "Luca"]),
                      "surname": rng.choice(["Carter", "Okafor", "Rossi", "Nguyen"])},
        "date_of_birth": "1990-05-17", "nationality": "GBR", "email": "someone@example.com",
        "phone": "+447700900123",
        "address": {"country": "GB", "street_address": ["10 Downing Street"], "city": "London",
                    "postal_code": "SW1A 2AA"},
        "identity_document": {"type": "passport", "number": "533401372", "issuing_country": "GBR",
                              "expiry_date": "2030-01-01"},
    }
    return Application(
        application_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), applicant_id=str(uuid.uuid4()),
        state=State(state), version=5, created_at=iso(created), updated_at=iso(since), state_since=iso(since),
        declared=declared, checks=checks if state != "AWAITING_DOCUMENTS" else {}, last_seq=5,
        last_hash="f" * 64, document_key=None, decision_reasons=reasons)


def fill(count: int, flagged_share: float, rng: random.Random) -> tuple[int, float]:
    """Batch-write ``count`` applications; returns (how many FLAGGED, seconds taken)."""
    from chalicelib.adapters.dynamodb_applications import to_model
    from chalicelib.adapters.dynamodb_models import ApplicationModel
    from chalicelib.bootstrap import services

    _ = services().dynamodb_connection  # binds the models to the provisioned tables

    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    began = time.perf_counter()
    flagged = 0
    with ApplicationModel.batch_write() as batch:
        for _ in range(count):
            app = synthetic_application(rng, flagged_share, start)
            flagged += app.state.value == "FLAGGED"
            batch.save(to_model(app))
    return flagged, time.perf_counter() - began


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, -(-len(ordered) * pct // 100)) - 1]


def measure_api(client: Any, token: str, requests: int, expected: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):  # warm: JWKS fetch, settings, clients
        client.http.get(f"/review/queue?limit={PAGE}", headers=headers)
    timings = []
    for _ in range(requests):
        began = time.perf_counter()
        reply = client.http.get(f"/review/queue?limit={PAGE}", headers=headers)
        timings.append((time.perf_counter() - began) * 1000)
        body = json.loads(reply.body)
        assert reply.status_code == 200 and len(body["items"]) == expected, (reply.status_code, body)
    return {"median_ms": statistics.median(timings), "p95_ms": percentile(timings, 95)}


def measure_reads(requests: int) -> dict[str, Any]:
    """What DynamoDB would read: the page Query vs a Scan filtering on state."""
    import boto3

    dynamodb = boto3.client("dynamodb")
    table = os.environ["APPLICATIONS_TABLE_NAME"]
    query = {"TableName": table, "IndexName": "review_queue", "Limit": PAGE,
             "KeyConditionExpression": "review_queue = :q", "ExpressionAttributeValues": {":q": {"S": "FLAGGED"}}}
    query_ms, scanned = [], 0
    for _ in range(requests):
        began = time.perf_counter()
        scanned = dynamodb.query(**query)["ScannedCount"]
        query_ms.append((time.perf_counter() - began) * 1000)
    began = time.perf_counter()
    scan_scanned, pages = 0, 0
    kwargs: dict[str, Any] = {"TableName": table, "FilterExpression": "#s = :f",
                              "ExpressionAttributeNames": {"#s": "state"},
                              "ExpressionAttributeValues": {":f": {"S": "FLAGGED"}}}
    while True:  # the whole table must be read to find the oldest FLAGGED ones
        page = dynamodb.scan(**kwargs)
        scan_scanned += page["ScannedCount"]
        pages += 1
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return {"query_median_ms": statistics.median(query_ms), "query_scanned": scanned,
            "scan_ms": (time.perf_counter() - began) * 1000, "scan_scanned": scan_scanned, "scan_pages": pages}


#: The smallest run that still goes through every step (python -m bench --smoke; tests/test_benches.py).
SMOKE_ARGS = ['--sizes', '40', '--requests', '3']


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--flagged", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    server, endpoint = start_local_aws()
    try:
        from chalice.test import Client

        import app as app_module

        token = reviewer_token()
        rng = random.Random(args.seed)
        rows, total, flagged_total = [], 0, 0
        with Client(app_module.app, stage_name="local", project_dir=str(ROOT)) as client:
            for size in sorted(args.sizes):
                flagged, seconds = fill(size - total, args.flagged, rng)
                total, flagged_total = size, flagged_total + flagged
                api = measure_api(client, token, args.requests, min(PAGE, flagged_total))
                reads = measure_reads(max(5, args.requests // 3))
                rows.append({"size": size, "flagged": flagged_total, "fill_s": seconds, **api, **reads})
                print(f"filled to {size:>6} applications ({flagged_total} FLAGGED) in {seconds:5.1f} s; "
                      f"GET /review/queue?limit={PAGE}: median {api['median_ms']:.1f} ms, "
                      f"p95 {api['p95_ms']:.1f} ms over {args.requests} requests", flush=True)
    finally:
        server.stop()

    print()
    print(f"{'applications':>12} {'FLAGGED':>7} | {'API median':>10} {'API p95':>8} | "
          f"{'Query':>7} {'scanned':>7} | {'Scan':>8} {'scanned':>7}")
    for r in rows:
        print(f"{r['size']:>12} {r['flagged']:>7} | {r['median_ms']:>8.1f}ms {r['p95_ms']:>6.1f}ms | "
              f"{r['query_median_ms']:>5.1f}ms {r['query_scanned']:>7} | {r['scan_ms']:>6.0f}ms {r['scan_scanned']:>7}")
    if len(rows) >= 2:
        small, large = rows[0], rows[-1]
        print()
        print(f"ratio {large['size']}/{small['size']}: API median x{large['median_ms'] / small['median_ms']:.2f}, "
              f"p95 x{large['p95_ms'] / small['p95_ms']:.2f}; items read by the queue Query "
              f"x{large['query_scanned'] / small['query_scanned']:.2f} "
              f"(a Scan would read x{large['scan_scanned'] / small['scan_scanned']:.1f})")
        print("moto walks the whole table for every Query, so its timings grow with the table; "
              "DynamoDB reads only the page (ScannedCount above).")


if __name__ == "__main__":
    main()
