"""The reviewer's desk over REST: the review queue, a case's detail, the decision (four eyes), claims,
sanctions false positives, customer screening cases, and the document and selfie links.

A Chalice Blueprint that app.py registers where these routes stood, so they are served by the same REST
Lambda function (``api_handler``) as every other route and keep their place in ``app.routes`` (the OpenAPI
document's order). Wiring only, as app.py: each handler parses the request, asks bootstrap for a service,
shapes the reply. Event handlers (queues, streams, schedules, WebSocket) stay in app.py, where the deploy,
the local stack and the IAM recording read them.
"""

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api import presenters
from chalicelib.api.middleware import current_request, handles_errors, reviewer
from chalicelib.api.models import (
    ApplicationOut,
    CaseResolutionRequest,
    Decision,
    DecisionRequest,
    DocumentLink,
    FalsePositiveRequest,
    QueueItem,
    QueuePage,
    ReviewDecisionOut,
    ReviewDetail,
    ScreeningCaseDetail,
    ScreeningCaseOut,
    ScreeningCasePage,
    SelfieLink,
)
from chalicelib.api.openapi import PAGING, QUEUE_FILTERS, documented
from chalicelib.api.requests import page_params, parse_body, queue_params

blueprint = Blueprint(__name__)


def services() -> bootstrap.Services:
    return bootstrap.services(blueprint.current_app.websocket_api)


def review_view():
    """What shapes a reviewer's answer: now, and the settings (SLA, four eyes)."""
    return services().clock(), services().settings.policy()


@blueprint.route("/review/queue", methods=["GET"])
@documented(
    "Cases in review (FLAGGED), oldest flag first, filtered and searched (reviewers)",
    description="Each row: the applicant's name, birth date and nationality, the reasons, the age against the "
    "review SLA, who has claimed it and any four-eyes recommendation awaiting a second reviewer. A filtered "
    "page may hold fewer rows than limit and still a next_cursor: follow it.",
    params=PAGING + QUEUE_FILTERS,
    responses={200: QueuePage},
    errors=(403,),
)
@handles_errors
def review_queue():
    request = current_request()
    who = reviewer(request, services().staff)
    limit, cursor, filters = queue_params(request)
    items, next_cursor = services().review.queue(who, limit, cursor, filters)
    now, policy = review_view()
    return presenters.page([presenters.queue_item(a, who.sub, now, policy) for a in items], next_cursor)


@blueprint.route("/review/applications/{application_id}", methods=["GET"])
@documented(
    "An application with checks and history (reviewers)",
    description="Only while it is in review (FLAGGED) or when you decided it; anything else is 404. "
    "Each read is recorded in the application's history as a review.viewed event.",
    responses={200: ReviewDetail},
    errors=(403, 404),
)
@handles_errors
def review_application(application_id):
    who = reviewer(current_request(), services().staff)
    return presenters.review_detail(services().review.detail(who, application_id), who.sub, *review_view())


@blueprint.route("/review/applications/{application_id}/decision", methods=["POST"])
@documented(
    "Approve or reject a FLAGGED application (reviewers)",
    description="Outside review (not FLAGGED, and not decided by you) the 404 not_found of an unknown id; "
    "409 when you decided it already or another reviewer decided it first; 409 claimed_by_another while "
    "another reviewer holds the case. Four eyes (a case flagged for a reason the second_review_for setting "
    "names, e.g. any sanctions REVIEW): the first reviewer's decision is a recommendation (still FLAGGED, "
    "review.awaiting_second_review); a second, different reviewer confirms or overturns it (409 "
    "second_reviewer_required for the first); an approval always needs two reviewers who approved.",
    request=DecisionRequest,
    responses={200: ReviewDecisionOut},
    errors=(403, 404, 409),
)
@handles_errors
def decide_application(application_id):
    request = current_request()
    who = reviewer(request, services().staff)
    body = parse_body(request, DecisionRequest)
    decided = services().review.decide(who, application_id, body.decision is Decision.APPROVE, body.reason)
    return presenters.decision(decided, who.sub, *review_view())


@blueprint.route("/review/applications/{application_id}/claim", methods=["POST", "DELETE"])
@documented(
    "Claim a case in review for review_claim_minutes (POST; again: extended), or let it go (DELETE) (reviewers)",
    description="Others see it claimed in the queue and cannot decide it until the claim is released or "
    "lapses (409 claimed_by_another). Recorded in the history (review.claimed, review.released). "
    "Outside review: the 404 of an unknown id.",
    responses={200: QueueItem},
    errors=(403, 404, 409),
)
@handles_errors
def claim_application(application_id):
    request = current_request()
    who = reviewer(request, services().staff)
    review = services().review
    held = review.claim(who, application_id) if request.method == "POST" else review.release(who, application_id)
    return presenters.queue_item(held, who.sub, *review_view())


@blueprint.route("/review/applications/{application_id}/sanctions/false-positives", methods=["POST"])
@documented(
    "Clear a sanctions candidate as not this applicant, with a reason (reviewers)",
    description="The reason is kept in the history (screening.false_positive); the applicant's next screening "
    "leaves that entry out while the list keeps it unchanged. Four eyes on sanctions (second_review_for): that "
    "holds only once a second, different reviewer cleared the same candidate (confirmed_by); 409 "
    "second_reviewer_required for the first reviewer again, already_cleared after two. 404 not_found (not an "
    "application you may read) or no_such_candidate (its screening names no such entry); 403 on your own application.",
    request=FalsePositiveRequest,
    responses={200: ApplicationOut},
    errors=(403, 404, 409),
)
@handles_errors
def clear_sanctions_false_positive(application_id):
    request = current_request()
    who = reviewer(request, services().staff)
    body = parse_body(request, FalsePositiveRequest)
    cleared = services().sanctions_reviews.clear_false_positive(
        who, application_id, body.list, body.entry_id, body.reason
    )
    return presenters.application(cleared, reviewer=True)


@blueprint.route("/review/screening-cases", methods=["GET"])
@documented(
    "Open customer screening cases, oldest first (reviewers): approved customers a changed list entry may name",
    params=PAGING,
    responses={200: ScreeningCasePage},
    errors=(403,),
)
@handles_errors
def screening_cases():
    request = current_request()
    reviewer(request, services().staff)
    limit, cursor = page_params(request)
    items, next_cursor = services().screening_case_reviews.queue(limit, cursor)
    return presenters.page([presenters.screening_case(c) for c in items], next_cursor)


@blueprint.route("/review/screening-cases/{case_id}", methods=["GET"])
@documented(
    "A customer screening case (reviewers); the read is recorded in the customer's history (review.viewed)",
    responses={200: ScreeningCaseDetail},
    errors=(403, 404),
)
@handles_errors
def screening_case(case_id):
    who = reviewer(current_request(), services().staff)
    case, application = services().screening_case_reviews.detail(who, case_id)
    return presenters.screening_case_detail(case, application)


@blueprint.route("/review/screening-cases/{case_id}/resolution", methods=["POST"])
@documented(
    "Resolve a customer screening case: false_positive (not this customer) or confirmed, with a reason (reviewers)",
    description="Kept in the customer's history (customer.screening_resolved); the case leaves the queue. "
    "Four eyes on sanctions (second_review_for): the first reviewer's word is a recommendation "
    "(customer.screening_recommended; the case stays open, its recommendation set); a second, different "
    "reviewer confirms or overturns it: clearing needs two reviewers who cleared, a confirmation by the second is "
    "final. 403 on a case about your own account; 409 case_already_resolved when it was resolved first, "
    "second_reviewer_required when you gave the standing recommendation.",
    request=CaseResolutionRequest,
    responses={200: ScreeningCaseOut},
    errors=(403, 404, 409),
)
@handles_errors
def resolve_screening_case(case_id):
    request = current_request()
    who = reviewer(request, services().staff)
    body = parse_body(request, CaseResolutionRequest)
    case = services().screening_case_reviews.resolve(who, case_id, body.decision.value, body.reason)
    return presenters.screening_case(case)


@blueprint.route("/review/applications/{application_id}/document", methods=["GET"])
@documented(
    "A presigned GET of the identity document, valid 5 minutes, typed by its bytes, shown inline; "
    "each call appends document.viewed to the history (reviewers)",
    responses={200: DocumentLink},
    errors=(403, 404, 410, 422),
    description="Only while it is in review (FLAGGED) or when you decided it: anything else is the 404 "
    "not_found of an unknown id. Then 404 no_document (nothing uploaded); 410 document_purged; "
    "422 document_not_displayable (not a JPEG, PNG or PDF by its bytes).",
)
@handles_errors
def review_document(application_id):
    link = services().review.view_document(reviewer(current_request(), services().staff), application_id)
    return Response(body=presenters.document_link(link), headers={"Cache-Control": "no-store"})


@blueprint.route("/review/applications/{application_id}/selfie", methods=["GET"])
@documented(
    "A presigned GET of the selfie (the liveness reference image) that was checked, valid 5 minutes; "
    "each call appends selfie.viewed to the history (reviewers)",
    responses={200: SelfieLink},
    errors=(403, 404, 410),
    description="Only while the application is in review or when you decided it (else 404 not_found); "
    "404 no_selfie (no liveness check gave one); 410 selfie_purged (deleted after its retention).",
)
@handles_errors
def review_selfie(application_id):
    link = services().face_review.view_selfie(reviewer(current_request(), services().staff), application_id)
    return Response(body=presenters.selfie_link(link), headers={"Cache-Control": "no-store"})
