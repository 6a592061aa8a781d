"""The composition root: every service built from configuration and boto3 clients, here and only here.

A Lambda container builds what its handler asks for on first use and keeps
it for the container's life (``services()`` is cached), so a cold start pays
only for what that handler needs: the S3 verifier never builds the JWT
verifier, the schedules never build the WebSocket sender. Tests build a
``Services`` with fakes instead (see ``tests/support/fakes.py``), or replace
one attribute.
"""

from __future__ import annotations

import functools
from functools import cached_property
from typing import TYPE_CHECKING, Any, Optional

from .config import Config
from .services.ports import (
    ApplicationRepository,
    Backoff,
    BiometricImages,
    ChainKey,
    CheckRequests,
    Claims,
    Clock,
    ConnectionStore,
    CustomerProfiles,
    DocumentStore,
    EventPublisher,
    FaceRecognition,
    GroupMembership,
    JobRunLog,
    ListDownloader,
    Metrics,
    Ocr,
    ProviderTokens,
    QueueAdmin,
    Quotas,
    Readings,
    ReportStore,
    SanctionsIndexStore,
    ScreeningCases,
    SettingsSource,
    StateCounters,
    TokenVerifier,
    UserDirectory,
    WebSocketSender,
    WorkQueue,
    utc_now,
)

if TYPE_CHECKING:  # imported where built, so a handler's cold start loads only its own use case
    from .services.address_check import AddressCheck
    from .services.applications import ApplicationService
    from .services.checks import CheckRecorder
    from .services.documents import DocumentUploads
    from .services.face import LivenessService
    from .services.face_check import FaceCheck
    from .services.face_review import BiometricPurge, FaceReview
    from .services.federation import StaffFederation
    from .services.health import HealthCheck
    from .services.identity_check import IdentityCheck
    from .services.live_updates import LiveUpdates
    from .services.maintenance import Maintenance
    from .services.operations import Operations
    from .services.outbox import OutboxRelay
    from .services.rate_limits import DeferredUses, RequestRateLimiter
    from .services.reporting import DailyReports
    from .services.rescreening import CustomerProjection, CustomerRescreening, ScreeningCaseReviews
    from .services.review import ReviewService
    from .services.sanctions import SanctionsCheck, SanctionsIndexCache, SanctionsListRefresh, SanctionsReviews
    from .services.staff import StaffAccess
    from .services.sweeper import Sweeper

#: botocore's standard retry mode: exponential backoff with jitter on throttling and 5xx.
RETRIES = {"retries": {"max_attempts": 5, "mode": "standard"}, "connect_timeout": 2, "read_timeout": 10}
#: Rate-quota'd services (Textract): adaptive mode also slows the container's own calls when throttled;
#: what is still throttled goes back to its queue for much later (api/document_events.py).
ADAPTIVE = {"textract"}


class Services:
    """The adapters and use cases of one container, each created on first use."""

    def __init__(self, config: Config, websocket_api: Any = None, clock: Clock = utc_now):
        self.config = config
        self.websocket_api = websocket_api
        self.clock = clock

    # --- AWS clients (the only place they are made) --------------------------------

    @cached_property
    def session(self) -> Any:
        import boto3

        return boto3.session.Session(region_name=self.config.region)

    @functools.cache  # noqa: B019 - one Services per container
    def client(self, service: str) -> Any:
        from botocore.config import Config as BotoConfig

        signing = {"signature_version": "s3v4"} if service == "s3" else {}  # SigV4 presigned POSTs and URLs
        retries = {**RETRIES, "retries": {"max_attempts": 3, "mode": "adaptive"}} if service in ADAPTIVE else RETRIES
        return self.session.client(service, config=BotoConfig(**retries, **signing))

    # --- adapters (ports) ------------------------------------------------------------

    @cached_property
    def dynamodb_connection(self) -> Any:
        """pynamodb's connection for transactions; first binds the models to this deployment's tables."""
        from pynamodb.connection import Connection

        from .adapters import dynamodb_models

        c = self.config
        dynamodb_models.bind(
            c.region,
            c.applications_table,
            c.history_table,
            c.idempotency_table,
            c.connections_table,
            c.biometrics_table,
        )
        return Connection(region=c.region)

    @cached_property
    def repository(self) -> ApplicationRepository:
        from .adapters.dynamodb_applications import DynamoApplicationRepository

        return DynamoApplicationRepository(self.dynamodb_connection)

    @cached_property
    def claims(self) -> Claims:
        from .adapters.dynamodb_claims import DynamoClaims

        return DynamoClaims(self.dynamodb_connection)  # (also binds the models to the tables)

    @cached_property
    def counters(self) -> StateCounters:
        from .adapters.dynamodb_counters import DynamoStateCounters

        return DynamoStateCounters(self.client("dynamodb"), self.config.idempotency_table)

    @cached_property
    def chain_key(self) -> ChainKey:
        """The history chain's MAC key: one KMS GenerateMac per container, on first use."""
        from .adapters.kms_chain_key import KmsChainKey

        return KmsChainKey(self.client("kms"), self.config.history_chain_key_arn)

    @cached_property
    def quotas(self) -> Quotas:
        from .adapters.dynamodb_claims import DynamoQuotas

        _ = self.dynamodb_connection  # binds the models to the tables (the rate limit runs before anything else)
        return DynamoQuotas()

    @cached_property
    def rate_limiter(self) -> RequestRateLimiter:
        from .services.rate_limits import RequestRateLimiter

        return RequestRateLimiter(self.quotas, self.settings, self.clock, self.deferred_uses)

    @cached_property
    def deferred_uses(self) -> DeferredUses:
        """A committing request's rate-limit use, until its commit carries it (shared by the two below)."""
        from .services.rate_limits import DeferredUses

        return DeferredUses()

    @cached_property
    def connections(self) -> ConnectionStore:
        from .adapters.dynamodb_connections import DynamoConnectionStore

        return DynamoConnectionStore(self.dynamodb_connection)

    @cached_property
    def documents(self) -> DocumentStore:
        from .adapters.s3_documents import S3DocumentStore

        return S3DocumentStore(self.client("s3"), self.config.documents_bucket)

    @cached_property
    def readings(self) -> Readings:
        from .adapters.s3_readings import S3Readings

        return S3Readings(self.client("s3"), self.config.documents_bucket)

    @cached_property
    def ocr(self) -> Ocr:
        from .adapters.textract_ocr import TextractOcr

        return TextractOcr(self.client("textract"), self.config.documents_bucket)

    @cached_property
    def faces(self) -> FaceRecognition:
        from .adapters.rekognition import RekognitionFaces

        c = self.config
        return RekognitionFaces(
            self.client("rekognition"), c.face_collection_id, c.documents_bucket, c.biometrics_bucket, c.data_key_arn
        )

    @cached_property
    def biometric_images(self) -> BiometricImages:
        from .adapters.s3_biometrics import S3BiometricImages

        return S3BiometricImages(self.client("s3"), self.config.biometrics_bucket)

    @cached_property
    def reports(self) -> ReportStore:
        from .adapters.s3_reports import S3ReportStore

        return S3ReportStore(self.client("s3"), self.config.reports_bucket)

    @cached_property
    def sanctions_index_store(self) -> SanctionsIndexStore:
        from .adapters.s3_sanctions_index import S3SanctionsIndexStore

        return S3SanctionsIndexStore(self.client("s3"), self.config.sanctions_bucket)

    @cached_property
    def customer_profiles(self) -> CustomerProfiles:
        from .adapters.dynamodb_customers import DynamoCustomerProfiles

        return DynamoCustomerProfiles(self.client("dynamodb"), self.config.customers_table)

    @cached_property
    def screening_cases(self) -> ScreeningCases:
        from .adapters.dynamodb_customers import DynamoScreeningCases

        return DynamoScreeningCases(self.client("dynamodb"), self.config.screening_cases_table)

    @cached_property
    def rescreening_queue(self) -> WorkQueue:
        from .adapters.sqs_work_queue import SqsWorkQueue

        return SqsWorkQueue(self.client("sqs"), self.config.customer_rescreening_queue)

    @cached_property
    def list_downloader(self) -> ListDownloader:
        from .adapters.list_downloads import UrlListDownloader

        return UrlListDownloader(self.client("s3"))

    @cached_property
    def queue_admin(self) -> QueueAdmin:
        from .adapters.sqs_queues import SqsQueueAdmin

        # Every queue the stack's outputs name (Config.work_queues): no list of them here to fall behind.
        return SqsQueueAdmin(self.client("sqs"), dict(self.config.work_queues), dict(self.config.dead_letter_queues))

    @cached_property
    def check_requests(self) -> CheckRequests:
        from .adapters.sqs_queues import SqsCheckRequests

        return SqsCheckRequests(self.client("sqs"), self.config.identity_check_queue, self.config.documents_bucket)

    @cached_property
    def backoff(self) -> Backoff:
        from .adapters.sqs_queues import SqsBackoff

        return SqsBackoff(self.client("sqs"))

    @cached_property
    def job_runs(self) -> JobRunLog:
        from .adapters.s3_job_runs import S3JobRunLog

        return S3JobRunLog(self.client("s3"), self.config.reports_bucket)

    @cached_property
    def publisher(self) -> EventPublisher:
        from .adapters.sns_events import SnsEventPublisher

        return SnsEventPublisher(self.client("sns"), self.config.events_topic_arn)

    @cached_property
    def sender(self) -> WebSocketSender:
        from .adapters.websocket_sender import ChaliceWebSocketSender, configure

        configure(self.websocket_api, self.session, self.config.websocket_domain, self.config.websocket_stage)
        return ChaliceWebSocketSender(self.websocket_api)

    @cached_property
    def settings(self) -> SettingsSource:
        from .adapters.parameters import ParameterStoreSettings

        return ParameterStoreSettings(self.client("ssm"), self.config.settings_path, self.config.settings_cache_seconds)

    @cached_property
    def verifier(self) -> TokenVerifier:
        from .adapters.cognito_tokens import CognitoTokenVerifier, UserPoolsTokenVerifier, jwks_client
        from .domain.users import CUSTOMER_POOL, STAFF_POOL

        config = self.config
        return UserPoolsTokenVerifier(
            [
                CognitoTokenVerifier(
                    config.cognito_issuer,
                    config.user_pool_client_id,
                    jwks_client(config.cognito_jwks_url),
                    pool=CUSTOMER_POOL,
                ),
                CognitoTokenVerifier(
                    config.staff_cognito_issuer,
                    config.staff_user_pool_client_id,
                    jwks_client(config.staff_cognito_jwks_url),
                    pool=STAFF_POOL,
                ),
            ]
        )

    @cached_property
    def directory(self) -> UserDirectory:
        """The staff user pool (reviewers, operators): who exists, is enabled, in which group."""
        from .adapters.cognito_directory import CognitoUserDirectory

        return CognitoUserDirectory(self.client("cognito-idp"), self.config.staff_user_pool_id)

    @cached_property
    def customer_directory(self) -> UserDirectory:
        """The customer user pool: an applicant's own account (its verified e-mail), by sub."""
        from .adapters.cognito_directory import CognitoUserDirectory

        return CognitoUserDirectory(self.client("cognito-idp"), self.config.user_pool_id)

    @cached_property
    def provider_tokens(self) -> ProviderTokens:
        from .adapters.oidc_provider_tokens import OidcProviderTokens

        c = self.config
        return OidcProviderTokens(c.staff_provider_issuer, c.staff_provider_client_id, c.staff_groups_claim)

    @cached_property
    def membership(self) -> GroupMembership:
        from .adapters.cognito_federation import CognitoGroupMembership

        return CognitoGroupMembership(self.client("cognito-idp"), self.config.staff_user_pool_id)

    @cached_property
    def federation(self) -> StaffFederation:
        from .domain.federation import FederationPolicy, GroupMapping
        from .services.federation import StaffFederation

        c = self.config
        policy = FederationPolicy(
            c.staff_identity_provider, GroupMapping.parse(c.staff_provider_groups), c.staff_require_provider_mfa
        )
        return StaffFederation(policy, self.provider_tokens, self.membership)

    @cached_property
    def staff(self) -> StaffAccess:
        from .services.staff import StaffAccess

        return StaffAccess(
            self.directory, self.config.staff_status_cache_seconds, clock=lambda: self.clock().timestamp()
        )

    @cached_property
    def metrics(self) -> Metrics:
        from .adapters.emf_metrics import EmfMetrics

        return EmfMetrics()

    # --- use cases ---------------------------------------------------------------------

    @cached_property
    def applications(self) -> ApplicationService:
        from .services.applications import ApplicationService

        return ApplicationService(
            self.repository,
            self.clock,
            quotas=self.quotas,
            settings=self.settings,
            chain=self.chain_key,
            deferred_uses=self.deferred_uses,
        )

    @cached_property
    def uploads(self) -> DocumentUploads:
        from .services.documents import DocumentUploads

        return DocumentUploads(self.applications, self.documents, self.settings)

    @cached_property
    def check_recorder(self) -> CheckRecorder:
        from .services.checks import CheckRecorder

        return CheckRecorder(self.applications, self.metrics)

    @cached_property
    def identity_check(self) -> IdentityCheck:
        from .services.identity_check import IdentityCheck

        return IdentityCheck(
            self.applications,
            self.documents,
            self.settings,
            self.check_recorder,
            self.metrics,
            self.ocr,
            self.claims,
            self.readings,
        )

    @cached_property
    def address_check(self) -> AddressCheck:
        from .services.address_check import AddressCheck

        return AddressCheck(self.applications, self.settings, self.check_recorder)

    @cached_property
    def liveness(self) -> LivenessService:
        from .services.face import LivenessService

        return LivenessService(self.applications, self.faces, self.biometric_images, self.settings, self.metrics)

    @cached_property
    def face_check(self) -> FaceCheck:
        from .services.face_check import FaceCheck

        return FaceCheck(self.applications, self.faces, self.settings, self.check_recorder)

    @cached_property
    def face_review(self) -> FaceReview:
        from .services.face_review import FaceReview

        return FaceReview(self.applications, self.biometric_images, self.metrics)

    @cached_property
    def biometric_purge(self) -> BiometricPurge:
        from .services.face_review import BiometricPurge

        return BiometricPurge(self.applications, self.faces, self.biometric_images, self.settings)

    @cached_property
    def sanctions_index(self) -> SanctionsIndexCache:
        """One per container: the index is loaded once and reloaded when its version changes."""
        from .services.sanctions import SanctionsIndexCache

        return SanctionsIndexCache(self.sanctions_index_store, self.metrics)

    @cached_property
    def sanctions_check(self) -> SanctionsCheck:
        from .services.sanctions import SanctionsCheck

        return SanctionsCheck(self.applications, self.settings, self.check_recorder, self.sanctions_index, self.metrics)

    @cached_property
    def sanctions_reviews(self) -> SanctionsReviews:
        from .services.sanctions import SanctionsReviews

        return SanctionsReviews(self.applications, self.metrics)

    @cached_property
    def sanctions_refresh(self) -> SanctionsListRefresh:
        from .services.sanctions import SanctionsListRefresh

        return SanctionsListRefresh(
            self.list_downloader,
            self.sanctions_index_store,
            self.settings,
            self.metrics,
            self.clock,
            self.customer_rescreening,
        )

    @cached_property
    def customer_projection(self) -> CustomerProjection:
        from .services.rescreening import CustomerProjection

        return CustomerProjection(self.applications, self.customer_profiles, self.settings, self.clock)

    @cached_property
    def customer_rescreening(self) -> CustomerRescreening:
        from .services.rescreening import CustomerRescreening

        return CustomerRescreening(
            self.customer_profiles,
            self.screening_cases,
            self.applications,
            self.sanctions_index_store,
            self.rescreening_queue,
            self.settings,
            self.metrics,
            self.clock,
        )

    @cached_property
    def screening_case_reviews(self) -> ScreeningCaseReviews:
        from .services.rescreening import ScreeningCaseReviews

        return ScreeningCaseReviews(self.screening_cases, self.applications, self.metrics)

    @cached_property
    def outbox(self) -> OutboxRelay:
        from .services.outbox import OutboxRelay

        return OutboxRelay(self.publisher, self.claims, self.counters)

    @cached_property
    def review(self) -> ReviewService:
        from .services.review import ReviewService

        return ReviewService(
            self.applications, self.metrics, self.documents, self.staff, self.customer_directory, self.readings
        )

    @cached_property
    def live_updates(self) -> LiveUpdates:
        from .services.live_updates import LiveUpdates

        return LiveUpdates(
            self.verifier,
            self.connections,
            self.sender,
            self.applications,
            self.metrics,
            self.staff,
            self.review,
        )

    @cached_property
    def maintenance(self) -> Maintenance:
        from .services.maintenance import Maintenance

        return Maintenance(self.applications, self.documents, self.settings, self.readings)

    @cached_property
    def operations(self) -> Operations:
        from .services.operations import Operations

        return Operations(self.repository, self.queue_admin, self.job_runs, self.clock, self.counters)

    @cached_property
    def sweeper(self) -> Sweeper:
        from .services.sweeper import Sweeper

        return Sweeper(
            self.applications,
            self.documents,
            self.check_requests,
            self.address_check,
            self.sanctions_check,
            self.claims,
            self.face_check,
        )

    @cached_property
    def daily_reports(self) -> DailyReports:
        from .services.reporting import DailyReports

        return DailyReports(self.repository, self.reports, self.clock, self.counters)

    @cached_property
    def health(self) -> HealthCheck:
        from .services.health import HealthCheck

        probe_id = "health-check-probe"
        return HealthCheck(
            {
                "dynamodb": lambda: (self.repository.get(probe_id), self.repository.history(probe_id)),
                "parameters": self.settings.policy,
            }
        )


_services: Optional[Services] = None


def services(websocket_api: Any = None) -> Services:
    """This container's services, built on first use from the environment."""
    global _services
    if _services is None:
        _services = Services(Config.from_environment(), websocket_api)
    elif websocket_api is not None and _services.websocket_api is None:
        _services.websocket_api = websocket_api
    return _services


def replace(new: Optional[Services]) -> None:
    """Install another Services (tests with fakes); None makes the next call build afresh."""
    global _services
    _services = new
