"""The capacity model (bench/capacity.py): it prints the first limit, the headroom and the cost at 100,
1,000 and 5,000 applications/s from the measured inputs, and the deployable stage's concurrency is the one
it sets for the rate the default quotas allow."""

from __future__ import annotations

import json
import subprocess
import sys

from bench import capacity
from bench.__main__ import ROOT, child_environment
from tests.support.deadlines import COMMAND_S


def inputs() -> tuple[dict, dict]:
    quotas = json.loads(sorted((ROOT / "bench").glob("quotas-*.json"))[-1].read_text())["quotas"]
    return json.loads(capacity.INPUTS.read_text()), quotas


def test_the_model_prints_the_first_limit_headroom_increases_and_cost_at_each_rate():
    done = subprocess.run([sys.executable, "-m", "bench.capacity"], cwd=ROOT, env=child_environment(),
                          capture_output=True, text=True, timeout=COMMAND_S)
    assert done.returncode == 0, done.stderr[-3000:]
    for rate in ("100/s", "1,000/s", "5,000/s"):
        assert f"first limit at {rate}:" in done.stdout and "headroom x" in done.stdout
    assert "quota increases for 1,000/s" in done.stdout
    assert "cost per million applications at 1,000/s" in done.stdout and "TOTAL" in done.stdout


def test_the_dev_stage_reserves_what_the_model_sets_for_the_rate_its_quotas_allow():
    profile, quotas = inputs()
    rate = capacity.design_rate(profile, quotas)
    sized = capacity.sizing(profile, rate, quotas)
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]
    functions = stage["lambda_functions"]
    for function, reserved in sized.items():
        if function in functions:
            assert functions[function].get("reserved_concurrency") == reserved, (function, reserved)
    assert stage["environment_variables"]["IDENTITY_CHECK_MAX_CONCURRENCY"] == str(sized["verify_identity_document"])
    total = sum(f.get("reserved_concurrency", stage["reserved_concurrency"]) for f in functions.values())
    assert total <= quotas["lambda.concurrency"]["value"] - 100  # Lambda keeps 100 unreserved


def test_more_applications_use_more_of_every_quota_and_no_key_is_hot_at_1000_per_second():
    profile, quotas = inputs()
    low, high = (capacity.model(profile, rate) for rate in (100, 1000))
    for (name, used_low, _, _), (_, used_high, _, _) in zip(
        capacity.uses(low, quotas), capacity.uses(high, quotas), strict=True
    ):
        assert used_high >= used_low, name
    assert max(high.hot.values()) <= capacity.TARGET_USE * quotas["dynamodb.partition_wcu"]["value"]


def test_the_identity_checks_concurrency_keeps_textract_under_its_quota():
    _, quotas = inputs()
    at_once = capacity.textract_concurrency(quotas)
    calls_per_second = at_once / (capacity.LATENCY["textract:DetectDocumentText"] + 0.1)
    assert calls_per_second <= capacity.TARGET_USE * quotas["textract.detect_document_text"]["value"]


def test_every_containers_settings_refresh_costs_a_call_per_page_of_ten_parameters():
    """GetParametersByPath returns ten parameters a page: a refresh of the stage's settings is one call per
    page, once a minute in every container. The measured refresh agrees with resources.yaml's parameters, and
    the model's use of the quota follows the pages (it counted one call a refresh before: a quarter)."""
    import math

    profile, quotas = inputs()
    pages = math.ceil(capacity.settings_parameters() / capacity.PARAMETERS_PER_PAGE)
    assert capacity.settings_parameters() > capacity.PARAMETERS_PER_PAGE  # more than one page: what is tested
    assert profile["settings_calls_per_refresh"] == pages  # measured by bench.aws_calls' cold application
    load = capacity.model(profile, 1000)
    [used] = [used for name, used, _, _ in capacity.uses(load, quotas) if name == "ssm.get_parameters_by_path"]
    assert used == capacity.containers(load) / 60 * pages
    one_page = capacity.model({**profile, "settings_calls_per_refresh": 1}, 1000)
    [used_one] = [u for name, u, _, _ in capacity.uses(one_page, quotas) if name == "ssm.get_parameters_by_path"]
    assert used == used_one * pages


def test_the_models_batching_agrees_with_a_measured_peaks_batching():
    """Issue 23: a model checked against measurement. At 1,000/s the model shares the outbox's per-batch calls
    (PublishBatch by ten messages, one counters transaction) among a batch's applications; ``bench.aws_calls
    --shared 10`` measures ten applications whose records share every stream batch. They agree within 10 %,
    and both are well under what one application alone costs (its own batches)."""
    profile, _ = inputs()
    shared = profile["shared"]
    assert shared["applications"] == capacity.SHARED_APPLICATIONS
    modelled, measured = capacity.platform_calls_per_application(profile), shared["platform_calls_per_application"]
    assert abs(modelled - measured) <= 0.10 * measured, (modelled, measured)
    alone = sum(n for handler, entry in profile["scenarios"]["warm"].items() if handler not in capacity.FACE_HANDLERS
                for n in entry["calls"].values())
    assert measured < alone - 5 and modelled < alone - 5, (modelled, measured, alone)
