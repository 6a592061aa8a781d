"""The backfill of the applicant's numbering (scripts/backfill_shown.py), against the local AWS: records written
before the numbering was kept, or numbered when staff work was shown, get today's count; nothing else changes."""

from __future__ import annotations

import os

import boto3

from tests.support.flows import create_application


def item(application_id: str) -> dict:
    return boto3.client("dynamodb").get_item(TableName=os.environ["APPLICATIONS_TABLE_NAME"], ConsistentRead=True,
                                             Key={"application_id": {"S": application_id}})["Item"]


def update(application_id: str, expression: str, values: dict | None = None) -> None:
    boto3.client("dynamodb").update_item(TableName=os.environ["APPLICATIONS_TABLE_NAME"],
                                         Key={"application_id": {"S": application_id}}, UpdateExpression=expression,
                                         **({"ExpressionAttributeValues": values} if values else {}))


def head(application_id: str) -> tuple:
    found = item(application_id)
    return tuple(found.get(k, {}).get("N") or found.get(k, {}).get("S") for k in ("shown_seq", "shown_version",
                                                                                  "shown_at"))


def test_old_records_get_todays_numbering_once_with_a_dry_run_and_a_resume(api, applicant, reviewer, capsys):
    from chalicelib.bootstrap import services
    from scripts.backfill_shown import main
    from tests.test_review_api import drive

    legacy, older_rule, fine = (create_application(api, applicant) for _ in range(3))
    drive(older_rule)  # FLAGGED; a reviewer reads it twice: staff work, not counted today
    for _ in range(2):
        assert api.get(f"/review/applications/{older_rule}", user=reviewer).status == 200
    expected = {a: head(a) for a in (legacy, older_rule, fine)}
    update(legacy, "REMOVE shown_seq, shown_version, shown_at")  # written before the numbering was kept
    update(older_rule, "SET shown_seq = shown_seq + :n, shown_version = shown_version + :n", {":n": {"N": "2"}})
    version = {a: item(a)["version"]["N"] for a in (legacy, older_rule, fine)}
    assert api.get(f"/applications/{legacy}", user=applicant).body["version"] == 1  # its recorded one, meanwhile

    assert main(["--dry-run", "--rate", "100000"]) == 0
    assert "would renumber" in capsys.readouterr().out
    assert head(legacy) == (None, None, None) and {a: item(a)["version"]["N"] for a in version} == version

    assert main(["--max", "1", "--rate", "100000"]) == 0  # stopped after one: resumed after the id it printed
    printed = capsys.readouterr().out
    last = printed.split("resume with --after ")[1].split()[0]
    assert main(["--after", last, "--rate", "100000"]) == 0
    assert head(legacy)[0] == expected[legacy][0] and head(legacy)[2] == expected[legacy][2]
    assert head(older_rule)[0] == expected[older_rule][0] and head(older_rule)[2] == expected[older_rule][2]
    assert head(fine) == expected[fine] and item(fine)["version"]["N"] == version[fine]  # nothing to do
    for renumbered in (legacy, older_rule):  # a change of no event: the version moves, the history does not
        assert int(item(renumbered)["version"]["N"]) == int(version[renumbered]) + 1
        assert services().applications.chain_intact(services().repository.get(renumbered),
                                                    services().repository.history(renumbered))
    assert api.get(f"/applications/{older_rule}/history", user=applicant).body["chain_intact"] is True

    after = {a: item(a) for a in version}
    assert main(["--rate", "100000"]) == 0  # idempotent
    assert {a: item(a) for a in version} == after
