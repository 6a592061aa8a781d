"""``./dev upload``'s half of the presigned-POST dance: sniff the type, post the form.

Standard library only, so the command starts as fast as ``./dev token``.
"""
from __future__ import annotations

import secrets
import urllib.error
import urllib.request

from .deadlines import scaled

_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
          (b"%PDF-", "application/pdf"))


def content_type_of(data: bytes) -> str | None:
    """The type the app accepts that these bytes are, by their first bytes (as the app checks)."""
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def post_form(url: str, fields: dict[str, str], filename: str, data: bytes,
              content_type: str) -> tuple[int, str]:
    """POST ``fields`` then the file as multipart/form-data (S3 wants the file last)."""
    boundary = f"devstack-{secrets.token_hex(12)}"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                 + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(url, data=b"".join(parts), method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=scaled(60.0)) as response:  # noqa: S310 - local
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
