"""A ``Services`` built entirely on the in-memory fakes: every use case, no AWS, no server.

``fake_services()`` returns the composition root's own ``Services`` with each
adapter attribute (a ``cached_property``) pre-set in the instance ``__dict__``,
so the use cases are built by the same code as in Lambda, on the fakes.
Anything that would still reach for AWS (a boto3 session or client, the
pynamodb connection) raises instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from chalicelib.adapters.memory import (
    FakeTokenVerifier,
    InMemoryBiometricImages,
    InMemoryApplicationRepository,
    InMemoryCheckRequests,
    InMemoryClaims,
    InMemoryConnectionStore,
    InMemoryCustomerProfiles,
    InMemoryDocumentStore,
    InMemoryGroupMembership,
    InMemoryUserDirectory,
    StaticChainKey,
    InMemoryJobRunLog,
    InMemoryOcr,
    InMemoryQueueAdmin,
    InMemoryQuotas,
    InMemoryReadings,
    InMemoryReportStore,
    InMemorySanctionsIndexStore,
    InMemoryScreeningCases,
    InMemoryStateCounters,
    RecordingBackoff,
    RecordingEventPublisher,
    RecordingMetrics,
    RecordingWebSocketSender,
    RecordingWorkQueue,
    StaticListDownloader,
    StaticProviderTokens,
    StaticSettings,
    over_memory,
)
from chalicelib.bootstrap import Services
from chalicelib.config import Config
from chalicelib.domain.policy import Policy

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: dt.datetime = T0):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now

    def set(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        return self.now


class Ticks:
    """A monotonic clock (seconds) that moves only when told to: a time budget's."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


class NoAws:
    """Stands where a boto3 session or the pynamodb connection would: any use is a test bug."""

    def __init__(self, what: str):
        self._what = what

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a test on fakes reached for AWS ({self._what}.{name})")


def fake_services(clock: Optional[FakeClock] = None, policy: Optional[Policy] = None) -> Services:
    """Every port a fake; the use cases built on them by bootstrap.Services itself."""
    clock = clock or FakeClock()
    services = Services(Config.from_environment({}), websocket_api=None, clock=clock)
    quotas = InMemoryQuotas()  # the repository takes the daily quota in its commit, as the table does
    counters = InMemoryStateCounters()  # and adds to the state counters in its commit, as the table does
    repository = InMemoryApplicationRepository(quotas, counters, clock)
    services.__dict__.update(
        session=NoAws("boto3 session"),
        dynamodb_connection=NoAws("pynamodb connection"),
        repository=repository,
        claims=InMemoryClaims(clock),
        connections=InMemoryConnectionStore(clock, marks=repository),  # a subscribe marks, as its transaction
        documents=InMemoryDocumentStore(),
        reports=InMemoryReportStore(),
        publisher=RecordingEventPublisher(),
        sender=RecordingWebSocketSender(),
        settings=StaticSettings(policy),
        verifier=FakeTokenVerifier(),
        metrics=RecordingMetrics(),
        sanctions_index_store=InMemorySanctionsIndexStore(),
        list_downloader=StaticListDownloader(),
        quotas=quotas,
        counters=counters,
        readings=InMemoryReadings(),
        directory=InMemoryUserDirectory(),
        chain_key=StaticChainKey(),
        customer_directory=InMemoryUserDirectory(auto_staff=False),
        provider_tokens=StaticProviderTokens(),
        membership=InMemoryGroupMembership(),
        queue_admin=InMemoryQueueAdmin(),
        check_requests=InMemoryCheckRequests(),
        backoff=RecordingBackoff(),
        job_runs=InMemoryJobRunLog(),
        customer_profiles=InMemoryCustomerProfiles(),
        screening_cases=InMemoryScreeningCases(),
        rescreening_queue=RecordingWorkQueue(),
    )
    services.__dict__["ocr"] = InMemoryOcr(services.__dict__["documents"])  # reads what a test printed
    images = InMemoryBiometricImages()
    services.__dict__.update(
        biometric_images=images,
        faces=over_memory(services.__dict__["documents"], images, clock),  # sees who a test put in an image
    )
    return services


# --- driving use cases on the fakes -------------------------------------------------------


def identity(sub: Optional[str] = None, *groups: str) -> Any:
    """A customer-pool identity, or a staff-pool one when in any group (as tokens of the two pools are)."""
    import uuid

    from chalicelib.domain.users import CUSTOMER_POOL, STAFF_POOL, Identity

    pool = STAFF_POOL if groups else CUSTOMER_POOL
    return Identity(sub=sub or str(uuid.uuid4()), groups=frozenset(groups), pool=pool)


def submit(services: Services, who: Any, key: Optional[str] = None, **overrides: Any) -> Any:
    """Create an application through the use case; returns it."""
    from chalicelib.domain.declaration import ApplicationRequest
    from tests.support.documents import make_declared

    request = ApplicationRequest.model_validate(make_declared(**overrides))
    app, _ = services.applications.create(who, request, key)
    return app


def upload(
    services: Services, who: Any, application_id: str, body: Optional[bytes] = None, content_type: str = "image/jpeg"
) -> str:
    """Ask for an upload and post the bytes into the fake bucket, as a client would; returns the key."""
    from tests.support.documents import document_bytes

    grant = services.uploads.request_upload(who, application_id, content_type)
    services.documents.put(grant["key"], body if body is not None else document_bytes(), content_type)
    return grant["key"]


def address_message(application_id: str) -> str:
    """The outbox's message for a submission, as the address-check queue receives it (raw delivery)."""
    import json

    return json.dumps(
        {
            "event_id": f"{application_id}#1",
            "application_id": application_id,
            "seq": 1,
            "type": "application.submitted",
            "from_state": None,
            "state": "AWAITING_DOCUMENTS",
        }
    )


def event_types(services: Services, application_id: str) -> list[str]:
    return [e.type.value for e in services.repository.history(application_id)]


def sanctions_lists(services: Services) -> Services:
    """Serve the synthetic list fixtures at the policy's list URLs and publish their index."""
    from tests.support.sanctions_lists import fixture_documents

    policy = services.settings.policy()
    files = fixture_documents()
    services.list_downloader.documents.update(  # type: ignore[attr-defined]
        {
            policy.sanctions_ofac_sdn_url: files["sdn.csv"],
            policy.sanctions_ofac_alt_url: files["alt.csv"],
            policy.sanctions_un_url: files["un_consolidated.xml"],
        }
    )
    services.sanctions_refresh.refresh()
    return services


def screen(services: Services, application_id: str) -> dict[str, Any]:
    """The sanctions check for one submission, as its queue delivers it."""
    return services.sanctions_check.screening_requested(address_message(application_id))


def relay(services: Services, *application_ids: str) -> int:
    """What the history stream and the outbox relay do for these applications: publish their events (and
    count those no commit counted), with what the stream's items carry: the applicant, the creation time and
    whether the commit counted the event and the watch mark it wrote. Returns events relayed."""
    records = []
    counted = getattr(services.repository, "counted", set())
    watched = getattr(services.repository, "watched_of", {})
    for application_id in application_ids:
        app = services.repository.get(application_id)
        for event in services.repository.history(application_id):
            event_id = f"{application_id}#{event.seq}"
            records.append((event_id, event, app.applicant_id, app.created_at, event_id in counted,
                            watched.get(event_id)))
    published, failed_at = services.outbox.relay_batch(records)
    assert failed_at is None
    return published


# --- the face check (issue 17) ------------------------------------------------------------------


def selfie(
    services: Services,
    who: Any,
    application_id: str,
    *faces: Any,
    status: str = "SUCCEEDED",
    confidence: float = 99.0,
) -> Any:
    """Consent, a liveness session streamed with a selfie of ``faces`` (the document's holder by default),
    and its completion, as the applicant's client does; returns the completion."""
    from chalicelib.adapters.memory import face_image
    from tests.support.documents import HOLDER

    version = services.liveness.consent_status(who, application_id).text_version
    services.liveness.give_consent(who, application_id, version)
    session, _ = services.liveness.create_session(who, application_id)
    services.faces.stream(session.session_id, face_image(*(faces or (HOLDER,))), status, confidence)
    return services.liveness.complete_session(who, application_id, session.session_id)


def face_requested_message(application_id: str) -> str:
    """What the face-check queue receives: the outbox's face.requested event (raw delivery)."""
    import json

    return json.dumps({"application_id": application_id, "type": "face.requested", "state": "VERIFYING"})


def face_check(services: Services, application_id: str) -> dict[str, Any]:
    """The face check for one application, as its queue delivers the face.requested event."""
    return services.face_check.check_requested(face_requested_message(application_id))


def with_face(services: Services, who: Any, application_id: str, *faces: Any, **liveness: Any) -> dict[str, Any]:
    """The applicant's selfie, then the face check it asks for (once the document is read)."""
    selfie(services, who, application_id, *faces, **liveness)
    return face_check(services, application_id)
