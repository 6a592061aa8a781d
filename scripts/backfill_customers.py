"""Project the customers approved before re-screening shipped (issue 20): run ONCE, right after the
customers table and the ``project_customers`` function are first deployed to a stage that already has
approved applications.

    python -m scripts.backfill_customers --stage prod
    eval "$(./dev env)" && python -m scripts.backfill_customers --from-env     # the local stack

Every application the state index holds as APPROVED within re-screening retention
(``customer_rescreening_days``) gets its screening profile in the customers table, exactly as the
``application.approved`` subscription writes it (``CustomerProjection.backfill``): a Query of the state
index, one PutItem per customer, no Scan of the applications table. Idempotent: a second run, or one
racing the projection queue, rewrites the same items. Customers approved from then on reach the table
through the queue. The identity it runs as needs ``dynamodb:Query`` on the applications table's state
index, ``dynamodb:PutItem``/``DeleteItem`` on the customers table and ``ssm:GetParametersByPath`` on the
settings path (the ``project_customers`` function's rights plus the Query). See docs/sanctions.md.
"""
from __future__ import annotations

import argparse
import json
import os


def backfill() -> dict[str, int]:
    """The counts: approved applications read, customers projected, ones past retention."""
    from chalicelib.bootstrap import services

    return services().customer_projection.backfill()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stage", default="dev", help="a deployed stage (its recorded outputs)")
    where.add_argument("--from-env", action="store_true",
                       help="the environment as it is (e.g. after eval \"$(./dev env)\" for the local stack)")
    args = parser.parse_args(argv)
    if not args.from_env:
        from scripts.chalice_stage import load_overlay
        from scripts.deploy import ROOT

        env = load_overlay(ROOT, args.stage).get("environment_variables")
        if not env:
            raise SystemExit(f"stage {args.stage} has no recorded outputs: run scripts/deploy.py --stage {args.stage}")
        os.environ.update(env)
    elif not os.environ.get("CUSTOMERS_TABLE_NAME"):
        raise SystemExit("no CUSTOMERS_TABLE_NAME in the environment: eval \"$(./dev env)\" first, or give --stage")
    print(json.dumps(backfill()))


if __name__ == "__main__":
    main()
