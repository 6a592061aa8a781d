"""Pages read a second by the local Textract with one worker process and with more (issue 23, T2).

    python -m bench.ocr_workers [--pages 12] [--workers 1,2] [--seed 2323] [--rounds 1]   (./dev bench ocr_workers)

The local stack's Textract reads each page in a worker process (devstack/textract.PageReaders): the image
work (decode, deskew, flatten, binarise, glyph matching) runs under one GIL per process and Tesseract beside
it, so N workers should read N pages at once on N cores. Before, the stack read in its own process: two
Tesseract slots were no faster under load, the image work serialising on the GIL.

``--pages`` distinct passport pages (tests/support/passports.sample, seeded: baseline look, a holder each,
none read before) are asked for at once, from as many threads as the local Textract's HTTP server would run
for as many concurrent requests, of a pool of each size of ``--workers`` in turn; each pool is warmed first
by one page per worker (its first read builds the OCR-B templates; not measured). The same pages in every
pass (the pool has no cache: each is read again). ``--rounds`` repeats the passes, alternating, and keeps each
size's best. Prints pages a second per size (and the workers' CPU: seconds a page, cores kept busy), the ratio of each to the first size's (the baseline, measured in
the same run), the machine's cores and load average, and whether every pass read the same lines.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/x.py` as well as `python -m bench.x`
    sys.path.insert(0, str(ROOT))

SMOKE_ARGS = ['--pages', '1', '--no-warm-up']  # every step, two page reads in all


def lines_of(response: dict) -> list[str]:
    return [block["Text"] for block in response["Blocks"] if block["BlockType"] == "LINE"]


def read_all(readers, pages: list[bytes]) -> tuple[float, list[list[str]]]:
    """Seconds to read every page, asked for all at once; the lines read."""
    started = time.perf_counter()
    with ThreadPoolExecutor(len(pages)) as callers:  # one thread a request, as ThreadingHTTPServer runs them
        responses = list(callers.map(readers.read, pages))
    return time.perf_counter() - started, [lines_of(response) for response in responses]


def cpu_seconds(pids: list[int]) -> float:
    """CPU the worker processes have used, with the Tesseract runs they waited for (/proc; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ocr_workers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=12, help="distinct pages asked for at once, per pass")
    parser.add_argument("--workers", default="1,2", help="pool sizes, in turn; the first is the baseline")
    parser.add_argument("--seed", type=int, default=2323)
    parser.add_argument("--rounds", type=int, default=1, help="passes per size, alternating; the best is kept")
    parser.add_argument("--no-warm-up", action="store_true", help="measure the pools' first reads too")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.workers.split(",")]

    from devstack.textract import PageReaders
    from tests.support.passports import sample

    print(f"ocr_workers: {args.pages} distinct pages at once, pools of {' and '.join(map(str, sizes))} worker "
          f"processes; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}", flush=True)
    pages = [sample(args.seed + index)[2] for index in range(args.pages)]
    warm = [sample(args.seed - 1 - index)[2] for index in range(max(sizes))]
    best: dict[int, float] = {}
    readings: dict[int, list[list[str]]] = {}
    for round_ in range(args.rounds):
        for size in sizes if round_ % 2 == 0 else list(reversed(sizes)):
            readers = PageReaders(size)
            try:
                if not args.no_warm_up:
                    read_all(readers, warm[:size])
                cpu_before = cpu_seconds(readers.pids())
                seconds, lines = read_all(readers, pages)
                cpu = cpu_seconds(readers.pids()) - cpu_before
            finally:
                readers.shutdown()
            rate = len(pages) / seconds
            print(f"  round {round_ + 1}, {size} worker{'s' if size > 1 else ''}: {len(pages)} pages in "
                  f"{seconds:.2f} s = {rate:.2f} pages/s; CPU {cpu:.1f} s ({cpu / len(pages):.2f} s a page, "
                  f"{cpu / seconds:.2f} cores busy); load average {os.getloadavg()[0]:.2f}", flush=True)
            best[size] = max(best.get(size, 0.0), rate)
            readings.setdefault(size, lines)
            if lines != readings[size] or lines != readings[sizes[0]]:
                print(f"  DIFFERENT lines read by the pool of {size}", flush=True)
    base = best[sizes[0]]
    for size in sizes:
        print(f"SUMMARY {size} worker{'s' if size > 1 else ''}: {best[size]:.2f} pages/s, "
              f"{best[size] / base:.2f}x {sizes[0]} worker{'s' if sizes[0] > 1 else ''}")
    same = all(readings[size] == readings[sizes[0]] for size in sizes)
    print(f"SUMMARY same lines read by every pool: {'yes' if same else 'NO'}; "
          f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
