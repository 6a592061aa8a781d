"""The ports: what the use cases need from the outside world, and nothing about how.

Each port is an abstract class. The real adapters (``chalicelib/adapters``)
implement them over DynamoDB, S3, SNS, API Gateway's management API,
Parameter Store and Cognito; the in-memory fakes in
``chalicelib/adapters/memory/`` implement them for use-case tests, and one
contract suite (``tests/contracts``) runs against both so they cannot drift.
One module per concern; import from the package (``services.ports``).
"""

from .applications import ApplicationRepository, ChainKey, Claims, IdempotencyRecord, Page, Quotas
from .common import (
    Clock,
    ConcurrentChange,
    ConnectionGone,
    IdempotentReplay,
    IdGenerator,
    InvalidCursor,
    InvalidToken,
    TooManyConnections,
    TooManySubscriptions,
    new_uuid,
    utc_now,
)
from .customers import CustomerProfiles, ProfilePage, ScreeningCases, WorkQueue
from .documents import DocumentMissing, DocumentStore, Ocr, OcrRefused, ReportStore, Upload
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
from .live import MAX_SUBSCRIPTIONS, ConnectionInfo, ConnectionStore, EventPublisher, WebSocketSender
from .operations import JobRun, JobRunLog, Metrics, QueueAdmin, QueueStatus
from .sanctions import DownloadFailed, ListDownloader, SanctionsIndexStore

__all__ = [
    "ApplicationRepository",
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
    "Metrics",
    "Ocr",
    "OcrRefused",
    "Page",
    "ProfilePage",
    "ProviderTokens",
    "QueueAdmin",
    "QueueStatus",
    "Quotas",
    "ReportStore",
    "SanctionsIndexStore",
    "ScreeningCases",
    "SettingsSource",
    "TokenVerifier",
    "UserDirectory",
    "TooManyConnections",
    "TooManySubscriptions",
    "Upload",
    "WebSocketSender",
    "WorkQueue",
    "new_uuid",
    "utc_now",
]
