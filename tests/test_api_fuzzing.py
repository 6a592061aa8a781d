"""Schemathesis against the served OpenAPI document: every operation, applicant and reviewer tokens.

Every operation gets positive and negative cases (each operation that has anything to violate), with every
check schemathesis has (server errors, status codes, content types, headers, response schemas, negative data
rejected, positive data accepted...). In-process through a WSGI adapter over Chalice's local gateway.

Where the time goes: not in the requests but in schemathesis building its hypothesis strategies again for
each example, above all hypothesis's regex compiler for the schema's patterns (about 90 % of the test's CPU in a
py-spy profile). So a pattern's strategy is built once while the fuzzer runs (``regex_strategies_built_once``),
and each operation gets a few derandomized examples per mode in the suite: 6 positive and 5 negative, 248
requests over 29 operations (12 and 10, 489 requests, reached no operation, mode or response status more;
55 and 50 with no reuse took over 7 minutes of CPU without finishing, at a load of 20-40).
``HYPOTHESIS_PROFILE=explore`` scales the examples with the profile (100, 83).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from tests.support import greedy_routes
from tests.support.wsgi import ChaliceWsgi

greedy_routes.install()

# Per operation, from the loaded hypothesis profile (tests/conftest.py): 6 and 5 in the suite's, 100 and 83 in
# `explore`'s (a fifth and a sixth of its max_examples). 6 and 5 reach what 12 and 10 reached (measured
# 2026-12-08 with the examples derandomized, as here): the same 29 operations positive and the same 11 negative,
# and the same 49 (mode, operation, response status) pairs, so the same checks apply to the same kinds of
# response; 248 requests instead of 489.
EXPLORING = settings.default.max_examples > 60  # the suite's profile has 60
POSITIVE_EXAMPLES = settings.default.max_examples // 5 if EXPLORING else 6
NEGATIVE_EXAMPLES = settings.default.max_examples // 6 if EXPLORING else 5
SPECIAL_USE_TLDS = {"test", "invalid", "local", "localhost", "onion", "arpa", "alt", "home", "lan", "internal"}


@pytest.fixture
def generous_daily_limit():
    """The fuzzer creates hundreds of applications as one applicant; the daily limit has its own tests."""
    import os

    import boto3

    from chalicelib.bootstrap import services
    from chalicelib.domain.policy import Policy

    ssm = boto3.client("ssm")
    name = os.environ["SETTINGS_PATH"].rstrip("/") + "/max_applications_per_day"
    ssm.put_parameter(Name=name, Value="100000", Type="String", Overwrite=True)
    services().settings.clear_cache()
    yield
    ssm.put_parameter(Name=name, Value=str(Policy().max_applications_per_day), Type="String", Overwrite=True)
    services().settings.clear_cache()


@pytest.fixture(scope="module")
def wsgi(client):
    return ChaliceWsgi(client.http)


@pytest.fixture(scope="module")
def schema(wsgi):
    # Tokens are the authorisation matrix's business (tests/test_authorization_matrix.py): here every
    # request carries a valid one, so the negative cases mutate what the operation itself accepts.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    return schemathesis.openapi.from_wsgi("/openapi.json", wsgi, config=config)


def who_for(path: str) -> str:
    return "reviewer" if path.startswith("/review") else "applicant"


def within_what_a_schema_cannot_say(case):
    """Two rules JSON Schema cannot express, applied to the generated (positive) cases:

    - a cursor is opaque and only valid as handed out (forged cursors have their own tests);
    - a date of birth lies in the past;
    - an e-mail domain is not a special-use name (RFC 6761: .test, .invalid, .local, ...);
    - an Idempotency-Key is not reused for a different body (422 idempotency_key_reused, tested by hand);
    - the bank's policy, which no schema states (422 application_refused, tests/test_declaration_refused_api.py):
      an adult applicant, a document neither expired nor implausibly far from expiry, a served country.
    """
    if case.query and "cursor" in case.query:
        case.query = {k: v for k, v in case.query.items() if k != "cursor"}
    body = case.body if isinstance(case.body, dict) else None
    if body and isinstance(body.get("date_of_birth"), str) and body["date_of_birth"] >= dt.date.today().isoformat():
        body["date_of_birth"] = "1990-01-01"
    if body and isinstance(body.get("email"), str) and "@" in body["email"]:
        local, _, domain = body["email"].rpartition("@")
        if domain.rsplit(".", 1)[-1].lower() in SPECIAL_USE_TLDS:
            body["email"] = f"{local}@example.com"
    if body and isinstance(body.get("date_of_birth"), str) and body["date_of_birth"] > adult_born_by():
        body["date_of_birth"] = "1990-01-01"
    document = body.get("identity_document") if body else None
    if isinstance(document, dict) and isinstance(document.get("expiry_date"), str):
        today = dt.date.today()
        if not today.isoformat() < document["expiry_date"] <= dt.date(today.year + 10, 1, 1).isoformat():
            document["expiry_date"] = dt.date(today.year + 5, 1, 1).isoformat()
    address = body.get("address") if body else None
    if isinstance(address, dict) and isinstance(address.get("country"), str):
        address["country"] = "GB"
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4()}"
    return case


@contextlib.contextmanager
def regex_strategies_built_once() -> Iterator[None]:
    """Hypothesis's regex strategy for a pattern, built once and reused while the fuzzer runs.

    Schemathesis builds its strategies again for each example it draws, and each of the schema's patterns
    then goes through hypothesis's regex compiler again (``regex_strategy``: parse, character classes, interval
    sets) -- most of the fuzzer's CPU. A strategy is immutable, so the one built for the same pattern, flags,
    mode and alphabet is the same strategy; an alphabet this cannot key is built as before.
    """
    from hypothesis.strategies._internal import regex as hypothesis_regex

    build = hypothesis_regex.regex_strategy
    built: dict[tuple[Any, ...], Any] = {}

    def once(regex: Any, fullmatch: bool, *, alphabet: Any, **options: Any) -> Any:
        intervals = getattr(getattr(alphabet, "intervals", None), "intervals", None)
        if alphabet is not None and intervals is None:
            return build(regex, fullmatch, alphabet=alphabet, **options)
        pattern = regex if isinstance(regex, re.Pattern) else re.compile(regex)
        key = (pattern.pattern, pattern.flags, fullmatch, type(alphabet), tuple(intervals or ()),
               tuple(sorted(options.items())))
        if key not in built:
            built[key] = build(regex, fullmatch, alphabet=alphabet, **options)
        return built[key]

    hypothesis_regex.regex_strategy = once
    try:
        yield
    finally:
        hypothesis_regex.regex_strategy = build


def adult_born_by() -> str:
    return dt.date(dt.date.today().year - 19, 1, 1).isoformat()


def test_fuzzing_every_operation_finds_no_server_error_and_no_schema_violation(
    schema, wsgi, applicant, reviewer, generous_daily_limit
):
    load_all_checks()
    every_check = CHECKS.get_all()
    tokens = {"applicant": applicant.auth, "reviewer": reviewer.auth}
    failures: list[str] = []
    operations = [op.ok() for op in schema.get_all_operations()]
    assert operations
    sent: dict[str, int] = {}  # requests per mode and operation
    with regex_strategies_built_once():
        fuzz(operations, tokens, every_check, sent, failures)
    assert not failures, "\n\n".join(failures[:12])
    # Every operation was fuzzed with valid input, and invalid input reached the operations that take any.
    positive = {f"positive {op.method.upper()} {op.path}" for op in operations}
    assert [name for name in positive if not sent.get(name)] == []
    assert any(name.startswith("negative ") and count >= NEGATIVE_EXAMPLES // 2 for name, count in sent.items())
    assert wsgi.requests >= sum(sent.values()), (wsgi.requests, sum(sent.values()))
    assert not [status for status in wsgi.statuses if status >= 500], wsgi.statuses
    print(f"schemathesis: {len(operations)} operations, {wsgi.requests} requests, "
          f"statuses {dict(sorted(wsgi.statuses.items()))}")


def fuzz(operations: list[Any], tokens: dict[str, dict[str, str]], every_check: list[Any], sent: dict[str, int],
         failures: list[str]) -> None:
    """Each operation, positive then negative cases; what it sent per mode and operation, and what failed."""
    for operation in operations:
        headers = tokens[who_for(operation.path)]
        for mode, examples in ((GenerationMode.POSITIVE, POSITIVE_EXAMPLES), (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)):
            strategy = operation.as_strategy(generation_mode=mode)
            if mode is GenerationMode.POSITIVE:
                strategy = strategy.map(within_what_a_schema_cannot_say)
            name = f"{mode.value} {operation.method.upper()} {operation.path}"

            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case):
                sent[name] = sent.get(name, 0) + 1
                case.call_and_validate(headers=headers, checks=every_check)

            try:
                run()
            except Unsatisfiable:  # nothing to violate: an operation without parameters or body
                assert mode is GenerationMode.NEGATIVE, name
                continue
            except BaseException as error:  # noqa: B036  (schemathesis raises its failure group after the run)
                if isinstance(error, KeyboardInterrupt):
                    raise
                failures.append(f"{name}: {str(error)[:1500]}")
