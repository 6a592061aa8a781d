"""Amazon Textract: the text of a stored identity document, read where it lies.

``DetectDocumentText`` on the very bytes the identity check sniffed when it
read the object whole (``Bytes``: one read of the document, issue 22), else on
the S3 object (bucket, key and the exact version that was checked). Throttling and 5xx
answers are retried with exponential backoff and jitter by the client's
adaptive retry mode (configured in the composition root: it also slows this
container's own calls down when Textract throttles); throttling left after the
retries becomes ``OcrThrottled`` (the identity-check queue puts the message
back for later, so the quota is not hammered), other errors are raised and the
message is delivered again. A document the
service refuses (unsupported, bad, too large, unreadable object) is not an
outage: it becomes ``OcrRefused`` and the check flags it for a person.
"""

from __future__ import annotations

from typing import Any, Optional

from botocore.exceptions import ClientError

from ..domain.identity import PageText
from ..services.ports import Ocr, OcrRefused, OcrThrottled

# Textract's answers to too many calls: its per-account rate quota.
THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "LimitExceededException"})
# Textract's answers about the document itself (the request was fine, the page is not).
REFUSALS = frozenset(
    {
        "UnsupportedDocumentException",
        "BadDocumentException",
        "DocumentTooLargeException",
        "InvalidS3ObjectException",
        "InvalidParameterException",
    }
)


class TextractOcr(Ocr):
    def __init__(self, textract: Any, bucket: str):
        self.textract = textract
        self.bucket = bucket

    def read(self, key: str, version: Optional[str] = None, content: Optional[bytes] = None) -> PageText:
        document: dict[str, Any]
        if content is not None:
            document = {"Bytes": content}
        else:
            location = {"Bucket": self.bucket, "Name": key}
            if version:
                location["Version"] = version
            document = {"S3Object": location}
        try:
            response = self.textract.detect_document_text(Document=document)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in REFUSALS:
                raise OcrRefused(code, error.response.get("Error", {}).get("Message", "")) from None
            if code in THROTTLED:
                raise OcrThrottled(code) from error
            raise
        lines = [block for block in response.get("Blocks", []) if block.get("BlockType") == "LINE"]
        return PageText(
            lines=tuple(str(block.get("Text", "")) for block in lines),
            confidences=tuple(float(block.get("Confidence", 0.0)) for block in lines),
        )
