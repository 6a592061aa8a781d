"""The moto server the tests run against, provisioned from resources.yaml like the local stack."""
from __future__ import annotations

import os
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = "test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto() -> tuple[object, str]:
    import logging

    from moto.server import ThreadedMotoServer

    from devstack.motofix import patch_moto

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    patch_moto()  # as the local stack: DynamoDB made safe, presigned POST policies enforced
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def provisioned_environment() -> dict[str, str]:
    """Start moto, provision the template for stage ``test``, export the app's environment."""
    import boto3

    from devstack.provision import provision

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_REGION": "us-east-1"}.items():
        os.environ[name] = value
    server, endpoint = start_moto()
    # moto does not compare faces; the local stack's Rekognition does (and holds the collection
    # resources.yaml declares, so it starts before provisioning).
    from devstack.rekognition import start_rekognition

    rekognition = start_rekognition(endpoint)
    os.environ["AWS_ENDPOINT_URL_REKOGNITION"] = rekognition.url
    env = provision(ROOT / "resources.yaml", STAGE, boto3.session.Session(region_name="us-east-1"), endpoint)
    os.environ.update(env)
    os.environ["MOTO_SERVER"] = endpoint
    from devstack.sanctions import seed as seed_sanctions  # the list snapshot and a first index, as locally

    seed_sanctions(env, boto3.session.Session(region_name="us-east-1"), endpoint)
    # moto's Textract returns no text; the local stack's own answers DetectDocumentText with real OCR.
    from devstack.textract import start_textract

    env["AWS_ENDPOINT_URL_TEXTRACT"] = os.environ["AWS_ENDPOINT_URL_TEXTRACT"] = start_textract(endpoint).url
    env["AWS_ENDPOINT_URL_REKOGNITION"] = rekognition.url
    env["LIVENESS_PROVIDER"] = os.environ["LIVENESS_PROVIDER"] = "local"
    env["LIVENESS_ENDPOINT"] = os.environ["LIVENESS_ENDPOINT"] = rekognition.liveness_url
    # The in-process API tests write who is in an image into the image (no real faces, no dlib): the scripted
    # stand-in answers the app's own Rekognition clients before the request reaches the local Rekognition
    # (clients given an explicit endpoint_url -- the local engine's own tests -- are left alone). The e2e
    # stack (python -m devstack up) runs in its own process and uses the real engine.
    from tests.support import rekognition as scripted_rekognition

    scripted_rekognition.start(boto3.session.Session(region_name="us-east-1").client("s3", endpoint_url=endpoint))
    return env
