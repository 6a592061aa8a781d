"""A local Amazon Rekognition: the face calls the app makes, answered by a real face engine.

moto does not compare faces, so the local stack answers Rekognition itself, as it
does Textract: the same JSON 1.1 protocol (``X-Amz-Target: RekognitionService.*``),
images as ``Bytes`` or ``S3Object`` from the local S3, AWS's response shapes and
error codes, so the app's boto3 client reaches it purely by endpoint configuration
(``AWS_ENDPOINT_URL_REKOGNITION``). The engine is dlib's (:mod:`.engine`); the
liveness stand-in (:mod:`.liveness`) replaces Face Liveness's video stream with a
posted burst of frames. See docs/face-local.md. Dev only: never imported by chalicelib.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .engine import Engine, ModelsMissing, install_analyses, model_paths
from .server import RekognitionServer
from .service import Rekognition, RekognitionError

__all__ = ["Engine", "ModelsMissing", "Rekognition", "RekognitionError", "RekognitionServer",
           "install_analyses", "model_paths", "start_rekognition"]


def start_rekognition(endpoint_url: str, host: str = "127.0.0.1", port: int = 0,
                      warm: bool = False) -> RekognitionServer:
    """The local Rekognition reading and writing objects in the local S3 at ``endpoint_url``.

    Fails at once, with :class:`ModelsMissing` naming the file and the fix, when the face
    models are not installed. They load at the first image this checkout has not analysed before
    (2-6 s; longer on a busy machine; see analyses.py). ``warm`` loads them in a background thread instead: off by default, because dlib
    holds the interpreter while it reads its 100 MB landmark model, which slows the stack's
    start and can hold up a Ctrl-C that comes right after it.
    """
    import boto3

    model_paths()  # loud and early, not at the first face check
    install_analyses()  # an image this checkout analysed before is not analysed again (devstack/rekognition/analyses.py)

    def s3() -> Any:
        return boto3.client("s3", endpoint_url=endpoint_url, region_name=os.environ.get("AWS_REGION", "us-east-1"),
                            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"))

    server = RekognitionServer(Rekognition(s3), host, port).start()
    if warm:
        threading.Thread(target=lambda: Engine.shared().load(), name="devstack-rekognition-warm", daemon=True).start()
    return server
