"""Applications at a chosen time and in a chosen state, through ApplicationService and the workflow's own
commands (a document received, the checks recorded), and the reviewer API's decision: the helpers the
reviewer, jobs, IAM and other tests share (they were tests/test_review_api.py's)."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Callable, Optional

from tests.support.documents import make_declared

DOUBT = "MRZ_NAME_MISMATCH"


class Clock:
    """A settable clock for ApplicationService: ``clock.at(moment)`` moves it."""

    def __init__(self, moment: Optional[dt.datetime] = None):
        self.moment = moment or dt.datetime.now(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.moment

    def at(self, moment: dt.datetime) -> "Clock":
        self.moment = moment
        return self


def service(clock: Optional[Callable[[], dt.datetime]] = None):
    from chalicelib.bootstrap import services
    from chalicelib.services.applications import ApplicationService

    # with the app's chain key: a history written here verifies like one written by a handler
    return ApplicationService(services().repository, clock, chain=services().chain_key) if clock else \
        services().applications


def create_via_api(api, user) -> str:
    reply = api.post("/applications", make_declared(), user=user)
    assert reply.status == 201, reply.body
    return reply.body["id"]


def create_at(clock: Clock, applicant_id: Optional[str] = None) -> str:
    """Submit through ApplicationService at the clock's time (for tests about time)."""
    from chalicelib.domain.declaration import ApplicationRequest
    from chalicelib.domain.users import Identity

    who = Identity(sub=applicant_id or str(uuid.uuid4()), groups=frozenset())
    day = clock().date()  # declared as of that day: of age and with a valid document then (issue 9's rules)
    declared = make_declared(date_of_birth=day.replace(year=day.year - 35, day=min(day.day, 28)),
                             doc_overrides={"expiry_date": day.replace(year=day.year + 5, day=min(day.day, 28))})
    app, created = service(clock).create(who, ApplicationRequest.model_validate(declared), None)
    assert created
    return app.application_id


def receive_document(app_id: str, clock: Optional[Clock] = None) -> str:
    from chalicelib.bootstrap import services
    from chalicelib.domain.workflow import intake

    svc = service(clock)
    key = services().documents.key_for_new_upload(app_id)
    assert svc.apply_with_retry(app_id, lambda a: intake.receive_document(a, key, 4096, svc.clock()))
    return key


def record(app_id: str, check: str, outcome: str, clock: Optional[Clock] = None, details: Optional[dict] = None):
    """Record a check result (REVIEW/FAIL carry one reason; ``details`` as the check would record them);
    returns the application after it."""
    from chalicelib.domain.workflow import consolidation
    from chalicelib.domain.checks import CheckResult, Outcome, Reason

    wanted = Outcome(outcome)
    reasons = () if wanted is Outcome.PASS else (
        Reason(DOUBT if check == "identity" else "ADDRESS_UNVERIFIABLE", wanted, f"{check} needs a look"),)
    svc = service(clock)
    result = CheckResult(check, reasons, details or {})
    change = svc.apply_with_retry(app_id, lambda a: consolidation.record_check(a, result, svc.clock()))
    return change.after


def drive(app_id: str, identity: str = "REVIEW", address: str = "PASS", clock: Optional[Clock] = None,
          sanctions: str = "PASS", face: str = "PASS"):
    """Document received, then the four checks: REVIEW anywhere -> FLAGGED, FAIL -> REJECTED, else APPROVED."""
    receive_document(app_id, clock)
    record(app_id, "address", address, clock)
    record(app_id, "sanctions", sanctions, clock)
    record(app_id, "face", face, clock)
    return record(app_id, "identity", identity, clock)


def flagged_via_api(api, user) -> str:
    app_id = create_via_api(api, user)
    assert drive(app_id).state.value == "FLAGGED"
    return app_id


def history(app_id: str):
    from chalicelib.bootstrap import services

    return services().repository.history(app_id)


def decide(api, user, app_id: str, decision: str = "approve", reason: str = "documents look right"):
    return api.post(f"/review/applications/{app_id}/decision", {"decision": decision, "reason": reason},
                    user=user)
