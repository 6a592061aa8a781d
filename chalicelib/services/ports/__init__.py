"""The ports: what the use cases need from the outside world, and nothing about how.

Each port is an abstract class. The real adapters (``chalicelib/adapters``)
implement them over DynamoDB, S3, SNS, API Gateway's management API,
Parameter Store and Cognito; the in-memory fakes in
``chalicelib/adapters/memory/`` implement them for use-case tests, and one
contract suite (``tests/contracts``) runs against both so they cannot drift.
One module per concern; import from the package (``services.ports``).
"""

from .applications import (
    ApplicationRepository,
    ChainKey,
    Claims,
    IdempotencyRecord,
    Page,
    Quotas,
    QuotaUse,
    StateCounters,
)
from .common import (
    Clock,
    ConcurrentChange,
    ConnectionGone,
    IdempotentReplay,
    IdGenerator,
    InvalidCursor,
    InvalidToken,
    QuotaFull,
    TooManyConnections,
    TooManySubscriptions,
    new_uuid,
    utc_now,
)
from .customers import CustomerProfiles, ProfilePage, ScreeningCases, WorkQueue
from .documents import (
    Backoff,
    CheckRequests,
    DocumentMissing,
    DocumentStore,
    Ocr,
    OcrRefused,
    OcrThrottled,
    Readings,
    ReportStore,
    Upload,
)
from .face import (
    BiometricImages,
    FaceMatch,
    FaceRecognition,
    ImageRefused,
    IndexedFace,
    LivenessResult,
    LivenessSessionGone,
    NoFaceInImage,
    StoredImage,
)
from .federation import GroupMembership, ProviderTokens
from .identity import DirectoryUser, SettingsSource, TokenVerifier, UserDirectory
from .live import (
    MAX_SUBSCRIPTIONS,
    WATCHING_ALL_FOR,
    ConnectionInfo,
    ConnectionStore,
    EventPublisher,
    WatchMark,
    WebSocketSender,
)
from .operations import JobRun, JobRunLog, Metrics, QueueAdmin, QueueStatus
from .sanctions import DownloadFailed, ListDownloader, SanctionsIndexStore

__all__ = [
    "ApplicationRepository",
    "Backoff",
    "BiometricImages",
    "FaceMatch",
    "FaceRecognition",
    "ImageRefused",
    "IndexedFace",
    "LivenessResult",
    "LivenessSessionGone",
    "NoFaceInImage",
    "StoredImage",
    "ChainKey",
    "CheckRequests",
    "Claims",
    "Clock",
    "ConcurrentChange",
    "ConnectionGone",
    "ConnectionInfo",
    "ConnectionStore",
    "CustomerProfiles",
    "DocumentMissing",
    "DocumentStore",
    "DownloadFailed",
    "EventPublisher",
    "DirectoryUser",
    "GroupMembership",
    "IdGenerator",
    "IdempotencyRecord",
    "IdempotentReplay",
    "InvalidCursor",
    "InvalidToken",
    "JobRun",
    "JobRunLog",
    "ListDownloader",
    "MAX_SUBSCRIPTIONS",
    "WATCHING_ALL_FOR",
    "Metrics",
    "Ocr",
    "OcrRefused",
    "OcrThrottled",
    "Page",
    "ProfilePage",
    "ProviderTokens",
    "QueueAdmin",
    "QueueStatus",
    "QuotaFull",
    "QuotaUse",
    "Quotas",
    "Readings",
    "ReportStore",
    "SanctionsIndexStore",
    "ScreeningCases",
    "SettingsSource",
    "StateCounters",
    "TokenVerifier",
    "UserDirectory",
    "TooManyConnections",
    "TooManySubscriptions",
    "Upload",
    "WatchMark",
    "WebSocketSender",
    "WorkQueue",
    "new_uuid",
    "utc_now",
]
