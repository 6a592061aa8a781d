"""Check a raw JSON response against botocore's service model, strictly.

boto3's parser drops members it does not know and never checks ranges or enums,
so a local endpoint could answer what AWS never would and still "work". This
walks the raw JSON with the operation's output shape: unknown members, missing
required ones, types, enums, string lengths and patterns, number ranges.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import botocore.session


def output_shape(service: str, operation: str) -> Any:
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(operation).output_shape


def problems(value: Any, shape: Any, where: str = "$") -> list[str]:
    """Every way ``value`` (parsed JSON) departs from ``shape``; [] when it conforms."""
    found: list[str] = []
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        for name in shape.required_members:
            if name not in value:
                found.append(f"{where}: required member {name} missing")
        for name, member in value.items():
            if name not in shape.members:
                found.append(f"{where}: unknown member {name}")
            else:
                found += problems(member, shape.members[name], f"{where}.{name}")
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        if "min" in meta and len(value) < meta["min"]:
            found.append(f"{where}: fewer than {meta['min']} items")
        if "max" in meta and len(value) > meta["max"]:
            found.append(f"{where}: more than {meta['max']} items")
        for index, item in enumerate(value):
            found += problems(item, shape.member, f"{where}[{index}]")
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected a map"]
        for key, item in value.items():
            found += problems(key, shape.key, f"{where}<key>") + problems(item, shape.value, f"{where}.{key}")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string, got {type(value).__name__}"]
        if shape.enum and value not in shape.enum:
            found.append(f"{where}: {value!r} is not one of {shape.enum}")
        if "min" in meta and len(value) < meta["min"]:
            found.append(f"{where}: shorter than {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            found.append(f"{where}: longer than {meta['max']}")
        if "pattern" in meta and not re.search(meta["pattern"], value):
            found.append(f"{where}: {value!r} does not match {meta['pattern']}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: expected an integer, got {value!r}"]
        found += _range(value, meta, where)
    elif kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return [f"{where}: expected a number, got {value!r}"]
        found += _range(value, meta, where)
    elif kind == "boolean":
        if not isinstance(value, bool):
            found.append(f"{where}: expected a boolean, got {value!r}")
    elif kind == "blob":
        try:
            base64.b64decode(value, validate=True)
        except Exception:
            found.append(f"{where}: a blob must be base64")
    elif kind == "timestamp":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            found.append(f"{where}: a JSON 1.1 timestamp is epoch seconds, got {value!r}")
    else:
        found.append(f"{where}: shape type {kind} not checked")
    return found


def _range(value: float, meta: dict[str, Any], where: str) -> list[str]:
    out = []
    if "min" in meta and value < meta["min"]:
        out.append(f"{where}: {value} below {meta['min']}")
    if "max" in meta and value > meta["max"]:
        out.append(f"{where}: {value} above {meta['max']}")
    return out


def error_codes(service: str, operation: str) -> set[str]:
    """The error codes botocore's model lists for an operation."""
    model = botocore.session.get_session().get_service_model(service)
    return {shape.name for shape in model.operation_model(operation).error_shapes}
