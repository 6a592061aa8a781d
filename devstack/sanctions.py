"""The sanctions lists on the local stack: a snapshot served by the local S3, and a first index.

The refresh job reads list URLs from Parameter Store. Locally they point at
copies of the repository's snapshot (tests/data/sanctions) in the sanctions
bucket (``s3://`` URLs, fetched through the local S3; the bucket blocks
anonymous HTTP as in AWS). The job then runs once, so the stack screens from
its first request; ``./dev fire refresh_sanctions_lists`` runs it again.

The process that seeds is the one whose handlers screen (the stack's pumps, an in-process test stack): it
files the index through a cache kept per checkout (devstack/sanctions_filing.py), so the ~5 s of CPU that
filing the real lists costs is paid once, not in every local stack.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("devstack")

SNAPSHOT = Path(__file__).resolve().parents[1] / "tests" / "data" / "sanctions"
SOURCES = {"sanctions_ofac_sdn_url": "sdn.csv", "sanctions_ofac_alt_url": "alt.csv",
           "sanctions_un_url": "un_consolidated.xml"}


def serve_snapshot(env: dict[str, str], session: Any, endpoint_url: str, snapshot: Path = SNAPSHOT) -> None:
    """Upload the snapshot to the sanctions bucket and point the URL parameters at it."""
    bucket = env.get("SANCTIONS_BUCKET_NAME")
    if not bucket:
        return
    s3 = session.client("s3", endpoint_url=endpoint_url)
    ssm = session.client("ssm", endpoint_url=endpoint_url)
    for parameter, name in SOURCES.items():
        key = f"sources/{name}"
        s3.put_object(Bucket=bucket, Key=key, Body=(snapshot / name).read_bytes())
        ssm.put_parameter(Name=f"{env['SETTINGS_PATH']}{parameter}", Value=f"s3://{bucket}/{key}",
                          Type="String", Overwrite=True)


def publish_first_index(env: dict[str, str]) -> dict[str, Any]:
    """Run the app's own refresh job once (a fresh composition root, nothing cached)."""
    from chalicelib.bootstrap import Services
    from chalicelib.config import Config

    summary = Services(Config.from_environment(env)).sanctions_refresh.refresh()
    log.info("devstack: sanctions index %s (%s)", summary.get("version"), summary.get("lists"))
    return summary


def seed(env: dict[str, str], session: Any, endpoint_url: str) -> None:
    if env.get("SANCTIONS_BUCKET_NAME"):
        from .sanctions_filing import install

        install()  # this process files the index from the checkout's cache (devstack/sanctions_filing.py)
        serve_snapshot(env, session, endpoint_url)
        publish_first_index(env)
