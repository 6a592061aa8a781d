"""Teach Chalice's local gateway API Gateway's greedy path variables (``/{proxy+}``).

API Gateway matches ``/{proxy+}`` against any path no other resource matches;
Chalice's local ``RouteMatcher`` (used by ``chalice local`` and the test
client) only matches one segment per variable, so an unknown path of several
segments would never reach the app's catch-all route locally. Concrete routes
are still tried first, as in API Gateway.
"""
from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from chalice import local

    original = local.RouteMatcher.match_route

    def match_route(self: Any, url: str) -> Any:
        try:
            return original(self, url)
        except ValueError:
            greedy = sorted((r for r in self.route_urls if r.endswith("+}")), key=len, reverse=True)
            from urllib.parse import parse_qs, urlparse

            parsed = urlparse(url)
            path = parsed.path.rstrip("/") or "/"
            for route in greedy:
                prefix, _, name = route.rpartition("/{")
                if path.startswith(prefix + "/") and len(path) > len(prefix) + 1:
                    captured = {name[:-1]: path[len(prefix) + 1 :]}
                    return local.MatchResult(route, captured, parse_qs(parsed.query, keep_blank_values=True))
            raise

    local.RouteMatcher.match_route = match_route
    _installed = True
