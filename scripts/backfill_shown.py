"""Give every application the applicant's numbering as today's rule counts it: run after a release that changes
which events the applicant is shown (docs/security.md, "What the applicant sees of the history"), and once on a
stage with applications from before the numbering was kept.

    python -m scripts.backfill_shown --stage prod --dry-run      # count what it would change, change nothing
    python -m scripts.backfill_shown --stage prod                # then do it
    python -m scripts.backfill_shown --stage prod --after <id>   # resume after the last id it printed

Each application's head as the applicant reads it (``shown_seq``: the count of events shown to them, which the
subscription answers and the notifier numbers new frames from; ``shown_version``, ``shown_at``: the version and
time their views give) is recounted from its recorded history (``disclosure.head_from_history``) where it is
missing (written before the numbering) or counts more events than today's rule shows (numbered when staff work
was shown). Each is set by a change of no event, conditioned on the version read and moving it by one, so an
application changed meanwhile is read and decided again, and a commit made from the old item loses and retries:
the history and its chain are untouched. Idempotent (a second run changes nothing) and resumable (``--after``;
``--max`` stops after so many and prints where to go on). The identity it runs as needs Scan/Query/TransactGet/
TransactWrite on the applications and history tables (no KMS: nothing is hashed).

The events keep the ``shown_seq`` stored with them: nothing reads it back (the history is numbered as it is read,
the notifier numbers a new event from the application's count).
"""
from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from typing import Optional


def application_ids(after: Optional[str] = None) -> Iterator[str]:
    """Every application id, in the table's scan order, from the one after ``after``."""
    from chalicelib.adapters.dynamodb_models import ApplicationModel
    from chalicelib.bootstrap import services

    _ = services().dynamodb_connection  # binds the models to the stage's tables
    start = {"application_id": {"S": after}} if after else None
    for item in ApplicationModel.scan(attributes_to_get=["application_id"], last_evaluated_key=start):
        yield item.application_id


def backfill(
    after: Optional[str] = None, dry_run: bool = False, most: Optional[int] = None, rate: float = 50.0
) -> tuple[int, int, Optional[str]]:
    """(looked at, renumbered or would be, the last id looked at when it stopped at ``most``: resume after it)."""
    from chalicelib.bootstrap import services

    applications = services().applications
    seen = changed = 0
    last: Optional[str] = None
    started = time.monotonic()
    for application_id in application_ids(after):
        if most is not None and seen >= most:
            return seen, changed, last
        seen += 1
        changed += applications.renumber_shown(application_id, dry_run=dry_run)
        last = application_id
        time.sleep(max(0.0, seen / rate - (time.monotonic() - started)))  # shares the tables with live traffic
    return seen, changed, None


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.backfill_shown", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", help="the stage's recorded outputs (else the environment's table names)")
    parser.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")
    parser.add_argument("--after", help="resume after this application id (the last one a run printed)")
    parser.add_argument("--max", type=int, help="stop after looking at so many applications")
    parser.add_argument("--rate", type=float, default=50.0, help="applications a second at most")
    args = parser.parse_args(argv)
    if args.stage:
        from scripts.chalice_stage import load_overlay
        from scripts.deploy import ROOT

        env = load_overlay(ROOT, args.stage).get("environment_variables")
        if not env:
            raise SystemExit(f"stage {args.stage} has no recorded outputs: run scripts/deploy.py --stage {args.stage}")
        os.environ.update(env)
    seen, changed, last = backfill(args.after, args.dry_run, args.max, args.rate)
    verb = "would renumber" if args.dry_run else "renumbered"
    print(f"looked at {seen} applications; {verb} {changed}")
    if last is not None:
        print(f"stopped at --max: resume with --after {last}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
