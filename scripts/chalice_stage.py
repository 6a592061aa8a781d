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

    return StageFactory


def complete_terraform(template: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """What Chalice's Terraform package lacks, made part of the package (the deploy sets the same, by API):
    ReportBatchItemFailures on every SQS mapping; bisect, a retry limit, a record age and an on-failure
    queue on the history stream's; an on-failure queue and a retry limit for an asynchronous S3 handler
    (the app has none since its uploads go through the identity-check queue)."""
    from scripts.deploy import ASYNC_RETRIES, STREAM_MAPPING

    resources = template.setdefault("resource", {})
    for name, mapping in resources.get("aws_lambda_event_source_mapping", {}).items():
        if name.endswith("-sqs-event-source"):
            mapping["function_response_types"] = ["ReportBatchItemFailures"]
        elif name.endswith("-dynamodb-event-source"):
            mapping.update(
                bisect_batch_on_function_error=STREAM_MAPPING["BisectBatchOnFunctionError"],
                maximum_retry_attempts=STREAM_MAPPING["MaximumRetryAttempts"],
                maximum_record_age_in_seconds=STREAM_MAPPING["MaximumRecordAgeInSeconds"],
                function_response_types=STREAM_MAPPING["FunctionResponseTypes"],
            )
            if env.get("HISTORY_STREAM_DLQ_ARN"):
                mapping["destination_config"] = {"on_failure": {"destination_arn": env["HISTORY_STREAM_DLQ_ARN"]}}
    s3_handlers = {
        target["lambda_function_arn"].split(".")[1]
        for notification in resources.get("aws_s3_bucket_notification", {}).values()
        for target in notification.get("lambda_function", [])
        if str(target.get("lambda_function_arn", "")).startswith("${aws_lambda_function.")
    }
    for name in sorted(s3_handlers):
        invoke: dict[str, Any] = {
            "function_name": f"${{aws_lambda_function.{name}.function_name}}",
            "maximum_retry_attempts": ASYNC_RETRIES,
        }
        if env.get("DOCUMENT_EVENTS_DLQ_ARN"):
            invoke["destination_config"] = {"on_failure": {"destination": env["DOCUMENT_EVENTS_DLQ_ARN"]}}
        resources.setdefault("aws_lambda_function_event_invoke_config", {})[name] = invoke
    return template


def complete_cloudformation(template: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """The same for Chalice's CloudFormation (SAM) package: ReportBatchItemFailures on every SQS event;
    bisect, a retry limit, a record age, ReportBatchItemFailures and an on-failure queue on the stream's."""
    from scripts.deploy import STREAM_MAPPING

    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            properties = event.setdefault("Properties", {})
            if event.get("Type") == "SQS":
                properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            elif event.get("Type") == "DynamoDB":
                properties.update(STREAM_MAPPING)
                if env.get("HISTORY_STREAM_DLQ_ARN"):
                    properties["DestinationConfig"] = {
                        "OnFailure": {"Type": "SQS", "Destination": env["HISTORY_STREAM_DLQ_ARN"]}
                    }
    return template


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
            out.write_text(json.dumps(complete_terraform(json.loads(out.read_text()), env), indent=2))
        elif (Path(args[-1]) / "sam.json").exists():
            out = Path(args[-1]) / "sam.json"
            out.write_text(json.dumps(complete_cloudformation(json.loads(out.read_text()), env), indent=2))
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
