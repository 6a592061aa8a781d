"""Account opening: the wiring. Each handler parses, calls chalicelib, shapes the reply."""
import os

from chalice import Chalice, Cron, Rate, Response

from chalicelib import batch, http, jobs, notifications, observability, openapi, presenters, publisher, review, settings
from chalicelib.domain.declared import ApplicationRequest
from chalicelib.http import handles_errors, identity_of, parse_body
from chalicelib.observability import logger
from chalicelib.runtime import applications, verification
from chalicelib.schemas import Decision, DecisionRequest, DocumentUploadRequest, WithdrawRequest

app = Chalice(app_name="account-opening")
app.experimental_feature_flags.update(["WEBSOCKETS"])
notifications.configure(app.websocket_api)  # session; endpoint from WEBSOCKET_DOMAIN/STAGE
app.register_middleware(observability.middleware, "all")
app.register_middleware(http.http_middleware(lambda: settings.policy().max_body_bytes), "http")


# --- public -----------------------------------------------------------------

@app.route("/health")
@handles_errors
def health():
    from chalicelib import health as health_checks

    healthy, body = health_checks.report()
    return Response(body=body, status_code=200 if healthy else 503)


@app.route("/openapi.json")
def openapi_document():
    return openapi.document({(m, p) for p, methods in app.routes.items() for m in methods})


# --- applicant --------------------------------------------------------------

@app.route("/applications", methods=["POST"])
@handles_errors
def create_application():
    request = http.current_request()
    body = parse_body(request, ApplicationRequest)
    application, created = applications().create(identity_of(request), body, http.idempotency_key(request))
    return Response(body=presenters.application(application), status_code=201 if created else 200,
                    headers={"Location": f"/applications/{application.application_id}"})


@app.route("/applications", methods=["GET"])
@handles_errors
def list_applications():
    request = http.current_request()
    limit, cursor = http.page_params(request)
    items, next_cursor = applications().list_own(identity_of(request), limit, cursor)
    return {"items": [presenters.summary(a) for a in items], "next_cursor": next_cursor}


@app.route("/applications/{application_id}", methods=["GET"])
@handles_errors
def get_application(application_id):
    return presenters.application(applications().get_own(identity_of(http.current_request()), application_id))


@app.route("/applications/{application_id}/history", methods=["GET"])
@handles_errors
def application_history(application_id):
    events = applications().history(identity_of(http.current_request()), application_id)
    return {"items": [presenters.event(e) for e in events], "chain_intact": http.chain_intact(events)}


@app.route("/applications/{application_id}/withdraw", methods=["POST"])
@handles_errors
def withdraw_application(application_id):
    request = http.current_request()
    body = parse_body(request, WithdrawRequest, allow_empty=True)
    application = applications().withdraw(identity_of(request), application_id, body.reason or "")
    return presenters.application(application)


@app.route("/applications/{application_id}/documents", methods=["POST"])
@handles_errors
def request_document_upload(application_id):
    request = http.current_request()
    body = parse_body(request, DocumentUploadRequest)
    upload = verification().request_upload(identity_of(request), application_id, body.content_type)
    return Response(body=upload, status_code=201)


# --- data verification ------------------------------------------------------

@app.on_s3_event(bucket=os.environ["DOCUMENTS_BUCKET_NAME"], events=["s3:ObjectCreated:*"],
                 prefix="applications/")
def verify_identity_document(event):
    outcome = verification().document_uploaded(event.bucket, event.key)
    logger.info("identity document handled", extra={"key": event.key, "outcome": outcome})


@app.on_sqs_message(queue=os.environ["ADDRESS_CHECK_QUEUE_NAME"], batch_size=10)
def check_address(event):
    return batch.sqs_partial_response(event, verification().address_requested)


# --- transactional outbox ---------------------------------------------------

@app.on_dynamodb_record(stream_arn=os.environ["HISTORY_STREAM_ARN"], batch_size=100,
                        starting_position="TRIM_HORIZON")
def publish_history(event):
    published = publisher.publish_stream_records(event)
    logger.info("history events relayed", extra={"published": published})


# --- human review -----------------------------------------------------------


@app.route("/review/queue", methods=["GET"])
@handles_errors
def review_queue():
    request = http.current_request()
    http.require_reviewer(request)
    limit, cursor = http.page_params(request)
    items, next_cursor = review.service().queue(limit, cursor)
    return {"items": [review.queue_item(a) for a in items], "next_cursor": next_cursor}


@app.route("/review/applications/{application_id}", methods=["GET"])
@handles_errors
def review_application(application_id):
    http.require_reviewer(http.current_request())
    return review.detail(review.service().detail(application_id))


@app.route("/review/applications/{application_id}/decision", methods=["POST"])
@handles_errors
def decide_application(application_id):
    request = http.current_request()
    reviewer = http.require_reviewer(request)
    body = parse_body(request, DecisionRequest)
    decided = review.service().decide(reviewer, application_id, body.decision is Decision.APPROVE, body.reason)
    return presenters.application(decided)


# --- live updates over WebSocket ---------------------------------------------

@app.on_ws_connect()
def ws_connect(event):
    if notifications.connect(event.connection_id, event.to_dict().get("queryStringParameters")):
        return Response(body="", status_code=200)
    return Response(body={"error": {"code": "unauthorized", "message": "a valid ?token= is required"}},
                    status_code=401)


@app.on_ws_message()
def ws_message(event):
    notifications.message(app.websocket_api, event.connection_id, event.body)


@app.on_ws_disconnect()
def ws_disconnect(event):
    notifications.disconnect(event.connection_id)


@app.on_sns_message(topic=os.environ["EVENTS_TOPIC_ARN"])
def notify_subscribers(event):
    notifications.fan_out(app.websocket_api, event.message)


# --- scheduled jobs -----------------------------------------------------------
# Each job is idempotent: a second run finds nothing to do.


@app.schedule(Rate(1, unit=Rate.HOURS), description="Escalate FLAGGED applications past the review SLA")
def escalate_overdue_reviews(event):
    return jobs.run(jobs.escalate_overdue, event)


@app.schedule(Rate(1, unit=Rate.HOURS), description="Expire applications still awaiting documents")
def expire_abandoned_applications(event):
    return jobs.run(jobs.expire_abandoned, event)


@app.schedule(Cron(0, 3, "*", "*", "?", "*"), description="Purge documents and personal data past retention")
def purge_documents_past_retention(event):
    return jobs.run(jobs.purge_past_retention, event)


@app.schedule(Cron(15, 0, "*", "*", "?", "*"), description="Write the previous UTC day's report to S3")
def write_daily_report(event):
    return jobs.run(jobs.daily_report, event, **jobs.report_request(event))
