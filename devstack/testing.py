"""Helpers for tests that want the local AWS in-process.

    with running_moto() as aws:
        env = provision("resources.yaml", "t1", aws.session, aws.endpoint_url)

``running_moto`` starts moto's server mode on a free port (a real HTTP
endpoint, like the local stack's) and stops it afterwards. Tests that import
an app reading os.environ should set ``aws.environ`` (endpoint, region, fake
credentials) plus the provisioned env before importing it.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .provision import FAKE_CREDENTIALS, REGION
from .stack import local_aws_environ


@dataclass
class LocalAws:
    endpoint_url: str
    session: Any

    @property
    def environ(self) -> dict[str, str]:
        return local_aws_environ(self.endpoint_url)

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)


@contextlib.contextmanager
def running_moto() -> Iterator[LocalAws]:
    """moto's server mode on 127.0.0.1 and a free port, with a fake-credential session."""
    import boto3
    from moto.server import ThreadedMotoServer

    from .motofix import patch_moto

    patch_moto()  # as the local stack does
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        session = boto3.Session(aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                region_name=REGION)
        yield LocalAws(f"http://{host}:{port}", session)
    finally:
        server.stop()
