"""The one-off migration of a stage with data: items keyed for the sharded index, counters given their population."""

from __future__ import annotations

import ast
import datetime as dt
import os

import boto3

from tests.support.flows import create_application


def strip_key(application_id: str) -> None:
    """What an item written before the release looks like: no state_shard."""
    boto3.client("dynamodb").update_item(TableName=os.environ["APPLICATIONS_TABLE_NAME"],
                                         Key={"application_id": {"S": application_id}},
                                         UpdateExpression="REMOVE state_shard")


def state_shard(application_id: str) -> str | None:
    item = boto3.client("dynamodb").get_item(TableName=os.environ["APPLICATIONS_TABLE_NAME"], ConsistentRead=True,
                                             Key={"application_id": {"S": application_id}})["Item"]
    return item.get("state_shard", {}).get("S")


def test_old_items_are_keyed_and_the_counters_get_the_population_once(api, applicant, capsys):
    from chalicelib.adapters.dynamodb_applications import shard_of
    from chalicelib.bootstrap import services
    from chalicelib.domain.workflow.application import iso
    from scripts.backfill_state_index import main

    waiting, withdrawn, moved = (create_application(api, applicant) for _ in range(3))
    assert api.post(f"/applications/{withdrawn}/withdraw", {}, user=applicant).status == 200
    for app_id in (waiting, withdrawn, moved):
        strip_key(app_id)
    since = iso(dt.datetime.now(dt.timezone.utc) + dt.timedelta(milliseconds=5))
    assert api.post(f"/applications/{moved}/withdraw", {}, user=applicant).status == 200  # after the release
    before = services().counters.states()

    assert main(["--since", since, "--rate", "100000"]) == 0
    printed = capsys.readouterr().out
    assert state_shard(waiting) == f"AWAITING_DOCUMENTS#{shard_of(waiting):02d}"
    assert state_shard(withdrawn) == f"WITHDRAWN#{shard_of(withdrawn):02d}"
    assert state_shard(moved) == f"WITHDRAWN#{shard_of(moved):02d}"  # written by the app since: left as it is
    after = services().counters.states()
    added = {state: after.get(state, 0) - before.get(state, 0) for state in after}
    population = ast.literal_eval(printed.split("the population at ")[1].split(": ", 1)[1].splitlines()[0])
    assert {k: v for k, v in added.items() if v} == population
    assert population["AWAITING_DOCUMENTS"] >= 2  # waiting, and moved as it was at the release
    assert population["WITHDRAWN"] >= 1
    assert main(["--since", since, "--rate", "100000"]) == 2  # once only
