"""The last run of each scheduled job, one small JSON object per job in the reports bucket."""

from __future__ import annotations

import json
from typing import Any

from ..services.ports import JobRun, JobRunLog

PREFIX = "operations/job-runs/"


class S3JobRunLog(JobRunLog):
    def __init__(self, s3: Any, bucket: str):
        self.s3 = s3
        self.bucket = bucket

    def record(self, run: JobRun) -> None:
        body = {
            "job": run.job,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "ok": run.ok,
            "summary": dict(run.summary),
        }
        self.s3.put_object(
            Bucket=self.bucket,
            Key=f"{PREFIX}{run.job}.json",
            ContentType="application/json",
            Body=json.dumps(body, default=str).encode(),
        )

    def last_runs(self) -> dict[str, JobRun]:
        runs: dict[str, JobRun] = {}
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=PREFIX).get("Contents", [])
        for item in listed:
            data = json.loads(self.s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read())
            runs[data["job"]] = JobRun(
                data["job"], data["started_at"], data["finished_at"], bool(data["ok"]), data.get("summary") or {}
            )
        return runs
