"""The console's files and how they are served: allow-list, types, security headers, config.

The browser tests (tests/e2e/browser) drive the pages; these check what a
strict CSP and a careful reviewer require of the files themselves.
"""

from __future__ import annotations

import json
import re

import pytest

from chalicelib.api import console
from chalicelib.api.console import ASSETS, STATIC_DIR, ConsoleSettings, serve

LOCAL = ConsoleSettings.from_env(
    {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5123",
        "AWS_REGION": "us-east-1",
        "USER_POOL_CLIENT_ID": "client-1",
        "DOCUMENTS_BUCKET_NAME": "docs",
        "WEBSOCKET_URL": "ws://127.0.0.1:8001",
        "LIVENESS_PROVIDER": "local",
        "LIVENESS_ENDPOINT": "http://127.0.0.1:5124/liveness",
    },
    review_sla_hours=48,
)
AWS = ConsoleSettings.from_env(
    {
        "AWS_REGION": "eu-west-2",
        "USER_POOL_CLIENT_ID": "client-2",
        "STAFF_USER_POOL_CLIENT_ID": "staff-client-2",
        "DOCUMENTS_BUCKET_NAME": "docs-bucket",
        "WEBSOCKET_DOMAIN": "abc123.execute-api.eu-west-2.amazonaws.com",
        "WEBSOCKET_STAGE": "api",
    }
)


def directives(settings: ConsoleSettings) -> dict[str, list[str]]:
    policy = settings.content_security_policy()
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_every_file_of_the_console_is_allow_listed_and_nothing_else_is_served():
    on_disk = {p.name for p in STATIC_DIR.iterdir() if p.is_file()} - set(console.OPTIONAL_ASSETS)
    on_disk = {name for name in on_disk if not console._MODEL_SHARD.match(name)}  # built by face-liveness/build.sh
    assert on_disk == set(ASSETS), "a console file is missing from ASSETS (or ASSETS names a missing file)"
    for name in ("../app.py", "..%2Fapp.py", "app.py", "console.py", ".env", "index.html/", ""):
        assert serve(name, LOCAL).status == 404, name


@pytest.mark.parametrize(
    "name, content_type",
    [
        ("index.html", "text/html"),
        ("main.js", "text/javascript"),
        ("console.css", "text/css"),
        ("config.json", "application/json"),
    ],
)
def test_assets_have_their_content_type_nosniff_and_the_policy(name, content_type):
    served = serve(name, LOCAL)
    assert served.status == 200
    assert served.headers["Content-Type"].startswith(content_type)
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Referrer-Policy"] == "no-referrer"
    assert served.headers["Content-Security-Policy"] == LOCAL.content_security_policy()


def test_the_page_and_its_config_are_never_cached_and_modules_revalidate_by_etag():
    assert serve("index.html", LOCAL).headers["Cache-Control"] == "no-store"
    assert serve("config.json", LOCAL).headers["Cache-Control"] == "no-store"
    module = serve("main.js", LOCAL)
    assert module.headers["Cache-Control"] == "no-cache"
    again = serve("main.js", LOCAL, if_none_match=module.headers["ETag"])
    assert (again.status, again.body) == (304, "")
    assert serve("main.js", LOCAL, if_none_match='"stale"').status == 200


def test_the_policy_allows_only_the_app_cognito_the_websocket_and_the_documents_bucket():
    local = directives(LOCAL)
    assert local["default-src"] == local["script-src"] == local["style-src"] == ["'self'"]
    assert local["connect-src"] == ["'self'", "http://127.0.0.1:5123", "ws://127.0.0.1:8001", "http://127.0.0.1:5124"]
    assert local["img-src"] == ["'self'", "http://127.0.0.1:5123", "blob:", "data:"]
    assert local["frame-src"] == ["http://127.0.0.1:5123"]
    assert local["base-uri"] == ["'none'"] and local["frame-ancestors"] == ["'none'"]
    aws = directives(AWS)
    assert aws["connect-src"] == [
        "'self'",
        "https://cognito-idp.eu-west-2.amazonaws.com",
        "https://docs-bucket.s3.amazonaws.com",
        "https://docs-bucket.s3.eu-west-2.amazonaws.com",
        "wss://abc123.execute-api.eu-west-2.amazonaws.com",
        # issue 17: Face Liveness streams to Rekognition with identity-pool credentials; its face model
        "wss://streaming-rekognition.eu-west-2.amazonaws.com",
        "https://cognito-identity.eu-west-2.amazonaws.com",
        "https://cdn.liveness.rekognition.amazonaws.com",
    ]
    assert aws["script-src"] == ["'self'", "'wasm-unsafe-eval'"]  # WebAssembly only, on AWS only
    assert "'unsafe-inline'" not in AWS.content_security_policy()
    assert "'unsafe-eval'" not in AWS.content_security_policy()


def test_config_tells_the_browser_where_cognito_and_the_websocket_are_and_holds_no_secret():
    config = json.loads(serve("config.json", AWS).body)
    assert config == {
        "cognito": {
            "region": "eu-west-2",
            "endpoint": "https://cognito-idp.eu-west-2.amazonaws.com/",
            "client_id": "client-2",  # applicants sign in to the customer pool
            "staff_client_id": "staff-client-2",  # reviewers and operators to the staff pool
            # issue 21: no managed login configured in this environment
            "staff_auth_url": None,
            "staff_identity_provider": None,
            "customer_auth_url": None,
            "customer_identity_providers": [],
        },
        "websocket_url": "wss://abc123.execute-api.eu-west-2.amazonaws.com/api",
        "review_sla_hours": None,
        "liveness": {"provider": "aws", "region": "eu-west-2", "endpoint": None, "identity_pool_id": None},
    }
    local = json.loads(serve("config.json", LOCAL).body)
    assert local["liveness"] == {"provider": "local", "region": "us-east-1",
                                 "endpoint": "http://127.0.0.1:5124/liveness", "identity_pool_id": None}
    assert json.loads(serve("config.json", LOCAL).body)["cognito"]["endpoint"] == "http://127.0.0.1:5123"


def test_the_camera_is_allowed_to_the_console_itself_only():
    headers = serve("index.html", LOCAL).headers
    assert headers["Permissions-Policy"] == "camera=(self), microphone=(), geolocation=()"


def test_the_aws_liveness_component_is_served_only_when_built(tmp_path, monkeypatch):
    assert serve("face-liveness.bundle.js", AWS).status in (200, 404)  # 404 unless build.sh ran here
    monkeypatch.setattr(console, "STATIC_DIR", tmp_path)
    console._read.cache_clear()
    assert serve("tfjs-backend-wasm-simd.wasm", AWS).status == 404
    (tmp_path / "tfjs-backend-wasm-simd.wasm").write_bytes(b"\0asm\x01\0\0\0")
    (tmp_path / "group1-shard1of1.bin").write_bytes(b"\x00\x01")
    wasm = serve("tfjs-backend-wasm-simd.wasm", AWS)
    assert (wasm.status, wasm.headers["Content-Type"], wasm.body) == (200, "application/wasm", b"\0asm\x01\0\0\0")
    assert serve("group1-shard1of1.bin", AWS).body == b"\x00\x01"
    assert serve("group1-shard1of1.bin/../x", AWS).status == 404
    console._read.cache_clear()


def test_the_page_has_no_inline_script_or_style_and_loads_only_its_own_files():
    html = (STATIC_DIR / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> would be blocked by the CSP"
    assert "<style" not in html and not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers would be blocked by the CSP"
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("console/", "#", "data:")), url


@pytest.mark.parametrize("name", [n for n in ASSETS if n.endswith(".js")])
def test_scripts_never_parse_data_as_html_or_code(name):
    source = (STATIC_DIR / name).read_text()
    for risky in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setAttribute("style',
        ".cssText",
    ):
        assert risky not in source, f"{name} uses {risky}"
    for imported in re.findall(r'(?:from |import\()"\./([^"]+)"', source):
        assert imported in ASSETS, f"{name} imports {imported}, which is not served"


def test_page_is_the_index_html():
    assert console.page(LOCAL).body == serve("index.html", LOCAL).body
