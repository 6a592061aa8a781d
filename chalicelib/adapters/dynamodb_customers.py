"""The customers' screening profiles and the re-screening cases, in two DynamoDB tables (boto3's client).

``CustomersTable``: one item per approved customer (``application_id``), a few hundred bytes -- the
names, birth date, nationality and sex screening reads, and ``expires_at`` (TTL) when retention ends.
Re-screening reads it with a parallel Scan, each segment by its own worker, once per list change.

``ScreeningCasesTable``: one item per case (``case_id``). The case itself is one JSON attribute
(``body``), written once; ``status`` and ``resolution`` change when a reviewer resolves it. While a case
is open it carries ``open_queue`` = ``OPEN`` and ``opened_key``, the keys of the sparse ``open_cases``
index: the reviewers' queue is one Query, oldest first, of exactly the open cases.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, Optional

from botocore.exceptions import ClientError

from ..domain.sanctions.rescreening import OPEN, CustomerProfile, ScreeningCase
from ..services.ports import CustomerProfiles, InvalidCursor, ProfilePage, ScreeningCases

_PROFILE_FIELDS = "application_id, applicant_id, #names, date_of_birth, nationality, sex, approved_at, expires_at"


def _s(value: Optional[str]) -> dict[str, Any]:
    return {"S": value} if value else {"NULL": True}


def _text(item: Mapping[str, Any], name: str) -> Optional[str]:
    value = item.get(name) or {}
    return value.get("S")


class DynamoCustomerProfiles(CustomerProfiles):
    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def put(self, profile: CustomerProfile, expires_at: int) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                "application_id": {"S": profile.application_id},
                "applicant_id": {"S": profile.applicant_id},
                "names": {"L": [{"S": n} for n in profile.names]},
                "date_of_birth": _s(profile.date_of_birth),
                "nationality": _s(profile.nationality),
                "sex": _s(profile.sex),
                "approved_at": {"S": profile.approved_at},
                "expires_at": {"N": str(int(expires_at))},
            },
        )

    def delete(self, application_id: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"application_id": {"S": application_id}})

    def get(self, application_id: str) -> Optional[CustomerProfile]:
        item = self.client.get_item(
            TableName=self.table, Key={"application_id": {"S": application_id}}, ConsistentRead=True
        ).get("Item")
        return _profile(item) if item else None

    def scan(
        self, segment: int, segments: int, start: Optional[Mapping[str, Any]], limit: int, now_epoch: int
    ) -> ProfilePage:
        request: dict[str, Any] = {
            "TableName": self.table,
            "Segment": segment,
            "TotalSegments": segments,
            "Limit": limit,
            "ProjectionExpression": _PROFILE_FIELDS,
            "ExpressionAttributeNames": {"#names": "names"},
        }
        if start is not None:
            if not isinstance(start.get("application_id"), str):
                raise ValueError("not a scan position")
            request["ExclusiveStartKey"] = {"application_id": {"S": start["application_id"]}}
        reply = self.client.scan(**request)
        profiles = [
            _profile(item)
            for item in reply.get("Items", ())
            if int((item.get("expires_at") or {}).get("N") or 0) >= now_epoch
        ]
        last = reply.get("LastEvaluatedKey")
        return profiles, ({"application_id": last["application_id"]["S"]} if last else None)


def _profile(item: Mapping[str, Any]) -> CustomerProfile:
    return CustomerProfile(
        application_id=item["application_id"]["S"],
        applicant_id=_text(item, "applicant_id") or "",
        names=tuple(n["S"] for n in (item.get("names") or {}).get("L", ())),
        date_of_birth=_text(item, "date_of_birth"),
        nationality=_text(item, "nationality"),
        sex=_text(item, "sex"),
        approved_at=_text(item, "approved_at") or "",
    )


class DynamoScreeningCases(ScreeningCases):
    INDEX = "open_cases"

    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def open(self, case: ScreeningCase) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "case_id": {"S": case.case_id},
                    "body": {"S": json.dumps(case.to_dict(), separators=(",", ":"), ensure_ascii=False)},
                    "status": {"S": case.status},
                    "open_queue": {"S": OPEN},
                    "opened_key": {"S": f"{case.opened_at}#{case.case_id}"},
                },
                ConditionExpression="attribute_not_exists(case_id)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, case_id: str) -> Optional[ScreeningCase]:
        item = self.client.get_item(TableName=self.table, Key={"case_id": {"S": case_id}}, ConsistentRead=True).get(
            "Item"
        )
        return _case(item) if item else None

    def open_cases(self, limit: int, cursor: Optional[str]) -> tuple[list[ScreeningCase], Optional[str]]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": self.INDEX,
            "KeyConditionExpression": "open_queue = :open",
            "ExpressionAttributeValues": {":open": {"S": OPEN}},
            "Limit": limit,
            "ScanIndexForward": True,
        }
        if cursor:
            request["ExclusiveStartKey"] = _decode(cursor)
        reply = self.client.query(**request)
        cases = [_case(item) for item in reply.get("Items", ())]
        last = reply.get("LastEvaluatedKey")
        return cases, (_encode(last) if last else None)

    def resolve(self, case_id: str, status: str, resolution: Mapping[str, Any]) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"case_id": {"S": case_id}},
                UpdateExpression="SET #status = :status, resolution = :resolution REMOVE open_queue, opened_key",
                ConditionExpression="#status = :open",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":status": {"S": status},
                    ":open": {"S": OPEN},
                    ":resolution": {"S": json.dumps(dict(resolution), separators=(",", ":"), ensure_ascii=False)},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def recommend(self, case_id: str, recommendation: Mapping[str, Any]) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"case_id": {"S": case_id}},
                UpdateExpression="SET recommendation = :recommendation",
                ConditionExpression="#status = :open",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":open": {"S": OPEN},
                    ":recommendation": {
                        "S": json.dumps(dict(recommendation), separators=(",", ":"), ensure_ascii=False)
                    },
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _case(item: Mapping[str, Any]) -> ScreeningCase:
    body = json.loads(item["body"]["S"])
    body["status"] = _text(item, "status") or body.get("status")
    if _text(item, "resolution"):
        body["resolution"] = json.loads(item["resolution"]["S"])
    if _text(item, "recommendation"):
        body["recommendation"] = json.loads(item["recommendation"]["S"])
    return ScreeningCase.from_dict(body)


def _encode(key: Mapping[str, Any]) -> str:
    plain = {name: value["S"] for name, value in key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, sort_keys=True).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, Any]:
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if set(plain) != {"case_id", "open_queue", "opened_key"} or plain["open_queue"] != OPEN:
            raise ValueError("not a queue position")
        return {name: {"S": str(value)} for name, value in plain.items()}
    except (ValueError, TypeError, AttributeError) as error:
        raise InvalidCursor("cursor is not valid") from error
