"""Account opening: the wiring. Each handler parses its event, asks bootstrap for a service, shapes the reply."""

import os

from chalice import Chalice, Cron, Rate, Response

from chalicelib import bootstrap, observability
from chalicelib.api import (
    asyncapi,
    cognito_triggers,
    console,
    document_events,
    openapi,
    presenters,
    schedules,
    sqs,
    websocket_protocol,
)
from chalicelib.api.errors import ApiError
from chalicelib.api.middleware import (
    applicant,
    current_request,
    handles_errors,
    http_middleware,
    not_found_route,
    operator,
)
from chalicelib.api.models import (
    ApplicationCreated,
    ApplicationOut,
    ApplicationPage,
    ApplicationRequest,
    BiometricConsentRequest,
    ConsentOut,
    ConsentText,
    DocumentUploadRequest,
    Error,
    Health,
    History,
    JobsOut,
    LivenessCompletion,
    LivenessSessionOut,
    QueuesOut,
    Redriven,
    UploadForm,
    WithdrawRequest,
    WorkflowOut,
)
from chalicelib.api.openapi import HISTORY_PAGING, IDEMPOTENCY_KEY, PAGING, documented, hidden
from chalicelib.api.requests import idempotency_key, page_params, parse_body
from chalicelib.observability import logger
from chalicelib.routes import review as review_routes

app = Chalice(app_name="account-opening")
app.api.binary_types.extend(t for t in console.BINARY_TYPES if t not in app.api.binary_types)  # liveness (AWS)
app.experimental_feature_flags.update(["WEBSOCKETS"])


def services() -> bootstrap.Services:
    return bootstrap.services(app.websocket_api)


app.register_middleware(observability.middleware, "all")
app.register_middleware(
    http_middleware(
        lambda: services().verifier,
        lambda: services().settings.policy().max_body_bytes,
        lambda: services().rate_limiter,
    ),
    "http",
)


# --- public -----------------------------------------------------------------


@app.route("/health")
@documented("Health of the service and its dependencies", responses={200: Health, 503: Health}, public=True)
@handles_errors
def health():
    healthy, body = services().health.report()
    return Response(body=body, status_code=200 if healthy else 503)


@app.route("/openapi.json")
@documented(
    "This document", responses={200: openapi.Reply(description="OpenAPI 3.1", schema={"type": "object"})}, public=True
)
def openapi_document():
    return openapi.document(app.routes)


@app.route("/asyncapi.json")
@documented(
    "The WebSocket protocol (AsyncAPI 2.6)",
    responses={200: openapi.Reply(description="AsyncAPI 2.6", schema={"type": "object"})},
    public=True,
)
def asyncapi_document():
    return asyncapi.document()


# --- the console (static pages for applicants, reviewers, operators) ---------------


def console_settings() -> console.ConsoleSettings:
    return console.ConsoleSettings.from_config(services().config, services().settings.policy().review_sla_hours)


@app.route("/console")
@documented(
    "The console: one page for applicants, reviewers and operators",
    responses={200: openapi.Reply(description="The page", media_type="text/html", schema={"type": "string"})},
    public=True,
)
def console_page():
    return console.response(console.page(console_settings()))


@app.route("/console/{asset}")
@documented(
    "The console's modules, stylesheet and config.json (an allow-list of files)",
    responses={
        200: openapi.Reply(description="The file", media_type="text/javascript", schema={"type": "string"}),
        304: openapi.Reply(description="Not modified (If-None-Match)", media_type="text/plain", schema={}),
    },
    errors=(404,),
    public=True,
)
@handles_errors
def console_asset(asset):
    served = console.serve(asset, console_settings(), current_request().headers.get("if-none-match"))
    if served.status == 404:
        raise ApiError(404, "not_found", "not one of the console's files", {"asset": asset})
    return console.response(served)


# --- applicant --------------------------------------------------------------


@app.route("/applications", methods=["POST"])
@documented(
    "Submit a new application (send Idempotency-Key to make retries safe)",
    request=ApplicationRequest,
    params=IDEMPOTENCY_KEY,
    errors=(403, 429),  # 403: a staff token; 429: the applicant's daily limit (max_applications_per_day)
    responses={
        201: openapi.Reply(ApplicationCreated, "Created", headers={"Location": "The application's URL"}),
        200: openapi.Reply(
            ApplicationCreated, "Already created with this Idempotency-Key", headers={"Location": "Its URL"}
        ),
        422: openapi.Reply(Error, openapi.CREATE_REFUSED),
    },
)
@handles_errors
def create_application():
    request = current_request()
    who = applicant(request)
    body = parse_body(request, ApplicationRequest)
    application, created = services().applications.create(who, body, idempotency_key(request))
    return Response(
        body=presenters.created(application, services().uploads.forms_for(application)),
        status_code=201 if created else 200,
        headers={"Location": f"/applications/{application.application_id}"},
    )


@app.route("/applications", methods=["GET"])
@documented("List your own applications, newest first", params=PAGING, responses={200: ApplicationPage}, errors=(403,))
@handles_errors
def list_applications():
    request = current_request()
    who = applicant(request)
    limit, cursor = page_params(request)
    items, next_cursor = services().applications.list_own(who, limit, cursor)
    return presenters.page([presenters.summary(a) for a in items], next_cursor)


@app.route("/applications/{application_id}", methods=["GET"])
@documented("Read one of your applications", responses={200: ApplicationOut}, errors=(403, 404))
@handles_errors
def get_application(application_id):
    return presenters.application(services().applications.get_own(applicant(current_request()), application_id))


@app.route("/applications/{application_id}/history", methods=["GET"])
@documented(
    "The audit history of one of your applications, oldest first, a page at a time",
    params=HISTORY_PAGING,
    responses={200: History},
    errors=(400, 403, 404, 422),
    description="Only the events shown to you, numbered seq 1..n among those, without prev_hash; limit of them "
    "a page. chain_intact: the whole recorded history verifies and ends at the application's stored head, and the "
    "page continues from the event its cursor names.",
)
@handles_errors
def application_history(application_id):
    request = current_request()
    who = applicant(request)
    limit, cursor = page_params(request, default=100)
    return presenters.history(services().applications.history(who, application_id, limit, cursor))


@app.route("/applications/{application_id}/withdraw", methods=["POST"])
@documented(
    "Withdraw an open application",
    request=WithdrawRequest,
    request_required=False,
    responses={200: ApplicationOut},
    errors=(403, 404, 409),
)
@handles_errors
def withdraw_application(application_id):
    request = current_request()
    who = applicant(request)
    body = parse_body(request, WithdrawRequest, allow_empty=True)
    application = services().applications.withdraw(who, application_id, body.reason or "")
    return presenters.application(application)


@app.route("/applications/{application_id}/documents", methods=["POST"])
@documented(
    "Get a presigned S3 POST to upload the identity document",
    request=DocumentUploadRequest,
    responses={201: UploadForm},
    errors=(403, 404, 409),
)
@handles_errors
def request_document_upload(application_id):
    request = current_request()
    who = applicant(request)
    body = parse_body(request, DocumentUploadRequest)
    upload = services().uploads.request_upload(who, application_id, body.content_type)
    return Response(body=upload, status_code=201)


# --- the face check: consent and a liveness check (issue 17) -------------------------------


@app.route("/applications/{application_id}/biometric-consent", methods=["GET"])
@documented(
    "The biometric consent text to show before a liveness check, and the consent already given",
    responses={200: ConsentText},
    errors=(403, 404),
)
@handles_errors
def biometric_consent_text(application_id):
    status = services().liveness.consent_status(applicant(current_request()), application_id)
    return presenters.consent_text(status, console.consent_text(status.text_version))


@app.route("/applications/{application_id}/biometric-consent", methods=["POST"])
@documented(
    "Give explicit consent to biometric processing, naming the text version shown",
    request=BiometricConsentRequest,
    responses={201: ConsentOut, 200: openapi.Reply(ConsentOut, "That version's consent was already given")},
    errors=(403, 404, 409),
    description="422 consent_version_outdated (details.current_version) when the text shown is not the current one; "
    "409 illegal_transition once the application no longer takes evidence.",
)
@handles_errors
def give_biometric_consent(application_id):
    request = current_request()
    who = applicant(request)
    body = parse_body(request, BiometricConsentRequest)
    given, created = services().liveness.give_consent(who, application_id, body.text_version)
    return Response(body=presenters.consent(given), status_code=201 if created else 200)


@app.route("/applications/{application_id}/liveness-sessions", methods=["POST"])
@documented(
    "Start a Face Liveness session bound to this application (or get the one still open)",
    responses={
        201: LivenessSessionOut,
        200: openapi.Reply(LivenessSessionOut, "A session of this application is still open: that one"),
    },
    errors=(403, 404, 409),
    description="409 consent_required (details.text_version), liveness_attempts_exhausted, "
    "liveness_already_completed, or illegal_transition once the application no longer takes evidence.",
)
@handles_errors
def start_liveness_session(application_id):
    session, created = services().liveness.create_session(applicant(current_request()), application_id)
    body = presenters.liveness_session(session, services().config.region)
    return Response(body=body, status_code=201 if created else 200)


@app.route("/applications/{application_id}/liveness-sessions/{session_id}/complete", methods=["POST"])
@documented(
    "Record the liveness session's result (once, after the client has streamed it)",
    responses={202: LivenessCompletion},
    errors=(403, 404, 409),
    description="404 liveness_session_not_found (not a session of this application); 409 liveness_session_closed "
    "(details.state: used or superseded), liveness_in_progress (still streaming: retry after Retry-After), or "
    "illegal_transition once the application no longer takes evidence.",
)
@handles_errors
def complete_liveness_session(application_id, session_id):
    done = services().liveness.complete_session(applicant(current_request()), application_id, session_id)
    return Response(body=presenters.liveness_completion(done), status_code=202)


# --- data verification ------------------------------------------------------


# The documents bucket notifies the identity-check queue (resources.yaml): at most this many checks run at
# once, sized from Textract's rate quota (docs/notes/capacity.md); a stage sets its own in .chalice/config.json.
IDENTITY_CHECKS_AT_ONCE = int(os.environ.get("IDENTITY_CHECK_MAX_CONCURRENCY", "20"))


@app.on_sqs_message(
    queue=os.environ["IDENTITY_CHECK_QUEUE_NAME"], batch_size=5, maximum_concurrency=IDENTITY_CHECKS_AT_ONCE
)
def verify_identity_document(event):
    s = services()
    return document_events.handle_batch(
        event, s.identity_check.document_uploaded, s.config.documents_bucket, s.backoff, s.metrics
    )


@app.on_sqs_message(queue=os.environ["ADDRESS_CHECK_QUEUE_NAME"], batch_size=10)
def check_address(event):
    return sqs.partial_batch_response(event, services().address_check.address_requested)


@app.on_sqs_message(queue=os.environ["SANCTIONS_SCREENING_QUEUE_NAME"], batch_size=10)
def screen_sanctions(event):
    return sqs.partial_batch_response(event, services().sanctions_check.screening_requested)


# --- customers re-screened when the lists change ------------------------------------


@app.on_sqs_message(queue=os.environ["CUSTOMER_PROJECTION_QUEUE_NAME"], batch_size=10)
def project_customers(event):
    return sqs.partial_batch_response(event, services().customer_projection.application_event)


@app.on_sqs_message(queue=os.environ["CUSTOMER_RESCREENING_QUEUE_NAME"], batch_size=1)
def rescreen_customers(event):
    seconds_left = sqs.seconds_left(event)
    return sqs.partial_batch_response(
        event, lambda body: services().customer_rescreening.screen_segment(body, seconds_left)
    )


@app.on_sqs_message(queue=os.environ["FACE_CHECK_QUEUE_NAME"], batch_size=5)
def check_face(event):
    return sqs.partial_batch_response(event, services().face_check.check_requested)


# --- transactional outbox ---------------------------------------------------


@app.on_dynamodb_record(stream_arn=os.environ["HISTORY_STREAM_ARN"], batch_size=100, starting_position="TRIM_HORIZON")
def publish_history(event):
    """Report the first record that could not be published (ReportBatchItemFailures), never the whole batch."""
    from chalicelib.adapters.dynamodb_applications import sequenced_events_from_stream

    published, failed_at = services().outbox.relay_batch(list(sequenced_events_from_stream(event)))
    logger.info("history events relayed", extra={"published": published, "failed_at": failed_at})
    return {"batchItemFailures": [{"itemIdentifier": failed_at}] if failed_at else []}


# --- human review (chalicelib/routes/review.py: the queue, decisions, claims, screening cases) ----

app.register_blueprint(review_routes.blueprint)


# --- operations -------------------------------------------------------------


@app.route("/operations/workflow", methods=["GET"])
@documented(
    "States and transitions from the domain's table, with live counts and oldest ages (operators)",
    responses={200: WorkflowOut},
    errors=(403,),
)
@handles_errors
def operations_workflow():
    operator(current_request(), services().staff)
    return presenters.workflow(services().operations.workflow())


@app.route("/operations/queues", methods=["GET"])
@documented("Work queues with their depth and dead letters (operators)", responses={200: QueuesOut}, errors=(403,))
@handles_errors
def operations_queues():
    operator(current_request(), services().staff)
    return presenters.queues(services().operations.queues())


@app.route("/operations/queues/{name}/redrive", methods=["POST"])
@documented("Move a queue's dead letters back to it (operators)", responses={200: Redriven}, errors=(403, 404))
@handles_errors
def operations_redrive(name):
    operator(current_request(), services().staff)
    return {"queue": name, "moved": services().operations.redrive(name)}


@app.route("/operations/jobs", methods=["GET"])
@documented("Each scheduled job with its last run and summary (operators)", responses={200: JobsOut}, errors=(403,))
@handles_errors
def operations_jobs():
    operator(current_request(), services().staff)
    return presenters.jobs(services().operations.jobs(schedules.registered(app.event_sources)))


# --- anything else -------------------------------------------------------------
# Without this, API Gateway answers an unknown path itself: 403 "Missing
# Authentication Token" (and, given a bearer token, a message quoting it). A
# greedy route brings every unknown path to the middleware: 401 without a
# valid token, else 404, both in the one error shape.

ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@app.route("/", methods=ANY_METHOD)
@app.route("/{proxy+}", methods=ANY_METHOD)
@hidden("any path no other route matches: 401 without a valid token, else 404")
@handles_errors
def unknown_route():
    raise not_found_route()


# --- live updates over WebSocket ---------------------------------------------


@app.on_ws_connect()
def ws_connect(event):
    status = services().live_updates.connect(event.connection_id, event.to_dict().get("queryStringParameters"))
    return websocket_protocol.connect_response(status)


@app.on_ws_message()
def ws_message(event):
    websocket_protocol.message(services().live_updates, event.connection_id, event.body)


@app.on_ws_disconnect()
def ws_disconnect(event):
    services().live_updates.disconnect(event.connection_id)


@app.on_sns_message(topic=os.environ["EVENTS_TOPIC_ARN"])
def notify_subscribers(event):
    services().live_updates.fan_out(event.message)


# --- staff sign-in (the staff pool's pre-token-generation trigger) -------------------


@app.lambda_function(name="staff_token_groups")
def staff_token_groups(event, context):
    """At a sign-in through the corporate provider, its groups become the staff pool's (and the token's)."""
    request = cognito_triggers.token_generation(event)
    return cognito_triggers.reply(event, services().federation.on_token_generation(request))


# --- scheduled jobs -----------------------------------------------------------
# Each job is idempotent: a second run finds nothing to do.


def run_job(name, job, event, **kwargs):
    """Run a job; its summary is kept as the handler's last run, for the operators' view."""
    return schedules.run(job, event, services().metrics, recorder=services().operations.recorder(name), **kwargs)


@app.schedule(Rate(1, unit=Rate.HOURS), description="Escalate FLAGGED applications past the review SLA")
def escalate_overdue_reviews(event):
    return run_job("escalate_overdue_reviews", services().maintenance.escalate_overdue, event)


@app.schedule(Rate(15, unit=Rate.MINUTES), description="Re-drive applications an asynchronous step lost")
def redrive_stuck_applications(event):
    return run_job("redrive_stuck_applications", services().sweeper.redrive_stuck, event)


@app.schedule(Rate(1, unit=Rate.HOURS), description="Expire applications still awaiting documents")
def expire_abandoned_applications(event):
    return run_job("expire_abandoned_applications", services().maintenance.expire_abandoned, event)


@app.schedule(Cron(0, 3, "*", "*", "?", "*"), description="Purge documents and personal data past retention")
def purge_documents_past_retention(event):
    return run_job("purge_documents_past_retention", services().maintenance.purge_past_retention, event)


@app.schedule(Rate(1, unit=Rate.HOURS), description="Delete biometric data past its retention, or withdrawn or expired")
def purge_biometric_data(event):
    return run_job("purge_biometric_data", services().biometric_purge.purge_due, event)


@app.schedule(Cron(15, 0, "*", "*", "?", "*"), description="Write the previous UTC day's report to S3")
def write_daily_report(event):
    request = schedules.report_request(event, services().clock)
    return run_job("write_daily_report", services().daily_reports.daily_report, event, budgeted=False, **request)


@app.schedule(Rate(6, unit=Rate.HOURS), description="Refresh the sanctions lists into a new index version")
def refresh_sanctions_lists(event):
    return run_job("refresh_sanctions_lists", services().sanctions_refresh.refresh, event, budgeted=False)
