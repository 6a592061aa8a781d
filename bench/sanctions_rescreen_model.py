"""Model: how long a delta re-screening of N approved customers takes, and what it costs, on AWS.

    python -m bench.sanctions_rescreen_model [--customers 1000000] [--delta 60] [--segments 100]
                                             [--prices bench/prices-2026-11-29.json]

The design it prices (docs/sanctions.md, "Customers re-screened when the lists change"):

* a projection of approved customers' screening keys, one small DynamoDB item per customer
  (application and applicant ids, names, birth date, nationality, sex, approval time),
  written when an application is approved and deleted when its retention ends;
* a refresh that adds or changes entries writes the DELTA (those entries only) as a small
  index to S3 and sends ``segments`` messages to the re-screening queue, one per segment of
  a DynamoDB parallel Scan of the projection (TotalSegments = segments): every customer is
  read exactly once per refresh, whatever the delta;
* each worker Lambda scans its segment page by page (1 MB a page) and screens every customer
  against the delta index in memory; a hit is a conditional write of a case and a history
  event (rare: priced at the rate given).

Measured here, on the real lists (tests/data/sanctions): the CPU time to screen one customer
against a delta index of ``--delta`` entries drawn from the list (so the delta looks like a
real one: the same cultures), on customers drawn from the benchmark's populations, and the
projection item's size by DynamoDB's rules. Everything else is an assumption, printed with
the result: Scan page latency, Lambda memory, the share of customers hit.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import percentile  # noqa: E402
from chalicelib.domain.sanctions import Applicant, ScreeningIndex, parse_sdn, parse_un, screen  # noqa: E402
from tests.support.sanctions_lists import ApplicantNames  # noqa: E402
from tests.support.sanctions_people import FAKER_CULTURES, FakerCultures  # noqa: E402

DATA = ROOT / "tests" / "data" / "sanctions"
SCAN_PAGE_BYTES = 1024 * 1024  # DynamoDB returns at most 1 MB per Scan page
READ_UNIT_BYTES = 4096


def item_bytes(item: dict) -> int:
    """DynamoDB's item size: attribute names plus values (strings as UTF-8, numbers ~ digits/2 + 1)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if isinstance(value, (int, float)):
            size += len(str(value)) // 2 + 1
        elif isinstance(value, list):
            size += 3 + sum(len(str(v).encode()) + 1 for v in value)
        else:
            size += len(str(value).encode())
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--delta", type=int, default=60, help="entries added or changed by one refresh")
    parser.add_argument("--segments", type=int, default=100, help="parallel Scan segments = worker invocations")
    parser.add_argument("--sample", type=int, default=3000, help="customers screened to measure the CPU time")
    parser.add_argument("--page-latency-ms", type=float, default=60.0, help="one 1 MB Scan page (assumed)")
    parser.add_argument("--memory-mb", type=int, default=1024, help="the worker Lambda (1 GB: as screen_sanctions)")
    parser.add_argument("--hit-rate", type=float, default=0.0005, help="share of customers hit (cases written)")
    parser.add_argument("--prices", type=Path, default=ROOT / "bench" / "prices-2026-11-29.json")
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args()
    prices = json.loads(args.prices.read_text())
    rng = random.Random(args.seed)

    sdn = parse_sdn((DATA / "sdn.csv").read_text(encoding="latin-1"), (DATA / "alt.csv").read_text(encoding="latin-1"))
    un = parse_un((DATA / "un_consolidated.xml").read_bytes())
    entries = list(sdn.entries) + list(un.entries)
    delta_entries = rng.sample(entries, args.delta)
    started = time.process_time()
    delta = ScreeningIndex(delta_entries, {}, "delta")
    delta_build_s = time.process_time() - started
    delta_blob = delta.dumps()

    faker = FakerCultures(args.seed)
    general = ApplicantNames(random.Random(args.seed))
    customers = []
    for n in range(args.sample):
        if n % 3 == 0:
            person = faker.person(rng.choice(list(FAKER_CULTURES)))
            customers.append(Applicant((person.name,), person.birth, person.nationality, person.sex))
        else:
            person = general.applicant()
            customers.append(Applicant((person.name,), person.birth, person.nationality))
    times = []
    for customer in customers:
        started = time.process_time()
        screen(delta, customer)
        times.append(time.process_time() - started)
    per_customer_s = sum(times) / len(times)

    example = {
        "application_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "applicant_id": "7d793037-a076-4a5b-9f8e-1c3c0b2a1d11",
        "names": ["Maria Fernanda Garcia Lopez"],
        "date_of_birth": "1984-03-12",
        "nationality": "ESP",
        "sex": "F",
        "approved_at": "2026-11-29T10:15:00.000Z",
    }
    size = item_bytes(example)
    total_bytes = size * args.customers
    pages = math.ceil(total_bytes / SCAN_PAGE_BYTES)
    read_units = math.ceil(total_bytes / READ_UNIT_BYTES) * 0.5  # eventually consistent Scan: half a unit per 4 KB
    cpu_share = min(args.memory_mb / 1769, 1.0)  # Lambda: one full vCPU at 1,769 MB
    screen_s = args.customers * per_customer_s / cpu_share
    scan_s = pages * args.page_latency_ms / 1000
    per_segment_s = (screen_s + scan_s) / args.segments
    wall_s = per_segment_s + 2.0  # + the fan-out and a cold start that loads the delta index (tens of KB)
    lambda_gb_s = (screen_s + scan_s + args.segments * 2.0) * args.memory_mb / 1024
    hits = args.customers * args.hit_rate
    cost = {
        "DynamoDB Scan (read units)": read_units * prices["dynamodb_read_request_unit"],
        "Lambda compute": lambda_gb_s * prices["lambda_gb_second"],
        "Lambda requests + SQS messages": args.segments * (prices["lambda_request"] + 3 * prices["sqs_request"]),
        "S3 (delta index put + gets)": prices["s3_put_post_list_request"] + args.segments * prices["s3_get_head_request"],
        "cases for hits (transaction: case + history, 2 units per item)": hits
        * 4
        * prices["dynamodb_write_request_unit"],
    }
    print(f"delta index: {args.delta} entries drawn from the real lists, built in {delta_build_s * 1000:.0f} ms CPU, "
          f"{len(delta_blob) / 1024:.1f} KiB gzip")
    print(f"measured: screening one customer against it: mean {per_customer_s * 1e6:.0f} us CPU, "
          f"p99 {percentile(times, 99) * 1e6:.0f} us (n={len(times)}, this machine's CPU)")
    print(f"projection item: {size} bytes (DynamoDB's size rules) -> {total_bytes / 1e6:.0f} MB for "
          f"{args.customers:,} customers, {pages} Scan pages, {read_units:,.0f} read request units")
    print(f"assumed: Scan page {args.page_latency_ms:.0f} ms, worker {args.memory_mb} MB ({cpu_share:.2f} vCPU), "
          f"{args.segments} segments, {args.hit_rate:.2%} of customers hit")
    print(f"\nwall time: about {wall_s:.0f} s ({wall_s / 60:.1f} min) with {args.segments} workers in parallel "
          f"(each: {per_segment_s:.1f} s = {screen_s / args.segments:.1f} s screening + {scan_s / args.segments:.1f} s "
          f"reading); one worker alone would take {(screen_s + scan_s) / 60:.0f} min")
    for what, dollars in cost.items():
        print(f"  {what:<64} ${dollars:8.4f}")
    print(f"  {'total per delta re-screening of ' + format(args.customers, ',') + ' customers':<64} "
          f"${sum(cost.values()):8.4f}")
    _ = replace


if __name__ == "__main__":
    main()
