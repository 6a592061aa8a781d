"""Least privilege, proven per Lambda function: each policy grants exactly what its function's code does.

Every handler is driven in-process (Chalice's test client, the tests' moto) through
its happy path and its main error paths, the way AWS would invoke it. A botocore
``before-call`` hook on every client -- boto3's, Chalice's WebSocket client and
pynamodb's alike -- records each API call with its parameters and the Lambda
function whose handler made it (REST routes all run in ``api_handler``; each
WebSocket route in Chalice's ``websocket_*`` function; every other handler in
its own). Presigned URLs and POSTs are recorded too: the holder acts with the
signer's rights. ``scripts.iam.permissions`` turns each call into the IAM
actions and resources it needs (a transaction into one action per table, a
Textract read of an S3 object into that object's read, KMS for what the
stage's key encrypts); ``scripts.iam.platform`` adds what Lambda does with the
role (the log group, reading the event source, the on-failure queue). Each
``.chalice/policies/<function>.json`` must grant that set exactly: nothing
missing, nothing never used.

``IAM_WRITE_POLICIES=1`` rewrites the templates from the recording (read the diff).
Setup between invocations (creating applications at a chosen time, uploads, stream
reads) is the harness's and is not recorded.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import pytest

from scripts import iam
from scripts.deploy import handlers as decorated_handlers
from tests.support.aws import ROOT

pytestmark = pytest.mark.stack

REGION, ACCOUNT = "us-east-1", "123456789012"
APP_SOURCE = (ROOT / "app.py").read_text()
FUNCTIONS = sorted({iam.REST_FUNCTION, *decorated_handlers(APP_SOURCE)})


# --- the recorder ----------------------------------------------------------------------------


class Recorder:
    """Every API call (and presign) made while a handler runs on this thread, by Lambda function."""

    def __init__(self) -> None:
        self._local = threading.local()
        self.calls: dict[str, list[tuple[str, str, dict[str, Any], bool]]] = defaultdict(list)
        self.invocations: dict[str, int] = defaultdict(int)
        self.gone: set[str] = set()  # connection ids the fake management API answers 410 for
        self._undo: list[Callable[[], None]] = []

    # botocore hooks: they must return None, except the management API's stand-in
    def on_params(self, params: Any = None, model: Any = None, context: Any = None, **_: Any) -> None:
        if context is None:
            return
        context["iam_params"] = dict(params or {})
        if context.get("is_presign_request") and model.name != "CreateBucket":  # a presigned URL: no call follows
            self._record(model, context["iam_params"], presigned=True)

    def on_presigned_post(self, bucket: str, key: str) -> None:
        """botocore's presigned POST emits CreateBucket's parameter event without the key: recorded here."""
        function = getattr(self._local, "function", None)
        if function is not None:
            self.calls[function].append(("s3", "PresignedPost", {"Bucket": bucket, "Key": key}, True))

    def on_call(self, model: Any = None, context: Any = None, **_: Any) -> Any:
        self._record(model, (context or {}).get("iam_params", {}), presigned=False)
        if model.service_model.service_name == "apigatewaymanagementapi":
            return self._management_api((context or {}).get("iam_params", {}))
        return None

    def _record(self, model: Any, params: dict[str, Any], presigned: bool) -> None:
        function = getattr(self._local, "function", None)
        if function is not None:
            self.calls[function].append((model.service_model.service_name, model.name, params, presigned))

    def _management_api(self, params: dict[str, Any]) -> Any:
        """API Gateway's @connections endpoint, answered here: 200, or 410 for a connection that is gone."""
        from botocore.awsrequest import AWSResponse

        if params.get("ConnectionId") in self.gone:
            return AWSResponse("https://fake", 410, {}, None), {
                "Error": {"Code": "GoneException", "Message": "gone"},
                "ResponseMetadata": {"HTTPStatusCode": 410},
            }
        return AWSResponse("https://fake", 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def hook(self, client: Any) -> None:
        if getattr(client, "_iam_recorder", None) is self:
            return
        client._iam_recorder = self
        client.meta.events.register("before-parameter-build", self.on_params, unique_id=f"iam-params-{id(self)}")
        client.meta.events.register("before-call", self.on_call, unique_id=f"iam-call-{id(self)}")

    def install(self) -> None:
        """Hook every client made from now on, and any made before (pynamodb's) at its next call."""
        import botocore.client
        import botocore.session

        create_client, make_api_call = botocore.session.Session.create_client, botocore.client.BaseClient._make_api_call
        recorder = self

        def hooked_create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = create_client(session, *args, **kwargs)
            recorder.hook(client)
            return client

        def hooked_make_api_call(client: Any, *args: Any, **kwargs: Any) -> Any:
            recorder.hook(client)
            return make_api_call(client, *args, **kwargs)

        import botocore.signers

        presigned_post = botocore.signers.generate_presigned_post  # bound into each S3 client class made later

        def recorded_presigned_post(client: Any, Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:  # noqa: N803
            recorder.on_presigned_post(Bucket, Key)
            return presigned_post(client, Bucket, Key, *args, **kwargs)

        botocore.signers.generate_presigned_post = recorded_presigned_post
        self._undo.append(lambda: setattr(botocore.signers, "generate_presigned_post", presigned_post))
        botocore.session.Session.create_client = hooked_create_client
        botocore.client.BaseClient._make_api_call = hooked_make_api_call
        self._undo += [
            lambda: setattr(botocore.session.Session, "create_client", create_client),
            lambda: setattr(botocore.client.BaseClient, "_make_api_call", make_api_call),
        ]

    def uninstall(self) -> None:
        for undo in reversed(self._undo):
            undo()

    def run(self, function: str, call: Callable[[], Any]) -> Any:
        assert function in FUNCTIONS, function
        self._local.function = function
        self.invocations[function] += 1
        try:
            return call()
        finally:
            self._local.function = None

    def grants(self, values: dict[str, str]) -> dict[str, set[iam.Grant]]:
        """Each function's recorded calls as templated (action, resource) pairs, KMS included."""
        found: dict[str, set[iam.Grant]] = {}
        for function, calls in self.calls.items():
            grants = {
                (action, iam.templatize(resource, values))
                for service, operation, params, presigned in calls
                for action, resource in iam.permissions(service, operation, params, REGION, ACCOUNT, presigned)
            }
            found[function] = grants | iam.kms(grants)
        return found


# --- the handlers, as AWS invokes them ----------------------------------------------------------


class Driver:
    """Invokes handlers as Lambda would: each function in a container of its own.

    A container keeps its composition root (``bootstrap.services()``) with its caches -- settings,
    the sanctions index, queue URLs -- so a function's first call to Parameter Store is made by that
    function, as in Lambda, not hidden by another handler that warmed a shared cache. The harness's
    own set-up uses yet another one.
    """

    def __init__(self, recorder: Recorder, app: Any, client: Any, api: Any) -> None:
        from chalicelib import bootstrap

        self.recorder, self.app, self.client, self.api = recorder, app, client, api
        self.function_of = handler_functions(app)
        self.containers: dict[str, Any] = {}
        bootstrap.replace(None)
        self.harness = bootstrap.services(app.websocket_api)

    def run(self, function: str, call: Callable[[], Any]) -> Any:
        from chalicelib import bootstrap

        if function not in self.containers:
            bootstrap.replace(None)
            self.containers[function] = bootstrap.services(self.app.websocket_api)
        bootstrap.replace(self.containers[function])
        try:
            return self.recorder.run(function, call)
        finally:
            bootstrap.replace(self.harness)

    def http(self, method: str, path: str, body: Any = None, user: Any = None, **kw: Any) -> Any:
        return self.run(iam.REST_FUNCTION, lambda: self.api.call(method, path, body=body, user=user, **kw))

    def invoke(self, handler: str, event: dict[str, Any], may_fail: bool = False) -> Any:
        """The handler's reply; with ``may_fail`` an exception (Lambda's retry, then the DLQ) is an answer too."""

        def call() -> Any:
            try:
                return self.client.lambda_.invoke(handler, event).payload
            except Exception as error:
                if not may_fail:
                    raise
                return error

        return self.run(self.function_of[handler], call)

    def ws(
        self, handler: str, connection_id: str, route: str, body: Any = None, query: dict[str, str] | None = None
    ) -> Any:
        event = {
            "requestContext": {
                "apiId": "wsapi123",
                "stage": "api",
                "connectionId": connection_id,
                "domainName": "wsapi123.execute-api.us-east-1.amazonaws.com",
                "routeKey": route,
                "eventType": route.strip("$").upper(),
                "requestId": uuid.uuid4().hex,
            },
            "isBase64Encoded": False,
        }
        if query is not None:
            event["queryStringParameters"] = query
        if body is not None:
            event["body"] = body if isinstance(body, str) else json.dumps(body)
        return self.invoke(handler, event)

    def fire_until_done(self, handler: str) -> Any:
        """Runs of a schedule until one is not stopped by its time budget (the function's 30 s less a margin):
        on AWS the next run carries on where a stopped one left off, and so here. On a busy machine the re-drive's
        first runs can spend their budget on other tests' applications that went stuck earlier in the session
        (oldest first) before this test's; each run carries some on, within a generous deadline."""
        from chalicelib.api.schedules import JobFailed
        from tests.support.deadlines import OUTCOME_S

        deadline = time.monotonic() + OUTCOME_S
        while True:
            reply = self.fire(handler)
            summary = reply.summary if isinstance(reply, JobFailed) else reply
            if not (isinstance(summary, dict) and summary.get("stopped")) or time.monotonic() > deadline:
                return reply

    def fire(self, handler: str, at: dt.datetime | None = None) -> Any:
        """A schedule's run; a job that failed for some application (another test's, say) raises after the rest."""
        from tests.support.jobs import schedule_event

        return self.invoke(handler, schedule_event(self.client, handler, at), may_fail=True)

        return self.invoke(handler, schedule_event(self.client, handler, at))


def handler_functions(app: Any) -> dict[str, str]:
    """Chalice handler name -> the Lambda function it runs in (chalice/deploy/appgraph.py's naming)."""
    found = {}
    for route, config in app.websocket_handlers.items():
        found[config.handler_string.rsplit(".", 1)[-1]] = iam.WEBSOCKET_FUNCTIONS[route]
    for source in app.event_sources:
        found[source.handler_string.rsplit(".", 1)[-1]] = source.name
    for function in app.pure_lambda_functions:  # invoked by a service directly (issue 21: a Cognito trigger)
        found[function.name] = function.name
    return found


def event_source_kinds(app: Any, values: dict[str, str]) -> dict[str, tuple[str, dict[str, str]]]:
    """Each function's trigger kind (the decorator) and, for pollers, its source as a placeholder."""
    from chalice.app import DynamoDBEventConfig, S3EventConfig, ScheduledEventConfig, SNSEventConfig, SQSEventConfig

    kinds: dict[str, tuple[str, dict[str, str]]] = {iam.REST_FUNCTION: ("route", {})}
    kinds.update({function: ("websocket", {}) for function in iam.WEBSOCKET_FUNCTIONS.values()})
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            queue = iam.templatize(f"arn:aws:sqs:{REGION}:{ACCOUNT}:{source.queue}", values)
            kinds[source.name] = ("on_sqs_message", {"queue": queue})
        elif isinstance(source, DynamoDBEventConfig):
            kinds[source.name] = ("on_dynamodb_record", {"stream": iam.templatize(source.stream_arn, values)})
        elif isinstance(source, S3EventConfig):
            kinds[source.name] = ("on_s3_event", {})
        elif isinstance(source, SNSEventConfig):
            kinds[source.name] = ("on_sns_message", {})
        elif isinstance(source, ScheduledEventConfig):
            kinds[source.name] = ("schedule", {})
        else:
            raise AssertionError(f"an event source this test does not know: {source!r}")
    for function in app.pure_lambda_functions:  # Cognito invokes it synchronously: logs only
        kinds[function.name] = ("lambda_function", {})
    return kinds


def drive_everything(d: Driver) -> None:  # noqa: PLR0915 - one scenario after another, in order
    from chalicelib.bootstrap import services
    from tests.support import jobs, reviews as review
    from tests.support import flows
    from tests.support.documents import make_declared, passport_bytes
    from tests.support.identities import make_user

    applicant, other, reviewer, operator = (
        make_user(),
        make_user(),
        make_user(("reviewers",)),
        make_user(("operators",)),
    )

    # --- REST: public pages, refusals ---------------------------------------------------------
    for path in (
        "/health",
        "/openapi.json",
        "/asyncapi.json",
        "/console",
        "/console/config.json",
        "/console/app.js",
        "/console/nope.txt",
    ):
        assert d.http("GET", path).status in (200, 304, 404)
    assert d.http("GET", "/applications").status == 401
    assert d.http("GET", "/no/such/route", user=applicant).status in (403, 404)
    assert d.http("POST", "/applications", raw=b"{not json", user=applicant).status == 400

    # --- REST: an applicant's application, retried with its key ---------------------------------
    key = {"Idempotency-Key": uuid.uuid4().hex}
    created = d.http("POST", "/applications", make_declared(), user=applicant, headers=key)
    assert created.status == 201, created.body
    app_id = created.body["id"]
    assert d.http("POST", "/applications", make_declared(), user=applicant, headers=key).status == 200
    assert d.http("GET", "/applications", user=applicant).status == 200
    assert d.http("GET", f"/applications/{app_id}", user=applicant).status == 200
    assert d.http("GET", f"/applications/{app_id}", user=other).status == 404
    assert d.http("GET", f"/applications/{app_id}/history", user=applicant).status == 200
    upload = d.http("POST", f"/applications/{app_id}/documents", {"content_type": "image/jpeg"}, user=applicant)
    assert upload.status == 201, upload.body

    # --- the outbox, the notifier and the WebSocket routes ----------------------------------------
    records = flows.stream_records(app_id)
    assert d.invoke("publish_history", {"Records": records}) == {"batchItemFailures": []}
    assert d.invoke("publish_history", {"Records": records}) == {"batchItemFailures": []}  # redelivered
    live, gone, staff_socket = "conn-live-" + uuid.uuid4().hex, "conn-gone-" + uuid.uuid4().hex, "conn-staff"
    for connection, user in ((live, applicant), (gone, applicant), (staff_socket, reviewer)):
        assert d.ws("ws_connect", connection, "$connect", query={"token": user.token})["statusCode"] == 200
    assert d.ws("ws_connect", "conn-anonymous", "$connect", query={})["statusCode"] in (401, 403)
    assert d.ws("ws_connect", "conn-forged", "$connect", query={"token": "not.a.jwt"})["statusCode"] in (401, 403)
    for connection in (live, gone):
        d.ws("ws_message", connection, "$default", {"action": "subscribe", "application_id": app_id})
    # forgotten by the notifier while watching all its applicant's applications: it leaves their watchers
    d.ws("ws_message", gone, "$default", {"action": "subscribe", "topic": "my-applications"})
    d.ws("ws_message", staff_socket, "$default", {"action": "subscribe", "topic": "review-queue"})
    d.ws("ws_message", live, "$default", {"action": "subscribe", "topic": "review-queue"})  # refused
    d.ws("ws_message", live, "$default", {"action": "ping"})
    d.ws("ws_message", live, "$default", "{not json")
    d.ws("ws_message", "conn-never-connected", "$default", {"action": "ping"})
    d.recorder.gone.add(gone)
    message = json.dumps(
        {
            "event_id": f"{app_id}#2",
            "application_id": app_id,
            "seq": 2,
            "type": "document.received",
            "from_state": "AWAITING_DOCUMENTS",
            "state": "VERIFYING",
            "at": "2026-01-01T00:00:00Z",
            "actor": "system:test",
            "reason": "test",
        }
    )
    # the old format (no shown_seq either: the applicant's frame is numbered from the history)
    d.invoke("notify_subscribers", d.client.events.generate_sns_event(message=message))
    d.ws("ws_message", live, "$default", {"action": "subscribe", "topic": "my-applications"})
    batch = {  # the outbox's message: one application's events of a stream batch
        "application_id": app_id,
        "applicant_id": applicant.sub,
        "events": [
            {**json.loads(message), "event_id": f"{app_id}#{seq}", "seq": seq, "type": kind, "shown_seq": seq}
            for seq, kind in ((3, "check.completed"), (4, "document.received"), (5, "application.approved"))
        ],
    }
    d.invoke("notify_subscribers", d.client.events.generate_sns_event(message=json.dumps(batch)))
    # an application entering review: the reviewers' queue, each staff recipient re-checked in the staff pool
    flagged_message = dict(json.loads(message), event_id=f"{app_id}#9", seq=9, type="application.flagged",
                           from_state="VERIFYING", state="FLAGGED")
    d.invoke("notify_subscribers", d.client.events.generate_sns_event(message=json.dumps(flagged_message)))
    d.invoke("notify_subscribers", d.client.events.generate_sns_event(message="not json"), may_fail=True)
    d.ws("ws_message", live, "$default", {"action": "unsubscribe", "application_id": app_id})
    d.ws("ws_message", live, "$default", {"action": "unsubscribe", "topic": "my-applications"})
    d.ws("ws_message", live, "$default", {"action": "subscribe", "topic": "my-applications"})  # held at $disconnect
    for connection in (live, staff_socket, "conn-never-connected"):
        d.ws("ws_disconnect", connection, "$disconnect")

    # --- the checks: S3 verifier, address and sanctions queues --------------------------------------
    document_key = flows.upload_document(d.api, applicant, app_id, passport_bytes(make_declared()))
    event = flows.s3_event(d.client, document_key)
    d.invoke("verify_identity_document", event)
    d.invoke("verify_identity_document", event)  # redelivered
    d.invoke(
        "verify_identity_document",
        flows.s3_event(d.client, f"applications/{uuid.uuid4()}/identity/" + uuid.uuid4().hex),
        may_fail=True,
    )  # no such object
    d.invoke("verify_identity_document", flows.s3_event(d.client, "applications/not-a-key"), may_fail=True)
    unversioned = flows.upload_document(d.api, applicant, flows.create_application(d.api, applicant))
    d.invoke("verify_identity_document", flows.s3_event(d.client, unversioned, find_version=False))  # the latest
    throttled_key = flows.upload_document(d.api, applicant, flows.create_application(d.api, applicant))
    from chalicelib.services.ports import OcrThrottled

    def throttled(*_args, **_kwargs):
        raise OcrThrottled("ProvisionedThroughputExceededException")

    ocr = d.containers[d.function_of["verify_identity_document"]].ocr  # that function's own container
    ocr.read = throttled  # Textract refuses for its quota: the message is put back for later
    try:
        d.invoke("verify_identity_document", flows.s3_event(d.client, throttled_key), may_fail=True)
    finally:
        del ocr.read
    for handler, event_for in (("check_address", flows.sqs_event), ("screen_sanctions", flows.sanctions_event)):
        good = flows.address_message(app_id)
        d.invoke(handler, event_for(d.client, good))
        d.invoke(handler, event_for(d.client, good))  # redelivered
        d.invoke(handler, event_for(d.client, "not json", flows.address_message(str(uuid.uuid4()))), may_fail=True)
    # a listed name (a real OFAC entry, tests/data/sanctions): candidates, so the applicant's cleared
    # false positives are read (one Query of the by_applicant index)
    near_listed = make_declared(
        full_name={"given_names": "Moustafa Rida", "surname": "Fawwaz"}, date_of_birth="1964-03-01", nationality="LBN"
    )
    listed = d.http("POST", "/applications", near_listed, user=other)
    assert listed.status == 201, listed.body
    d.invoke("screen_sanctions", flows.sanctions_event(d.client, flows.address_message(listed.body["id"])))
    records = flows.stream_records(app_id)
    d.invoke("publish_history", {"Records": records})
    # events no commit counted (written before the commits kept the state counters, issue 22): the relay
    # counts them, with a marker each
    legacy = flows.stream_records(flows.create_application(d.api, other))
    for record in legacy:
        record["dynamodb"]["NewImage"].pop("counted", None)
    d.invoke("publish_history", {"Records": legacy})
    # an unreadable page: what OCR read is kept apart (readings/), and a reviewer reads it back
    from tests.support.documents import jpeg_bytes

    unreadable = flows.create_application(d.api, other)
    d.invoke("verify_identity_document", flows.s3_event(d.client, flows.upload_document(d.api, other, unreadable,
                                                                                         jpeg_bytes())))
    for handler, event_for in (("check_address", flows.sqs_event), ("screen_sanctions", flows.sanctions_event)):
        d.invoke(handler, event_for(d.client, flows.address_message(unreadable)))
    flows.give_selfie(d.api, other, unreadable)  # nothing is decided without the face check (issue 17)
    d.invoke("check_face", flows.face_event(d.client, flows.face_message(unreadable)))
    assert services().repository.get(unreadable).state.value == "FLAGGED"
    assert d.http("GET", f"/review/applications/{unreadable}", user=reviewer).status == 200

    # --- the face check (issue 17): consent, a liveness session, its result, the check, the selfie ---------
    from chalicelib.adapters.memory import face_image
    from tests.support import rekognition

    def selfie_via_api(application_id, *faces):
        base = f"/applications/{application_id}"
        assert d.http("GET", f"{base}/biometric-consent", user=applicant).status == 200
        assert d.http("POST", f"{base}/liveness-sessions", user=applicant).status == 409  # no consent yet
        consent = {"text_version": "v1", "accepted": True}
        assert d.http("POST", f"{base}/biometric-consent", consent, user=applicant).status == 201
        session = d.http("POST", f"{base}/liveness-sessions", user=applicant)
        assert session.status == 201, session.body
        session_id = session.body["session_id"]
        assert d.http("POST", f"{base}/liveness-sessions/{session_id}/complete", user=applicant).status == 409
        rekognition.local().stream(session_id, face_image(*faces) if faces else face_image(flows.HOLDER))
        assert d.http("POST", f"{base}/liveness-sessions/{session_id}/complete", user=applicant).status == 202
        assert d.http("POST", f"{base}/liveness-sessions/{session_id}/complete", user=applicant).status == 409

    face_apps = []
    for faces in ((), ("an-impostor",), None):  # a genuine pair, an impostor (FLAGGED), a check never run
        face_app = flows.create_application(d.api, applicant)
        d.invoke("verify_identity_document", flows.s3_event(
            d.client, flows.upload_document(d.api, applicant, face_app, passport_bytes(make_declared()))))
        d.invoke("check_address", flows.sqs_event(d.client, flows.address_message(face_app)))
        d.invoke("screen_sanctions", flows.sanctions_event(d.client, flows.address_message(face_app)))
        selfie_via_api(face_app, *(faces or ()))
        face_apps.append(face_app)
    for face_app in face_apps[:2]:
        d.invoke("check_face", flows.face_event(d.client, flows.face_message(face_app)))
        d.invoke("check_face", flows.face_event(d.client, flows.face_message(face_app)))  # redelivered
    d.invoke("check_face", flows.face_event(d.client, "not json"), may_fail=True)
    genuine, impostor, unchecked = face_apps
    assert services().repository.get(impostor).state.value == "FLAGGED"
    assert d.http("GET", f"/review/applications/{impostor}/selfie", user=reviewer).status == 200
    assert d.http("GET", f"/review/applications/{genuine}/selfie", user=reviewer).status == 404  # not in review
    for withdrawn in (impostor, unchecked):  # biometrics to delete at the next purge: faces, objects, an orphan
        assert d.http("POST", f"/applications/{withdrawn}/withdraw", {}, user=applicant).status == 200

    # --- review: a FLAGGED application, read, its document viewed, decided -----------------------
    flagged = review.flagged_via_api(d.api, other)
    assert d.http("GET", "/review/queue", user=reviewer).status == 200
    assert d.http("GET", "/review/queue", user=applicant).status == 403
    assert d.http("GET", f"/review/applications/{flagged}", user=reviewer).status == 200
    assert d.http("GET", f"/review/applications/{uuid.uuid4()}", user=reviewer).status == 404
    # the recorded key names no object here (the harness never uploaded it): whatever the answer, the calls count
    d.http("GET", f"/review/applications/{flagged}/document", user=reviewer)
    flagged_with_document = review.flagged_via_api(d.api, other)
    import boto3

    document = services().repository.get(flagged_with_document).document_key
    boto3.client("s3").put_object(
        Bucket=os.environ["DOCUMENTS_BUCKET_NAME"],
        Key=document,
        Body=passport_bytes(make_declared()),
        ContentType="image/jpeg",
    )
    assert d.http("GET", f"/review/applications/{flagged_with_document}/document", user=reviewer).status == 200
    # a document received with its version (as every S3 event names it): the link is signed for that version
    from chalicelib.domain.workflow import consolidation, intake

    pinned = flows.create_application(d.api, other)
    pinned_key = flows.upload_document(d.api, other, pinned, passport_bytes(make_declared()))
    versions = boto3.client("s3").list_object_versions(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"], Prefix=pinned_key)
    version = versions["Versions"][0]["VersionId"]
    svc = services().applications
    svc.apply_with_retry(pinned, lambda a: intake.receive_document(a, pinned_key, 4096, svc.clock(), version))
    for check, outcome in (("address", "REVIEW"), ("sanctions", "PASS"), ("face", "PASS"), ("identity", "PASS")):
        review.record(pinned, check, outcome)
    assert d.http("GET", f"/review/applications/{pinned}/document", user=reviewer).status == 200
    decision = {"decision": "approve", "reason": "documents look right"}
    false_positive = {"list": "OFAC-SDN", "entry_id": "16452", "reason": "another person"}
    path = f"/review/applications/{flagged}/sanctions/false-positives"
    assert d.http("POST", path, false_positive, user=reviewer).status == 404  # its screening names no such entry
    assert d.http("POST", f"/review/applications/{flagged}/decision", decision, user=reviewer).status == 200
    assert d.http("POST", f"/review/applications/{flagged}/decision", decision, user=reviewer).status == 409

    # --- customers re-screened when the lists change (issue 20): the approved customer projected, a list
    # version naming them, the segment screened (and redelivered), the case in the reviewers' queue, resolved
    from chalicelib.domain.sanctions import ListEntry, ScreeningIndex

    approved = json.dumps({"application_id": flagged, "type": "application.approved"})
    for body in (approved, approved, "not json"):
        d.invoke(
            "project_customers",
            d.client.events.generate_sqs_event(
                queue_name=os.environ["CUSTOMER_PROJECTION_QUEUE_NAME"], message_bodies=[body]
            ),
            may_fail=body == "not json",
        )
    store = services().sanctions_index_store
    pointer = store.current()
    assert pointer is not None
    current = ScreeningIndex.loads(store.load(pointer["version"]))
    name = services().repository.get(flagged).declared["full_name"]
    naming = ListEntry("OFAC-SDN", "990001", f"{name['surname'].upper()}, {name['given_names']}")
    changed = ScreeningIndex((*current.entries, naming), current.lists, "iam")
    store.publish(changed.version, changed.dumps(), {"built_at": "iam"})
    task = {"version": changed.version, "from_version": pointer["version"], "segment": 0, "segments": 1}
    for body in (json.dumps(task), json.dumps(task), "not json"):
        d.invoke(
            "rescreen_customers",
            d.client.events.generate_sqs_event(
                queue_name=os.environ["CUSTOMER_RESCREENING_QUEUE_NAME"], message_bodies=[body]
            ),
            may_fail=body == "not json",
        )
    cases, _ = services().screening_cases.open_cases(50, None)
    case_id = next(c.case_id for c in cases if c.application_id == flagged)
    assert d.http("GET", "/review/screening-cases", user=reviewer).status == 200
    assert d.http("GET", "/review/screening-cases", user=applicant).status == 403
    assert d.http("GET", f"/review/screening-cases/{case_id}", user=reviewer).status == 200
    assert d.http("GET", "/review/screening-cases/no-such-case", user=reviewer).status == 404
    resolution = {"decision": "false_positive", "reason": "born elsewhere, another father"}
    path = f"/review/screening-cases/{case_id}/resolution"
    assert d.http("POST", path, resolution, user=reviewer).status == 200  # four eyes: a recommendation
    assert d.http("POST", path, resolution, user=reviewer).status == 409  # second_reviewer_required
    assert d.http("POST", path, resolution, user=make_user(("reviewers",))).status == 200  # the second: resolved
    # the refresh (fired with the schedules below) finds one entry added since the version in use and
    # starts the customers' re-screening (SendMessageBatch on the re-screening queue)
    fewer = ScreeningIndex(current.entries[1:], current.lists, "iam")
    store.publish(fewer.version, fewer.dumps(), {**{k: v for k, v in pointer.items() if k not in ("delta", "rescreening", "version")}})
    withdrawn = flows.create_application(d.api, applicant)
    assert (
        d.http("POST", f"/applications/{withdrawn}/withdraw", {"reason": "changed my mind"}, user=applicant).status
        == 200
    )
    assert d.http("POST", f"/applications/{withdrawn}/withdraw", {}, user=applicant).status == 409

    # --- every schedule, with work to do ----------------------------------------------------------
    now = dt.datetime.now(dt.timezone.utc)
    jobs.flagged_at(now - dt.timedelta(hours=49))  # past the review SLA
    review.create_at(review.Clock(now - dt.timedelta(days=40)))  # abandoned
    purged, _ = jobs.decided_with_documents(now - dt.timedelta(days=3650))  # past retention
    services().readings.keep(purged, "page", {"lines": ["what OCR read"]})  # purged with the documents
    s3 = boto3.client("s3")
    clock = review.Clock(now - dt.timedelta(minutes=30))  # stuck: VERIFYING with no check, and an unseen upload
    stuck = review.create_at(clock)
    s3.put_object(
        Bucket=os.environ["DOCUMENTS_BUCKET_NAME"],
        Key=review.receive_document(stuck, clock),
        Body=passport_bytes(make_declared()),
        ContentType="image/jpeg",
    )
    # stuck too: VERIFYING with the face check asked for, its message lost (the sweeper runs the check)
    from chalicelib.domain.checks import CheckResult

    lost, lost_service = review.create_at(clock), review.service(clock)
    lost_key = services().documents.key_for_new_upload(lost)
    lost_version = s3.put_object(Bucket=os.environ["DOCUMENTS_BUCKET_NAME"], Key=lost_key,
                                 Body=passport_bytes(make_declared()), ContentType="image/jpeg")["VersionId"]
    lost_service.apply_with_retry(lost, lambda a: intake.receive_document(a, lost_key, 4096, clock(), lost_version))
    flows.selfie_at(lost, clock)
    read = CheckResult("identity", details={"mime_type": "image/jpeg"})  # the document read: asks for the check
    lost_service.apply_with_retry(lost, lambda a: consolidation.record_check(a, read, clock()))
    assert services().repository.get(lost).biometrics.get("face_requested_at")
    unseen = review.create_at(clock)
    s3.put_object(
        Bucket=os.environ["DOCUMENTS_BUCKET_NAME"],
        Key=services().documents.key_for_new_upload(unseen),
        Body=passport_bytes(make_declared()),
        ContentType="image/jpeg",
    )
    for handler in sorted(name for name, kind in decorated_handlers(APP_SOURCE).items() if kind == "schedule"):
        d.fire_until_done(handler)
        d.fire(handler)  # a second run finds nothing left to do
    d.fire("write_daily_report", now - dt.timedelta(days=1))

    # --- staff sign-in: the staff pool's pre-token-generation trigger (issue 21) ------------------
    from chalicelib.adapters.memory import StaticProviderTokens
    from chalicelib.domain.federation import FederationPolicy, GroupMapping
    from chalicelib.services.federation import StaffFederation
    from tests.support.staff import trigger_event

    staff, provider_tokens = make_user(pool="staff"), StaticProviderTokens()
    policy = FederationPolicy("Corporate", GroupMapping.parse("reviewers=kyc-reviewers;operators=kyc-operations"))

    def sign_in_through_the_provider(provider_groups: tuple[str, ...]) -> Any:
        built = services()  # this function's container; the provider's tokens are the only fake
        built.__dict__["federation"] = StaffFederation(policy, provider_tokens, built.membership)
        event = trigger_event(staff.email, provider_tokens.issue(staff.email, provider_groups))
        return d.client.lambda_.invoke("staff_token_groups", event).payload

    for provider_groups in (("kyc-reviewers",), ()):  # joins reviewers, then leaves them
        d.run(d.function_of["staff_token_groups"], lambda g=provider_groups: sign_in_through_the_provider(g))

    # --- operations ---------------------------------------------------------------------------
    sqs = boto3.client("sqs")
    for dlq_name in (
        "ADDRESS_CHECK_DLQ_NAME",
        "SANCTIONS_SCREENING_DLQ_NAME",
        "FACE_CHECK_DLQ_NAME",
        "CUSTOMER_PROJECTION_DLQ_NAME",
        "CUSTOMER_RESCREENING_DLQ_NAME",
    ):
        dlq = sqs.get_queue_url(QueueName=os.environ[dlq_name])["QueueUrl"]
        sqs.send_message(QueueUrl=dlq, MessageBody=flows.address_message(withdrawn))
    for path in ("/operations/workflow", "/operations/queues", "/operations/jobs"):
        assert d.http("GET", path, user=operator).status == 200, path
    # every queue an operator may redrive
    for queue in ("address-check", "sanctions-screening", "face-check", "customer-projection", "customer-rescreening"):
        reply = d.http("POST", f"/operations/queues/{queue}/redrive", user=operator)
        assert reply.status == 200 and reply.body["moved"] >= 1, reply.body
    assert d.http("POST", "/operations/queues/nope/redrive", user=operator).status == 404
    assert d.http("GET", "/operations/workflow", user=reviewer).status == 403


@pytest.fixture(scope="module")
def recording(chalice_app, client):
    """Drive every handler through its paths with the recorder on; restore the shared app after."""
    from chalicelib import bootstrap
    from tests.conftest import Api

    recorder = Recorder()
    websocket = chalice_app.websocket_api
    saved_services, saved_websocket = bootstrap._services, (websocket.session, websocket._endpoint, websocket._client)
    recorder.install()
    bootstrap.replace(None)  # new clients, made after the hooks
    websocket.session = websocket._endpoint = websocket._client = None
    try:
        drive_everything(Driver(recorder, chalice_app, client, Api(client)))
    finally:
        recorder.uninstall()
        bootstrap.replace(saved_services)
        websocket.session, websocket._endpoint, websocket._client = saved_websocket
    return recorder


@pytest.fixture(scope="module")
def values() -> dict[str, str]:
    return iam.substitutions(dict(os.environ), REGION, ACCOUNT, "test", "wsapi123")


@pytest.fixture(scope="module")
def expected(recording, values, chalice_app) -> dict[str, set[iam.Grant]]:
    """What each function's policy must grant: its recorded calls and what Lambda does with its role."""
    kinds = event_source_kinds(chalice_app, values)
    recorded = recording.grants(values)
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    wanted = {
        function: recorded.get(function, set()) | iam.platform(*kinds[function], tracing=iam.traced(config, function))
        for function in FUNCTIONS
    }
    if os.environ.get("IAM_WRITE_POLICIES"):
        for function, grants in wanted.items():
            path = iam.template_path(ROOT, function)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(iam.policy_from(grants), indent=2) + "\n")
    return wanted


# --- the tests -----------------------------------------------------------------------------------


def test_every_handler_ran_and_every_lambda_function_has_a_policy(recording, chalice_app):
    assert set(handler_functions(chalice_app).values()) | {iam.REST_FUNCTION} == set(FUNCTIONS)
    assert set(recording.invocations) == set(FUNCTIONS), set(FUNCTIONS) - set(recording.invocations)
    assert set(iam.templates(ROOT)) == set(FUNCTIONS)
    for f in FUNCTIONS:  # the numbers the README quotes: pytest -s tests/test_iam_policies.py -k every_handler
        operations = {f"{service}:{operation}" for service, operation, _, _ in recording.calls[f]}
        statements = len(iam.templates(ROOT)[f]["Statement"])
        print(
            f"\n{f}: {recording.invocations[f]} invocations, {len(recording.calls[f])} AWS calls, "
            f"{len(operations)} operations ({', '.join(sorted(operations))}), {statements} policy statements"
        )


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_policy_grants_exactly_what_the_function_does(function, expected):
    granted = iam.flatten(iam.templates(ROOT)[function])
    missing, unused = expected[function] - granted, granted - expected[function]
    hint = f"update .chalice/policies/{function}.json (or IAM_WRITE_POLICIES=1, then read the diff)"
    assert not missing, f"{function} performs calls its policy does not grant: {sorted(missing)}; {hint}"
    assert not unused, f"{function}'s policy grants what it never does: {sorted(unused)}; {hint}"
    via = iam.kms_condition(iam.templates(ROOT)[function])
    assert via == (iam.kms_via(expected[function]) if via is not None else None), f"kms:ViaService; {hint}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_policy_has_no_wildcard_beyond_what_aws_requires(function):
    policy = iam.templates(ROOT)[function]
    for action, resource in iam.flatten(policy):
        assert "*" not in action and action.count(":") == 1, action
        if resource == "*":
            assert action in iam.STAR_ONLY, (action, resource)
            continue
        assert resource.startswith(("arn:aws:", "${")), resource
        if action.startswith("logs:"):
            assert resource == (
                "arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${FunctionName}:*"
            ), resource
        if action == "execute-api:ManageConnections":
            assert resource.startswith(
                "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApiId}/${WebSocketStage}/"
            ), resource
        if action.startswith("kms:"):  # the data key through the services; the chain key for its MAC only
            assert resource == "${DataKeyArn}" or (action, resource) == ("kms:GenerateMac", "${HistoryChainKeyArn}")
        if action.startswith("ssm:"):
            assert resource.split(":")[-1] in ("parameter${SettingsPath}", "parameter${SettingsPath}/*"), resource
        if action == "s3:ListBucket":  # a listing only under the folders the code lists
            assert iam.PREFIX_MARK in resource and not resource.endswith("=*"), resource
        # every resource is one of the stage's own, named by a placeholder, never a wildcard in its place
        assert "${" in resource and "*" not in resource.split("}")[0], resource
    dev = iam.substitutions(dict(os.environ), REGION, ACCOUNT, "dev", "abc123")
    rendered = iam.render(policy, {**dev, "SettingsPath": "/account-opening/dev", "FunctionName": "fn"})
    for action, resource in iam.flatten(rendered):
        if action.startswith("ssm:"):
            for other in ("parameter/account-opening/dev2", "parameter/account-opening/dev2/x"):
                assert not fnmatch.fnmatchcase(f"arn:aws:ssm:{REGION}:{ACCOUNT}:{other}", resource), resource


HISTORY_REWRITES = {
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
}


def test_the_history_table_is_append_only_for_every_function_but_the_purges_redaction(recording, values):
    """No function may rewrite or delete history, except the retention purge: it may update an event's
    ``details`` and ``salt`` (personal data -> its commitment; the hash stays), under a condition."""
    purge = "purge_documents_past_retention"
    for function, grants in recording.grants(values).items():
        rewrites = {g for g in grants if g[1].startswith("${HistoryTableArn}") and g[0] in HISTORY_REWRITES}
        assert rewrites == ({iam.HISTORY_REDACTION} if function == purge else set()), function
    for function, policy in iam.templates(ROOT).items():
        assert {
            (action, resource)
            for action, resource in iam.flatten(policy)
            if resource.startswith("${HistoryTableArn}") and action in HISTORY_REWRITES
        } == ({iam.HISTORY_REDACTION} if function == purge else set()), function
    [redaction] = [s for s in iam.templates(ROOT)[purge]["Statement"] if s["Sid"] == "HistoryRedaction"]
    assert redaction["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:Attributes": list(iam.HISTORY_REDACTION_ATTRIBUTES)}
    }


def test_the_stage_config_gives_every_function_its_own_policy_file():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for name, stage in config["stages"].items():
        assert stage.get("autogen_policy") is False, name
        assert "iam_policy_file" not in stage, name  # no shared fallback
        files = {function: stage["lambda_functions"][function]["iam_policy_file"] for function in FUNCTIONS}
        assert files == {function: iam.stage_policy_file(name, function) for function in FUNCTIONS}, name


def test_rendering_fills_every_placeholder_with_the_stages_arns(tmp_path, values):
    import shutil

    (tmp_path / ".chalice").mkdir()
    shutil.copytree(ROOT / iam.TEMPLATES, tmp_path / iam.TEMPLATES)
    config = iam.write_stage_policies(tmp_path, "test", dict(os.environ), REGION, ACCOUNT, "wsapi123")
    assert set(config) == set(FUNCTIONS)
    for function, entry in config.items():
        text = (tmp_path / ".chalice" / entry["iam_policy_file"]).read_text()
        assert "${" not in text, function
        assert f"log-group:/aws/lambda/{iam.function_name('test', function)}:*" in text
    with pytest.raises(KeyError):
        iam.render({"Resource": "${NoSuchOutput}"}, values)


def test_tracing_is_granted_where_a_stage_turns_it_on():
    assert iam.traced({"stages": {"dev": {"xray": True}, "local": {}}}, "api_handler")
    assert not iam.traced({"stages": {"dev": {"xray": True, "lambda_functions": {"f": {"xray": False}}}}}, "f")
    assert iam.traced({"xray": True, "stages": {"dev": {}}}, "f")
    assert not iam.traced({"stages": {"dev": {}}}, "f")
    assert ("xray:PutTraceSegments", "*") in iam.platform("schedule", {}, tracing=True)


def test_a_transaction_needs_one_action_per_table_and_encrypted_writes_need_the_key():
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/"
    assert iam.permissions(
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "h"}},
                {"Update": {"TableName": "a"}},
                {"ConditionCheck": {"TableName": "i"}},
            ]
        },
        REGION,
        ACCOUNT,
    ) == [
        ("dynamodb:PutItem", table + "h"),
        ("dynamodb:UpdateItem", table + "a"),
        ("dynamodb:ConditionCheckItem", table + "i"),
    ]
    assert iam.kms([("s3:PutObject", "${DocumentsBucketArn}/applications/*")]) == {
        ("kms:GenerateDataKey", "${DataKeyArn}")
    }
    assert Path(iam.stage_policy_file("dev", "api_handler")).parts[:2] == ("stages", "dev")
