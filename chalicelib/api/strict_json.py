"""Parsing untrusted JSON: bounded nesting, no duplicate keys, errors that echo nothing.

``json.loads`` recurses once per nesting level, so about 1,000 levels (2 KB of
``[``) raise RecursionError, which escaped as a 500. The depth is measured
first with a loop over the text, so no input can reach the recursion limit.
A duplicate key is refused, not resolved: two parsers (ours and a log reader,
a WAF, a client) would otherwise disagree on what was sent.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32


class MalformedJson(ValueError):
    """Why the text is refused, in words safe to return to the caller (no input echoed)."""


def nesting_depth(text: str) -> int:
    """The deepest array/object nesting of ``text``, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif char in "]}":
            depth -= 1
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedJson("an object has the same key twice")
        result[key] = value
    return result


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``raw``; raises MalformedJson with a message that quotes nothing of the input."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    except UnicodeDecodeError:
        raise MalformedJson("the body is not UTF-8") from None
    if nesting_depth(text) > max_depth:
        raise MalformedJson(f"the JSON is nested deeper than {max_depth} levels")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except MalformedJson:
        raise
    except json.JSONDecodeError as error:
        raise MalformedJson(f"the body is not valid JSON (line {error.lineno}, column {error.colno})") from None
    except (ValueError, RecursionError):
        raise MalformedJson("the body is not valid JSON") from None
