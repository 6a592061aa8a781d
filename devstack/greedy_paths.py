"""API Gateway's greedy path variable (``/{proxy+}``) for ``chalice local``.

API Gateway sends a request no other resource matches to the nearest greedy
``{name+}`` resource, whatever its depth: ``/a/b/c`` reaches ``/{proxy+}``
with ``proxy = "a/b/c"``. ``chalice local`` matches only paths of the same
length, so a deeper unknown path fell through to its own "no route" answer,
an imitation of API Gateway's SigV4 error that quotes the caller's
Authorization header (the token) back. With this, the app's catch-all route
answers there too, as in AWS.
"""
from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    """Patch ``chalice.local.RouteMatcher.match_route`` once per process."""
    global _installed
    if _installed:
        return
    from chalice import local

    exact = local.RouteMatcher.match_route

    def match_route(self: Any, url: str) -> Any:
        try:
            return exact(self, url)
        except ValueError:
            return _greedy(self.route_urls, url) or _raise(url)

    local.RouteMatcher.match_route = match_route
    _installed = True


def _greedy(route_urls: list[str], url: str) -> Any:
    """The longest greedy route whose fixed prefix matches ``url``, with its captures."""
    from urllib.parse import parse_qs, urlparse

    from chalice.local import MatchResult

    parsed = urlparse(url)
    path = parsed.path.rstrip("/") or "/"
    parts = path.split("/")
    best = None
    for route in route_urls:
        route_parts = route.split("/")
        last = route_parts[-1]
        if not (last.startswith("{") and last.endswith("+}")) or len(parts) < len(route_parts):
            continue
        captured = {}
        for have, want in zip(parts, route_parts[:-1]):
            if want.startswith("{") and want.endswith("}"):
                captured[want[1:-1]] = have
            elif have != want:
                break
        else:
            captured[last[1:-2]] = "/".join(parts[len(route_parts) - 1 :])
            if best is None or len(route_parts) > len(best[0].split("/")):
                best = (route, captured)
    if best is None:
        return None
    return MatchResult(best[0], best[1], parse_qs(parsed.query, keep_blank_values=True))


def _raise(url: str) -> Any:
    raise ValueError(f"No matching route found for: {url}")
