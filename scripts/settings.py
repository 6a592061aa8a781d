"""Read and change the business settings (Parameter Store) of a stage or of the local stack.

    ./dev settings                                   # every setting of the running local stack
    ./dev settings served_countries                  # one: its effective value
    ./dev settings served_countries GB,IE,FR,JP      # change it (checked first; applied at once)
    ./dev settings served_countries --reset          # back to the template's default
    python -m scripts.settings --stage dev ...       # the same on AWS (credentials as for deploy)

The settings are the parameters under the stage's path (``/account-opening/<stage>/``,
the template's ``SettingsPath`` output); their defaults are the values in
``resources.yaml``. The *effective* value is what the app makes of the stored one
(``chalicelib/domain/policy.py``: ``Policy.from_parameters``): lists upper-cased and
sorted, ``-`` for an empty list, numbers as numbers. A value the app could not read is
refused before anything is written, since every handler would then fail on it.

When it takes effect: the app caches the settings for ``SETTINGS_CACHE_SECONDS``
(default 60) per container, so on AWS a change reaches every function within a
minute, with no deploy. On the local stack ``./dev settings`` also tells the
running stack to drop its cached settings, so the change applies at once.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATE_FILE = Path(".devstack") / "state.json"


def _policy_fields() -> dict[str, dataclasses.Field]:
    from chalicelib.domain.policy import Policy

    return {field.name: field for field in dataclasses.fields(Policy)}


def template_defaults(template: Path = ROOT / "resources.yaml") -> dict[str, str]:
    """Each ``AWS::SSM::Parameter``'s value in the template, by setting name."""
    from devstack.template import load_template

    defaults = {}
    for resource in load_template(template).get("Resources", {}).values():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::SSM::Parameter":
            continue
        properties = resource.get("Properties", {})
        name = properties.get("Name")
        if isinstance(name, dict):  # !Sub "/account-opening/${Stage}/minimum_age"
            name = next(iter(name.values()))
            name = name[0] if isinstance(name, list) else name
        if isinstance(name, str) and "Value" in properties:
            defaults[name.rsplit("/", 1)[-1]] = str(properties["Value"])
    return defaults


def effective(values: dict[str, str]) -> dict[str, str]:
    """What the app makes of these stored values, each as text; raises ValueError if it cannot."""
    from chalicelib.domain.policy import Policy

    policy = Policy.from_parameters(values)
    shown = {}
    for name in _policy_fields():
        value = getattr(policy, name)
        if isinstance(value, frozenset):
            shown[name] = ",".join(sorted(value)) or "-"
        elif isinstance(value, float):
            shown[name] = f"{value:g}"
        else:
            shown[name] = str(value)
    return shown


class Settings:
    """The parameters under one path, read and written with an SSM client."""

    def __init__(self, ssm: Any, path: str, defaults: dict[str, str]) -> None:
        self.ssm = ssm
        self.path = path if path.endswith("/") else path + "/"
        self.defaults = defaults

    def stored(self) -> dict[str, dict[str, str]]:
        """name -> {"value", "type"} of every parameter under the path."""
        found: dict[str, dict[str, str]] = {}
        for page in self.ssm.get_paginator("get_parameters_by_path").paginate(
                Path=self.path, Recursive=False):
            for parameter in page["Parameters"]:
                found[parameter["Name"].rsplit("/", 1)[-1]] = {
                    "value": parameter["Value"], "type": parameter["Type"]}
        return found

    def rows(self) -> list[dict[str, str]]:
        """Every setting the app reads, with its stored, effective and default value."""
        stored = self.stored()
        values = {name: item["value"] for name, item in stored.items()}
        now = effective(values)
        default = effective({name: value for name, value in self.defaults.items()
                             if name in _policy_fields()})
        rows = []
        for name in _policy_fields():
            rows.append({"name": name, "effective": now[name],
                         "stored": stored[name]["value"] if name in stored else "",
                         "default": self.defaults.get(name, default[name]),
                         "changed": "yes" if now[name] != default[name] else ""})
        for name in sorted(set(stored) - set(_policy_fields())):
            rows.append({"name": name, "effective": "(not read by this version of the app)",
                         "stored": stored[name]["value"], "default": self.defaults.get(name, ""),
                         "changed": ""})
        return rows

    def set(self, name: str, value: str) -> str:
        """Store ``value`` after checking the app can read it; returns the effective value."""
        if name not in _policy_fields():
            raise ValueError(f"{name!r} is not a setting the app reads (known: "
                             f"{', '.join(_policy_fields())})")
        stored = self.stored()
        values = {key: item["value"] for key, item in stored.items()}
        values[name] = value
        try:
            result = effective(values)[name]
        except ValueError as error:
            raise ValueError(f"{name}={value!r} would not be readable by the app: {error}") from None
        kind = stored.get(name, {}).get("type") or (
            "StringList" if isinstance(_policy_fields()[name].default, frozenset) else "String")
        self.ssm.put_parameter(Name=self.path + name, Value=value, Type=kind, Overwrite=True)
        return result

    def reset(self, name: str) -> str:
        if name not in self.defaults:
            raise ValueError(f"{name!r} has no default in resources.yaml")
        return self.set(name, self.defaults[name])


def _print_table(rows: list[dict[str, str]]) -> None:
    width = max(len(row["name"]) for row in rows)
    value_width = min(40, max(len(row["effective"]) for row in rows))
    print(f"{'setting':<{width}}  {'effective value':<{value_width}}  default (* changed)")
    for row in rows:
        mark = "*" if row["changed"] else " "
        print(f"{row['name']:<{width}}  {row['effective']:<{value_width}}  {mark} {row['default']}")


def _local_stack(state_file: Path) -> dict[str, Any]:
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        raise SystemExit("devstack: the local stack is not running (start it with ./dev up)") from None
    return state


def _refresh_local(state: dict[str, Any]) -> None:
    request = urllib.request.Request(f"{state['control_url']}/settings/refresh", data=b"",
                                     method="POST")
    from devstack.deadlines import scaled

    try:
        with urllib.request.urlopen(request, timeout=scaled(120.0)) as response:  # noqa: S310 - local
            response.read()
    except OSError as error:
        raise SystemExit(f"devstack: the stack did not refresh its settings ({error}); they "
                         "apply within SETTINGS_CACHE_SECONDS (60 s)") from None


def main(argv: list[str] | None = None) -> int:
    import os

    parser = argparse.ArgumentParser(prog="settings", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="a setting (omit to list them all)")
    parser.add_argument("value", nargs="?", help="the new value (omit to read it)")
    parser.add_argument("--reset", action="store_true", help="set it back to the template's default")
    parser.add_argument("--json", action="store_true", help="print every setting as JSON")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stage", help="an AWS stage: its path is /account-opening/<stage>/")
    where.add_argument("--local", action="store_true",
                       help="the running local stack (what ./dev settings passes)")
    where.add_argument("--path", help="a Parameter Store path, e.g. /account-opening/dev/")
    args = parser.parse_args(argv)
    if args.reset and (not args.name or args.value):
        parser.error("--reset takes a setting's name and no value")

    import boto3

    state = None
    if args.local:
        state_dir = os.environ.get("DEVSTACK_STATE_DIR")
        state = _local_stack(Path(state_dir) / "state.json" if state_dir else ROOT / STATE_FILE)
        env = state["env"]
        ssm = boto3.client("ssm", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                           aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        path = env["SETTINGS_PATH"]
    else:
        path = args.path or (f"/account-opening/{args.stage}/" if args.stage else
                             os.environ.get("SETTINGS_PATH"))
        if not path:
            parser.error("say where: --stage STAGE, --path PATH, --local, or set SETTINGS_PATH")
        ssm = boto3.client("ssm")
    settings = Settings(ssm, path, template_defaults())

    try:
        if args.name and (args.value is not None or args.reset):
            value = settings.reset(args.name) if args.reset else settings.set(args.name, args.value)
            if state is not None:
                _refresh_local(state)
                when = "applied now on the local stack"
            else:
                when = "applies within SETTINGS_CACHE_SECONDS (default 60 s) in every function"
            print(f"{args.name} = {value}   ({when})")
            return 0
        rows = settings.rows()
    except ValueError as error:
        print(f"settings: {error}", file=sys.stderr)
        return 2
    if args.name:
        row = next((row for row in rows if row["name"] == args.name), None)
        if row is None:
            print(f"settings: no setting {args.name!r} (known: "
                  f"{', '.join(row['name'] for row in rows)})", file=sys.stderr)
            return 2
        print(row["effective"])
        return 0
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
