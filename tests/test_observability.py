"""Metrics are emitted (CloudWatch EMF on stdout) once per invocation, and logs are JSON."""
from __future__ import annotations

import json

from tests.support.flows import address_message, create_application, sqs_event


def emf_lines(text):
    lines = []
    for line in text.splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and "_aws" in data:
            lines.append(data)
    return lines


def test_a_handler_emits_its_metrics_as_emf(api, client, applicant, capsys):
    app_id = create_application(api, applicant)
    capsys.readouterr()
    client.lambda_.invoke("check_address", sqs_event(client, address_message(app_id)))
    metrics = emf_lines(capsys.readouterr().out)
    assert len(metrics) == 1
    names = {m["Name"] for d in metrics[0]["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert "AddressCheckPass" in names
    assert metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AccountOpening"


def test_an_unexpected_error_is_one_structured_log_line_with_the_request_id(api, applicant, monkeypatch):
    import io

    from chalicelib.bootstrap import services
    from chalicelib.observability import logger

    monkeypatch.setattr(services().applications, "list_own", lambda *a, **k: 1 / 0)
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    try:
        reply = api.get("/applications", user=applicant)
    finally:
        logger.registered_handler.setStream(previous)
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    errors = [r for r in records if r.get("level") == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == reply.body["request_id"]
    assert "ZeroDivisionError" in errors[0]["exception"]
