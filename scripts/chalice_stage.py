"""Chalice's own CLI, with each stage's recorded values merged into its config.

``.chalice/config.json`` (tracked) holds what every clone shares. What a deploy
learns about one account -- the resources stack's outputs, the WebSocket
endpoint, the policy files written from real ARNs -- is recorded in
``.chalice/stages/<stage>.json`` (git-ignored) and merged into that stage here,
so ``chalice deploy|package|delete`` see one config and nothing
account-specific is ever committed. Chalice reads its config only through
``CLIFactory.load_project_config``; this is that hook, nothing else changes.

    python -m scripts.chalice_stage deploy --stage dev
    python -m scripts.chalice_stage package --stage dev --pkg-format terraform out/
    python -m scripts.chalice_stage package --stage dev out/       # CloudFormation (SAM)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from scripts.event_sources import complete_cloudformation, complete_terraform

STAGES_DIR = Path(".chalice") / "stages"


def overlay_path(project_dir: str | Path, stage: str) -> Path:
    return Path(project_dir) / STAGES_DIR / f"{stage}.json"


def load_overlay(project_dir: str | Path, stage: str) -> dict[str, Any]:
    path = overlay_path(project_dir, stage)
    return json.loads(path.read_text()) if path.exists() else {}


def write_overlay(project_dir: str | Path, stage: str, overlay: dict[str, Any]) -> Path:
    path = overlay_path(project_dir, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(overlay, indent=2, sort_keys=True) + "\n")
    return path


def merge_stage(config: dict[str, Any], stage: str, overlay: dict[str, Any]) -> dict[str, Any]:
    """``config`` with ``overlay`` merged into ``stages[stage]``: mappings merge, everything else replaces."""
    merged = json.loads(json.dumps(config))
    target = merged.setdefault("stages", {}).setdefault(stage, {})
    _merge(target, overlay)
    return merged


def _merge(target: dict[str, Any], overlay: dict[str, Any]) -> None:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _stage_factory() -> type:
    from chalice.cli.factory import CLIFactory

    class StageFactory(CLIFactory):  # type: ignore[misc]
        """Chalice's factory, with every recorded stage merged into the loaded config."""

        def load_project_config(self) -> dict[str, Any]:
            config = super().load_project_config()
            for path in sorted((Path(self.project_dir) / STAGES_DIR).glob("*.json")):
                config = merge_stage(config, path.stem, json.loads(path.read_text()))
            return config

        def create_default_deployer(self, *args: Any, **kwargs: Any) -> Any:
            deployer = super().create_default_deployer(*args, **kwargs)
            deploy = deployer.deploy

            def deploy_recording_partial(config: Any, chalice_stage_name: str) -> Any:
                try:
                    return deploy(config, chalice_stage_name)
                except Exception:
                    record_partial(Path(config.project_dir), chalice_stage_name, deployer._executor.resource_values)
                    raise

            deployer.deploy = deploy_recording_partial
            return deployer

    return StageFactory


def record_partial(project_dir: Path, stage: str, made: list[dict[str, Any]]) -> None:
    """A failed ``chalice deploy`` records nothing, so what it made before failing (a new REST API...) would
    be made again by the next run, the first left running unrecorded. Merge what it made into the record."""
    path = project_dir / ".chalice" / "deployed" / f"{stage}.json"
    record = json.loads(path.read_text()) if path.exists() else {"schema_version": "2.0", "backend": "api"}
    resources = {resource["name"]: resource for resource in record.get("resources", [])}
    resources.update({resource["name"]: resource for resource in made})
    record["resources"] = list(resources.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def main(argv: list[str] | None = None) -> int:
    import chalice.cli

    args = list(sys.argv[1:] if argv is None else argv)
    chalice.cli.CLIFactory = _stage_factory()  # the name cli() instantiates
    sys.argv = ["chalice", *args]
    try:
        code = chalice.cli.main()
    except SystemExit as exit_:  # click's standalone mode
        code = exit_.code if isinstance(exit_.code, int) else 1
    if code == 0 and args[:1] == ["package"]:
        stage = _option(args, "--stage") or "dev"
        env = load_overlay(Path.cwd(), stage).get("environment_variables", {})
        if _option(args, "--pkg-format") == "terraform":
            out = Path(args[-1]) / "chalice.tf.json"
            outputs_path = Path.cwd() / STAGES_DIR / stage / "outputs.json"
            outputs = json.loads(outputs_path.read_text()) if outputs_path.exists() else {}
            gateway_path = Path.cwd() / ".chalice" / "gateway.json"
            gateway = json.loads(gateway_path.read_text()) if gateway_path.exists() else None
            out.write_text(json.dumps(complete_terraform(json.loads(out.read_text()), env, outputs, gateway),
                                      indent=2))
        elif (Path(args[-1]) / "sam.json").exists():
            out = Path(args[-1]) / "sam.json"
            out.write_text(json.dumps(complete_cloudformation(json.loads(out.read_text()), env), indent=2))
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
