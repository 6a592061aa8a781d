"""Serving the console: its static files, its configuration and its security headers.

The console is a handful of static files in ``chalicelib/console/`` that ship
inside the Lambda package, served by two public routes of the app (no bucket,
no CDN). Only the files in ``ASSETS`` are served, whatever the path asks for.
Every answer carries a strict Content-Security-Policy: scripts and styles
from the app itself only (no inline code, no eval), network calls only to
the API, the WebSocket API, Cognito (its API and the user pools' domains,
whose token endpoint the console calls) and the documents bucket, and the
identity document displayed only from the documents bucket. ``config.json``
tells the browser where those are; it holds no secret (the Cognito app
clients, the customer pool's and the staff pool's, are public by design).

Staff sign in through managed login (authorization code + PKCE) at the staff
pool's domain, which sends them to the corporate identity provider; applicants
with a password in the console, or -- when the stage configures them -- with
Google or Apple through the customer pool's domain (issue 21). In AWS the same
files are served by CloudFront with these headers (scripts/console_site.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

from ..config import Config

STATIC_DIR = Path(__file__).resolve().parent.parent / "console"

#: The only files served, with their content types.
ASSETS: Mapping[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "main.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "auth.js": "text/javascript; charset=utf-8",
    "live.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "signin.js": "text/javascript; charset=utf-8",
    "applicant.js": "text/javascript; charset=utf-8",
    "reviewer.js": "text/javascript; charset=utf-8",
    "sanctions.js": "text/javascript; charset=utf-8",
    "screening.js": "text/javascript; charset=utf-8",
    "operator.js": "text/javascript; charset=utf-8",
    "diagram.js": "text/javascript; charset=utf-8",
    "timeline.js": "text/javascript; charset=utf-8",
    # issue 17: the applicant's liveness step (local capture or the Amplify component) and the
    # reviewer's face panel; the biometric consent text, one file per version
    "liveness.js": "text/javascript; charset=utf-8",
    "liveness-aws.js": "text/javascript; charset=utf-8",
    "face.js": "text/javascript; charset=utf-8",
    "consent-v1.txt": "text/plain; charset=utf-8",
}
CONFIG_ASSET = "config.json"

#: Files served when present: the AWS liveness component, built into the package by
#: console-src/face-liveness/build.sh (not in git; the local stack never loads them).
OPTIONAL_ASSETS: Mapping[str, str] = {
    "face-liveness.bundle.js": "text/javascript; charset=utf-8",
    "face-liveness.css": "text/css; charset=utf-8",
    "tfjs-backend-wasm.wasm": "application/wasm",
    "tfjs-backend-wasm-simd.wasm": "application/wasm",
    "face-liveness-model.json": "application/json",
}
# the face model's weights (build.sh --face-model)
_MODEL_SHARD = re.compile(r"^group1-shard[0-9]{1,2}of[0-9]{1,2}\.bin$")
BINARY_TYPES = ("application/wasm", "application/octet-stream")
# Where the Face Liveness component loads its face model from unless the build self-hosts it (AWS publishes
# the model only there, not on npm): the one origin outside the app the console may reach for code or data.
LIVENESS_MODEL_CDN = "https://cdn.liveness.rekognition.amazonaws.com"


def content_type_of(name: str) -> Optional[str]:
    """The type of a console file this app serves, or None (not one of them, or an optional one not built)."""
    if name in ASSETS:
        return ASSETS[name]
    kind = OPTIONAL_ASSETS.get(name) or ("application/octet-stream" if _MODEL_SHARD.match(name) else None)
    return kind if kind and (STATIC_DIR / name).is_file() else None


@dataclass(frozen=True)
class ConsoleSettings:
    """Where the browser finds everything, from the app's own environment."""

    region: str
    user_pool_client_id: str
    cognito_endpoint: str
    websocket_url: Optional[str]
    document_origins: tuple[str, ...]
    review_sla_hours: Optional[float] = None
    staff_user_pool_client_id: str = ""  # staff sign in to their own pool's client
    staff_auth_url: str = ""  # the staff pool's domain (managed login): authorize, token, revoke
    staff_identity_provider: str = ""  # the corporate provider's name in the pool ("" : the pool's own page)
    customer_auth_url: str = ""  # the customer pool's domain, when applicants may use a social provider
    customer_identity_providers: tuple[str, ...] = ()  # Google, SignInWithApple
    liveness_provider: str = "aws"  # "aws": Rekognition Face Liveness; else a stand-in at liveness_endpoint
    liveness_endpoint: Optional[str] = None
    liveness_identity_pool_id: str = ""
    #: where the reviewer's selfie link points (a presigned GET on the biometrics bucket): img-src only
    biometrics_origins: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Config, review_sla_hours: Optional[float] = None) -> ConsoleSettings:
        region = config.region
        cognito = config.cognito_endpoint or f"https://cognito-idp.{region}.amazonaws.com/"
        bucket = config.documents_bucket
        if config.s3_endpoint:
            documents: tuple[str, ...] = (origin(config.s3_endpoint),)
        else:  # the two host names boto3 presigns with (global and regional virtual-host style)
            documents = (f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com")
        biometrics: tuple[str, ...] = ()
        if config.s3_endpoint:
            biometrics = (origin(config.s3_endpoint),)
        elif config.biometrics_bucket:
            name = config.biometrics_bucket
            biometrics = (f"https://{name}.s3.amazonaws.com", f"https://{name}.s3.{region}.amazonaws.com")
        websocket = config.websocket_url
        if not websocket and config.websocket_domain:
            websocket = f"wss://{config.websocket_domain}/{config.websocket_stage}"
        return cls(
            region=region,
            user_pool_client_id=config.user_pool_client_id,
            cognito_endpoint=cognito,
            websocket_url=websocket,
            document_origins=documents,
            review_sla_hours=review_sla_hours,
            staff_user_pool_client_id=config.staff_user_pool_client_id,
            staff_auth_url=config.staff_auth_url,
            staff_identity_provider=config.staff_identity_provider,
            customer_auth_url=config.customer_auth_url,
            customer_identity_providers=config.customer_identity_providers,
            liveness_provider=config.liveness_provider,
            liveness_endpoint=config.liveness_endpoint,
            liveness_identity_pool_id=config.liveness_identity_pool_id,
            biometrics_origins=biometrics,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str], review_sla_hours: Optional[float] = None) -> ConsoleSettings:
        return cls.from_config(Config.from_environment(env), review_sla_hours)

    def browser_config(self) -> dict[str, object]:
        return {
            "cognito": {
                "region": self.region,
                "endpoint": self.cognito_endpoint,
                "client_id": self.user_pool_client_id,  # applicants: the customer pool
                "staff_client_id": self.staff_user_pool_client_id,  # reviewers, operators: the staff pool
                "staff_auth_url": self.staff_auth_url or None,
                "staff_identity_provider": self.staff_identity_provider or None,
                "customer_auth_url": self.customer_auth_url or None,
                "customer_identity_providers": list(self.customer_identity_providers),
            },
            "websocket_url": self.websocket_url,
            "review_sla_hours": self.review_sla_hours,
            "liveness": {
                "provider": self.liveness_provider,
                "region": self.region,
                "endpoint": self.liveness_endpoint,
                "identity_pool_id": self.liveness_identity_pool_id or None,
            },
        }

    def liveness_connect_origins(self) -> list[str]:
        """Where the liveness capture talks to: Rekognition's streaming endpoint and Cognito identity on AWS,
        the stand-in's endpoint otherwise."""
        if self.liveness_provider == "aws":
            origins = [
                f"wss://streaming-rekognition.{self.region}.amazonaws.com",
                f"https://cognito-identity.{self.region}.amazonaws.com",
            ]
            if not (STATIC_DIR / "face-liveness-model.json").is_file():  # the face model is not self-hosted
                origins.append(LIVENESS_MODEL_CDN)
            return origins
        return [self.liveness_endpoint] if self.liveness_endpoint else []

    def content_security_policy(self) -> str:
        documents = " ".join(self.document_origins)
        connect = ["'self'", origin(self.cognito_endpoint), *self.document_origins]
        connect += [origin(url) for url in (self.staff_auth_url, self.customer_auth_url) if url]
        if self.websocket_url:
            connect.append(origin(self.websocket_url))
        connect += [origin(url) for url in self.liveness_connect_origins()]
        connect = list(dict.fromkeys(c for c in connect if c))
        scripts = "'self'"
        if self.liveness_provider == "aws":  # the Face Liveness component compiles tfjs's WebAssembly
            scripts += " 'wasm-unsafe-eval'"
        directives = {
            "default-src": "'self'",
            "script-src": scripts,
            "style-src": "'self'",
            "connect-src": " ".join(connect),
            "img-src": " ".join(
                dict.fromkeys(["'self'", *self.document_origins, *self.biometrics_origins, "blob:", "data:"])
            ),
            "frame-src": documents,
            "object-src": documents,  # Chrome treats a PDF in a frame as a plugin
            "base-uri": "'none'",
            "form-action": "'self'",
            "frame-ancestors": "'none'",
        }
        return "; ".join(f"{name} {value}" for name, value in directives.items())


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@dataclass(frozen=True)
class Served:
    """A console answer, independent of the web framework: status, headers, body."""

    status: int
    headers: dict[str, str]
    body: str | bytes


@functools.cache
def _read(name: str, binary: bool = False) -> tuple[str | bytes, str]:
    data = (STATIC_DIR / name).read_bytes()
    return (data if binary else data.decode("utf-8")), '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def security_headers(settings: ConsoleSettings) -> dict[str, str]:
    return {
        "Content-Security-Policy": settings.content_security_policy(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # never leak a presigned URL or a query to another origin
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        # the applicant's liveness step uses the camera, on this origin only
        "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    }


def serve(name: str, settings: ConsoleSettings, if_none_match: Optional[str] = None) -> Served:
    """One allow-listed asset (or the generated config.json); 404 for anything else."""
    headers = security_headers(settings)
    if name == CONFIG_ASSET:
        config = json.dumps(settings.browser_config(), sort_keys=True)
        return Served(200, {**headers, "Content-Type": "application/json", "Cache-Control": "no-store"}, config)
    content_type = content_type_of(name)
    if content_type is None:
        return Served(
            404, {**headers, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}, "not found\n"
        )
    body, etag = _read(name, content_type in BINARY_TYPES)
    headers.update(
        {
            "Content-Type": content_type,
            "ETag": etag,
            # always revalidate: a deploy must never mix old and new modules
            "Cache-Control": "no-store" if name == "index.html" else "no-cache",
        }
    )
    if if_none_match and etag in [tag.strip() for tag in if_none_match.split(",")]:
        return Served(304, headers, "")
    return Served(200, headers, body)


def page(settings: ConsoleSettings) -> Served:
    """The console's one HTML page (``GET /console``)."""
    return serve("index.html", settings)


def response(served: Served) -> Any:
    """The Chalice response for a console answer."""
    from chalice.app import Response

    headers: dict[str, str | list[str]] = dict(served.headers)
    return Response(body=served.body, status_code=served.status, headers=headers)


# --- the biometric consent text (issue 17) ------------------------------------------------------

#: One file per version (``consent-<version>.txt``) beside the console's files; the API serves the current
#: one (GET /applications/{id}/biometric-consent), so every client shows the text the applicant accepts.
_CONSENT_VERSION = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


def consent_text(version: str) -> str:
    """The biometric consent text of ``version``; a version without its file is a deployment error."""
    if not _CONSENT_VERSION.match(version):
        raise ValueError(f"not a consent text version: {version!r}")
    return _consent(version)


@functools.cache
def _consent(version: str) -> str:
    return (STATIC_DIR / f"consent-{version}.txt").read_text(encoding="utf-8")
