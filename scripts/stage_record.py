"""Chalice's record of a stage (``.chalice/deployed/<stage>.json``), kept with the stage.

Chalice knows which REST API, WebSocket API, functions and event sources are
the stage's only from that file. Left on one machine, a deploy from another (or
from a CI runner) creates new APIs with new URLs, and a teardown without it
orphans them. So the record lives in the stage's deployment bucket (an output
of the resources stack, versioned: every record a deploy wrote stays
readable), is restored before every deploy and teardown, and is written back
after every Chalice run, failed ones included (a partial deploy's record names
what it made, see scripts/chalice_stage.py).

When the stack exists the record must exist too: from the first stack create
on, the deploy stores an empty record (no Chalice resources yet). A stack
without one means the record was lost, and deploying would make a second set
of APIs: the deploy refuses and says how to restore it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EMPTY = {"resources": [], "schema_version": "2.0", "backend": "api"}


class RecordMissing(RuntimeError):
    """The stage exists but Chalice's record of it cannot be found."""


def local_path(project_dir: Path, stage: str) -> Path:
    return Path(project_dir) / ".chalice" / "deployed" / f"{stage}.json"


def key(stage: str) -> str:
    return f"stages/{stage}/chalice-deployed.json"


class StageRecord:
    def __init__(self, s3: Any, bucket: str, stage: str, project_dir: Path) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.stage = stage
        self.path = local_path(project_dir, stage)

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{key(self.stage)}"

    def fetch(self) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key(self.stage))["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return dict(json.loads(body))

    def restore(self) -> str:
        """Write the kept record over the local one; what was done, for the log. RecordMissing when neither
        the stage's bucket nor this machine has one."""
        kept = self.fetch()
        if kept is not None:
            local = json.loads(self.path.read_text()) if self.path.exists() else None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(kept, indent=2) + "\n")
            return ("restored Chalice's record from " + self.location
                    + (" (this machine's copy differed and was replaced)" if local not in (None, kept) else ""))
        if self.path.exists():  # deployed before the record was kept with the stage: keep this machine's
            self.store()
            return f"kept this machine's Chalice record in {self.location} (none was kept there yet)"
        raise RecordMissing(
            f"the stage's stack exists but Chalice's record of it is in neither {self.location} nor {self.path}. "
            "Deploying now would create a second REST and WebSocket API and leave the first ones running. "
            f"Restore it: list its versions (the bucket is versioned) and copy the last good one back to "
            f"{key(self.stage)}, then run the deploy again (docs/deployment.md, 'Chalice's record').")

    def store(self) -> None:
        """Keep the local record with the stage (an empty one when Chalice has made nothing yet)."""
        body = self.path.read_text() if self.path.exists() else json.dumps(EMPTY)
        json.loads(body)  # never keep a broken record
        self.s3.put_object(Bucket=self.bucket, Key=key(self.stage), Body=body.encode(),
                           ContentType="application/json")

    def store_empty_if_absent(self) -> None:
        if self.fetch() is None and not self.path.exists():
            self.s3.put_object(Bucket=self.bucket, Key=key(self.stage), Body=json.dumps(EMPTY).encode(),
                               ContentType="application/json")

    def forget(self) -> None:
        """After a teardown: the stage has no Chalice resources left (older versions stay in the bucket)."""
        self.s3.put_object(Bucket=self.bucket, Key=key(self.stage), Body=json.dumps(EMPTY).encode(),
                           ContentType="application/json")
        self.path.unlink(missing_ok=True)
