"""The console on CloudFront (issue 21): publishing its files, its headers as the stack's parameters, and the
local stand-in of CloudFront's edge serving a provisioned distribution as CloudFront would."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.deadlines import REPLY_S

pytestmark = pytest.mark.no_stack


def test_every_console_header_maps_to_a_parameter_and_an_unknown_one_stops_the_deploy():
    from scripts.console_site import ConsoleHeadersUnsupported, header_parameters

    headers = {"Content-Security-Policy": "default-src 'self'", "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
               "Cross-Origin-Opener-Policy": "same-origin", "Permissions-Policy": "camera=()"}
    assert header_parameters(headers) == {
        "ConsoleContentSecurityPolicy": "default-src 'self'", "ConsoleReferrerPolicy": "no-referrer",
        "ConsoleFrameOption": "DENY", "ConsoleCrossOriginOpenerPolicy": "same-origin",
        "ConsolePermissionsPolicy": "camera=()"}
    with pytest.raises(ConsoleHeadersUnsupported, match="Cross-Origin-Embedder-Policy"):
        header_parameters({**headers, "Cross-Origin-Embedder-Policy": "require-corp"})
    with pytest.raises(ConsoleHeadersUnsupported, match="CSP"):
        header_parameters({"Content-Security-Policy": "x" * 2000})


@pytest.mark.parametrize("pattern, path, matches", [
    ("/console", "/console", True), ("/console", "/console/", False), ("/console/*", "/console/main.js", True),
    ("/console/*", "/Console/main.js", False), ("/console/config.json", "/console/config.json", True),
    ("/console/*", "/consoles", False), ("/a?c", "/abc", True),
])
def test_path_patterns_match_as_cloudfronts(pattern, path, matches):
    from devstack.edge import path_matches

    assert path_matches(pattern, path) is matches


@pytest.fixture(scope="module")
def site():
    """resources.yaml provisioned into moto (with a stand-in REST API id), the console published, the edge."""
    from devstack.edge import LocalEdge
    from devstack.provision import provision
    from devstack.testing import running_moto
    from scripts import console_site

    with running_moto() as aws:
        env = provision("resources.yaml", "edge", aws.session, aws.endpoint_url,
                        parameters={"RestApiId": "local", "ApiStageName": "api",
                                    "ConsoleContentSecurityPolicy": "default-src 'self'; frame-ancestors 'none'"})
        s3, cloudfront = aws.client("s3"), aws.client("cloudfront")
        printed: list[str] = []
        first = console_site.publish(s3, cloudfront, env["DEPLOY_CONSOLE_BUCKET_NAME"],
                                     env["DEPLOY_CONSOLE_DISTRIBUTION_ID"], out=printed.append)
        second = console_site.publish(s3, cloudfront, env["DEPLOY_CONSOLE_BUCKET_NAME"],
                                      env["DEPLOY_CONSOLE_DISTRIBUTION_ID"], out=printed.append)
        edge = LocalEdge(aws.session, aws.endpoint_url, env["DEPLOY_CONSOLE_DISTRIBUTION_ID"], api_url=None).start()
        try:
            yield {"aws": aws, "env": env, "edge": edge.url, "first": first, "second": second, "printed": printed}
        finally:
            edge.stop()


def test_publishing_uploads_what_changed_only_and_invalidates_then(site):
    assert "console" in site["first"]["uploaded"] and "console/main.js" in site["first"]["uploaded"]
    assert "console/config.json" not in site["first"]["uploaded"]  # made by the app, never a file
    assert site["first"]["invalidation"] and site["second"] == {"uploaded": [], "removed": [], "invalidation": None}


def test_the_edge_serves_the_published_files_with_the_policys_headers_and_revalidates(site):
    page = requests.get(f"{site['edge']}/console", timeout=REPLY_S)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'"
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Strict-Transport-Security"].startswith(
        "max-age=63072000")
    again = requests.get(f"{site['edge']}/console", headers={"If-None-Match": page.headers["ETag"]}, timeout=REPLY_S)
    assert again.status_code == 304
    assert requests.get(f"{site['edge']}/console/nope.js", timeout=REPLY_S).status_code == 403  # S3 hides the missing


def test_the_bucket_is_read_only_through_the_distributions_origin_access(site):
    s3, bucket = site["aws"].client("s3"), site["env"]["DEPLOY_CONSOLE_BUCKET_NAME"]
    kept = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    policy = json.loads(kept)
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "OnlyTheConsoleDistributionReads"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        assert requests.get(f"{site['edge']}/console", timeout=REPLY_S).status_code == 403
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=kept)
    assert requests.get(f"{site['edge']}/console", timeout=REPLY_S).status_code == 200
