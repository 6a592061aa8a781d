"""The local REST API routes deep unknown paths to the app's catch-all, as API Gateway does."""
from __future__ import annotations

import pytest

from devstack.greedy_paths import install

ROUTES = ["/applications", "/applications/{application_id}", "/review/queue", "/{proxy+}"]


@pytest.fixture
def matcher():
    from chalice.local import RouteMatcher

    install()
    return RouteMatcher(ROUTES)


@pytest.mark.parametrize("path, proxy", [("/nothing", "nothing"), ("/a/b", "a/b"), ("/review/x", "review/x"),
                                         ("/applications/x/y/z?q=1", "applications/x/y/z")])
def test_unknown_paths_of_any_depth_reach_the_greedy_route(matcher, path, proxy):
    found = matcher.match_route(path)
    assert found.route == "/{proxy+}" and list(found.captured.values()) == [proxy]


def test_known_routes_still_win(matcher):
    assert matcher.match_route("/applications/abc").route == "/applications/{application_id}"
    assert matcher.match_route("/review/queue").route == "/review/queue"


def test_without_a_greedy_route_nothing_matches():
    from chalice.local import RouteMatcher

    install()
    with pytest.raises(ValueError):
        RouteMatcher(["/applications"]).match_route("/a/b")
