"""Reading a CloudFormation template and resolving its intrinsic functions.

The local stack provisions from the very template that is deployed, so it has
to understand the template the way CloudFormation does: the short-form tags
(``!Ref``, ``!GetAtt``, ``!Sub`` ...), what ``Ref`` and ``Fn::GetAtt`` of each
resource return, and the order that references impose. Anything it does not
understand is an error that names the construct, never a silent skip: a
skipped property is exactly how a local schema drifts from the deployed one.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml


class TemplateError(Exception):
    """The template uses something the local stack cannot reproduce."""


# --- loading -----------------------------------------------------------------

class _CfnLoader(yaml.SafeLoader):
    """A safe YAML loader that turns ``!Tag value`` into ``{"Fn::Tag": value}``."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        value = [logical_id, attribute]
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


SUPPORTED_TRANSFORMS = {"AWS::LanguageExtensions"}  # Fn::ForEach, expanded by expand_for_each


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse a CloudFormation YAML (or JSON) template into plain Python data."""
    with open(path, encoding="utf-8") as handle:
        return load_template_text(handle.read(), str(path))


def load_template_text(text: str, name: str = "the template") -> dict[str, Any]:
    """Parse a template's text (YAML or JSON), as CloudFormation receives it in ``TemplateBody``."""
    template = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(template, dict) or "Resources" not in template:
        raise TemplateError(f"{name} is not a CloudFormation template (no Resources)")
    transforms = template.get("Transform", [])
    transforms = [transforms] if isinstance(transforms, str) else list(transforms)
    unknown = [name for name in transforms if name not in SUPPORTED_TRANSFORMS]
    if unknown:
        raise TemplateError(f"transform(s) {unknown} are not supported by devstack")
    return template


# --- Fn::ForEach (AWS::LanguageExtensions) -----------------------------------------

_FOR_EACH = "Fn::ForEach::"


def expand_for_each(section: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Expand ``Fn::ForEach::Name: [Identifier, Collection, {Key${Identifier}: Fragment}]``.

    As CloudFormation does: ``${Id}`` in keys and strings and ``{"Ref": Id}``
    become the value; ``&{Id}`` in a key becomes the value with its
    non-alphanumeric characters dropped (logical ids are alphanumeric).
    """
    expanded: dict[str, Any] = {}
    for key, value in section.items():
        if not key.startswith(_FOR_EACH):
            expanded[key] = value
            continue
        identifier, collection, fragment = value
        if isinstance(collection, dict) and set(collection) == {"Ref"}:
            collection = parameters[collection["Ref"]]
        if not isinstance(collection, list):
            raise TemplateError(f"{key}: the collection must be a list or a Ref to a list parameter")
        for item in collection:
            item = str(item).strip()
            replaced = _replace_identifier(fragment, identifier, item)
            for logical_id, resource in expand_for_each(replaced, parameters).items():
                if logical_id in expanded or logical_id in section:
                    raise TemplateError(f"{key} makes a duplicate logical id {logical_id}")
                expanded[logical_id] = resource
    return expanded


def _replace_identifier(value: Any, identifier: str, item: str) -> Any:
    if isinstance(value, dict):
        if value == {"Ref": identifier}:
            return item
        result = {}
        for key, child in value.items():
            key = key.replace("${" + identifier + "}", item)
            key = key.replace("&{" + identifier + "}", re.sub(r"[^A-Za-z0-9]", "", item))
            result[key] = _replace_identifier(child, identifier, item)
        return result
    if isinstance(value, list):
        return [_replace_identifier(child, identifier, item) for child in value]
    if isinstance(value, str):
        return value.replace("${" + identifier + "}", item)
    return value


# --- Conditions ----------------------------------------------------------------------

def evaluate_conditions(template: Mapping[str, Any], parameters: Mapping[str, Any],
                        pseudo: Mapping[str, str] | None = None) -> dict[str, bool]:
    """Every named condition of the template, true or false (Fn::Equals/Not/And/Or, Condition)."""
    definitions = template.get("Conditions", {}) or {}
    values: dict[str, bool] = {}

    def lookup(name: str) -> Any:
        if name in parameters:
            return parameters[name]
        if pseudo and name in pseudo:
            return pseudo[name]
        raise TemplateError(f"a condition refers to {name}, which is not a parameter")

    def value(expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            (key, argument), = expression.items()
            if key == "Ref":
                return lookup(argument)
            if key == "Condition":
                return condition(argument)
            if key == "Fn::Equals":
                left, right = (value(item) for item in argument)
                norm = [",".join(v) if isinstance(v, list) else str(v) for v in (left, right)]
                return norm[0] == norm[1]
            if key == "Fn::Not":
                return not truth(argument[0])
            if key == "Fn::And":
                return all(truth(item) for item in argument)
            if key == "Fn::Or":
                return any(truth(item) for item in argument)
            if key == "Fn::Join":
                delimiter, items = argument
                items = value(items) if isinstance(items, dict) else items  # a Ref to a list parameter
                return delimiter.join(str(value(item)) for item in items)
            if key == "Fn::Select":
                index, items = argument
                items = value(items)
                return items[int(index)]
            raise TemplateError(f"{key} is not supported in a condition by devstack")
        return expression

    def truth(expression: Any) -> bool:
        result = value(expression)
        if not isinstance(result, bool):
            raise TemplateError(f"a condition must be true or false, not {result!r}")
        return result

    def condition(name: str) -> bool:
        if name not in values:
            if name not in definitions:
                raise TemplateError(f"unknown condition {name}")
            values[name] = truth(definitions[name])
        return values[name]

    for name in definitions:
        condition(name)
    return values


# --- references and ordering -----------------------------------------------------

PSEUDO_PARAMETERS = ("AWS::Region", "AWS::AccountId", "AWS::Partition",
                     "AWS::StackName", "AWS::URLSuffix", "AWS::NoValue")
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


def references(value: Any) -> set[str]:
    """Logical ids (and parameter names) that ``value`` refers to."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and len(value) == 1:
            found.add(value["Ref"])
        elif "Fn::GetAtt" in value and len(value) == 1:
            found.add(value["Fn::GetAtt"][0])
        elif "Fn::Sub" in value and len(value) == 1:
            text, variables = _sub_parts(value["Fn::Sub"])
            found |= {name.split(".")[0] for name in _SUB_VARIABLE.findall(text)} - set(variables)
            found |= references(variables)
        else:
            for item in value.values():
                found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found - set(PSEUDO_PARAMETERS)


def creation_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical ids ordered so each comes after everything it refers to."""
    depends: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        explicit = resource.get("DependsOn", [])
        explicit = [explicit] if isinstance(explicit, str) else list(explicit)
        refs = references(resource.get("Properties", {})) | set(explicit)
        depends[logical_id] = {ref for ref in refs if ref in resources}
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in ordered:
            return
        if logical_id in visiting:
            raise TemplateError(f"circular reference through {logical_id}")
        visiting.add(logical_id)
        for dependency in sorted(depends[logical_id]):
            visit(dependency)
        visiting.discard(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:  # template order where references allow it
        visit(logical_id)
    return ordered


# --- resolution -----------------------------------------------------------------

_NO_VALUE = object()


def _sub_parts(argument: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(argument, str):
        return argument, {}
    text, variables = argument
    return text, variables


class Resolver:
    """Evaluates intrinsic functions against parameters and created resources.

    ``ref`` and ``get_att`` are callbacks into whatever holds the physical
    resources, so the resolver works for resource properties and for Outputs.
    """

    def __init__(self, parameters: Mapping[str, str], pseudo: Mapping[str, str],
                 ref: Callable[[str], str], get_att: Callable[[str, str], str],
                 conditions: Mapping[str, bool] | None = None) -> None:
        self._parameters = parameters
        self._pseudo = pseudo
        self._ref = ref
        self._get_att = get_att
        self._conditions = dict(conditions or {})

    def resolve(self, value: Any) -> Any:
        """Return ``value`` with every intrinsic function replaced by its result."""
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = (self._resolve(item) for item in value)
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, argument)
        items = ((key, self._resolve(item)) for key, item in value.items())
        return {key: item for key, item in items if item is not _NO_VALUE}

    def _intrinsic(self, function: str, argument: Any) -> Any:
        if function == "Ref":
            return self._lookup_ref(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = self._resolve(argument)
            return self._get_att(logical_id, attribute)
        if function == "Fn::Sub":
            return self._sub(argument)
        if function == "Fn::Join":
            delimiter, items = argument
            return delimiter.join(str(item) for item in self._resolve(items))
        if function == "Fn::Select":
            index, items = self._resolve(argument)
            return items[int(index)]
        if function == "Fn::Split":
            delimiter, text = self._resolve(argument)
            return text.split(delimiter)
        if function == "Fn::If":
            name, when_true, when_false = argument
            if name not in self._conditions:
                raise TemplateError(f"Fn::If names an unknown condition {name}")
            return self._resolve(when_true if self._conditions[name] else when_false)
        raise TemplateError(f"intrinsic function {function} is not supported by devstack")

    def _lookup_ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        return self._ref(name)

    def _sub(self, argument: Any) -> str:
        text, variables = _sub_parts(argument)
        variables = self._resolve(variables)

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".")[0] not in self._parameters:
                logical_id, attribute = name.split(".", 1)
                return str(self._get_att(logical_id, attribute))
            return str(self._lookup_ref(name))

        resolved = _SUB_VARIABLE.sub(replace, text)
        return resolved.replace("${!", "${")


def resolve_parameters(template: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Template parameters from ``given`` or their defaults, checked like CloudFormation.

    A ``CommaDelimitedList`` is a list of strings (given as a list or as one
    comma-separated string); every other type is a string.
    """
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        if name in given:
            raw = given[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no default and no value was given")
        kind = spec.get("Type", "String")
        if kind == "CommaDelimitedList":
            items = raw if isinstance(raw, list) else str(raw).split(",")
            value: Any = [str(item).strip() for item in items]
        elif kind in ("String", "Number"):
            value = str(raw)
        else:
            raise TemplateError(f"parameter {name}: type {kind} is not supported by devstack")
        for text in value if isinstance(value, list) else [value]:
            _check_parameter(name, spec, text)
        values[name] = value
    unknown = set(given) - set(values)
    if unknown:
        raise TemplateError(f"the template has no parameter(s) {sorted(unknown)}")
    return values


def _check_parameter(name: str, spec: Mapping[str, Any], value: str) -> None:
    pattern = spec.get("AllowedPattern")
    if pattern and not re.fullmatch(pattern, value):
        raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
    allowed = spec.get("AllowedValues")
    if allowed and value not in [str(item) for item in allowed]:
        raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(f"parameter {name}={value!r} is not a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise TemplateError(f"parameter {name}={value} is below {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise TemplateError(f"parameter {name}={value} is above {spec['MaxValue']}")


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def env_name(output_key: str) -> str:
    """``ApplicationsTableName`` -> ``APPLICATIONS_TABLE_NAME`` (acronym runs kept)."""
    return _CAMEL_BOUNDARY.sub("_", output_key).upper()
