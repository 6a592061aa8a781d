"""Seal every application's pre-upgrade (unkeyed, version-1) history under the chain key: run ONCE, right
after the keyed history chain is first deployed to a stage that has applications from before it.

    python -m scripts.seal_legacy_history --stage prod

Each application whose history verifies as the old plain SHA-256 chain up to its stored head gets that
head MACed under the chain key (``legacy_seal`` on its item); from then on its old events verify, and
its new ones are keyed. Applications keyed throughout, or sealed already, are left; one whose old chain
does not verify is left unsealed and keeps showing ``chain_intact: false``. Idempotent. Run it before
anyone could rewrite a keyed history into an unkeyed one: a seal vouches for whatever it finds.
The identity it runs as needs the history functions' rights (dynamodb Scan/Query/UpdateItem on the two
tables, kms:GenerateMac on HistoryChainKey). See docs/security.md.
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Iterable


def seal_all(application_ids: Iterable[str]) -> tuple[int, int]:
    """(sealed, looked at)."""
    from chalicelib.bootstrap import services

    applications = services().applications
    sealed = seen = 0
    for application_id in application_ids:
        seen += 1
        sealed += applications.seal_legacy_history(application_id)
    return sealed, seen


def all_application_ids() -> Iterable[str]:
    from chalicelib.adapters.dynamodb_models import ApplicationModel
    from chalicelib.bootstrap import services

    _ = services().dynamodb_connection  # binds the models to the stage's tables
    for item in ApplicationModel.scan(attributes_to_get=["application_id"]):
        yield item.application_id


def main(argv: list[str] | None = None) -> None:
    from scripts.chalice_stage import load_overlay
    from scripts.deploy import ROOT

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    env = load_overlay(ROOT, args.stage).get("environment_variables")
    if not env:
        raise SystemExit(f"stage {args.stage} has no recorded outputs: run scripts/deploy.py --stage {args.stage}")
    os.environ.update(env)
    sealed, seen = seal_all(all_application_ids())
    print(f"sealed {sealed} pre-upgrade histories of {seen} applications")


if __name__ == "__main__":
    main()
