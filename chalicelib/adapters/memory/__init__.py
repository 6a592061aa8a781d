"""In-memory fakes of every port, for use-case tests that need no AWS and no server.

Each fake keeps the semantics its real adapter has (the contract suite in
``tests/contracts`` runs the same tests against both), so a use case that
works on the fakes works on DynamoDB, S3, SNS and API Gateway too:

* the repository commits a ``Change`` all or nothing, on the same conditions
  as the DynamoDB transaction (version + state of the application read, no
  history event overwritten, the idempotency key not used yet); its cursors
  are opaque and pinned to the partition they page through;
* values go in and come out through JSON, as they do through DynamoDB, so a
  caller can neither change what is stored by mutating what it read nor store
  something DynamoDB could not;
* expiring items (claims, idempotency records, connections) stay until a
  sweep, as DynamoDB's TTL deletes them late; connections past their expiry
  are ignored on read, as the real store does.

Everything is guarded by one lock per fake, like the conditional writes of
the real ones, so concurrent use cases race here the way they race there.
Plain Python: nothing here imports boto3, botocore or pynamodb.
One module per port family; import from the package (``adapters.memory``).
"""

from .applications import InMemoryApplicationRepository, InMemoryClaims, InMemoryQuotas, StaticChainKey
from .customers import InMemoryCustomerProfiles, InMemoryScreeningCases, RecordingWorkQueue
from .documents import (
    PAGE_TEXT_MARKER,
    InMemoryDocumentStore,
    InMemoryOcr,
    InMemoryReportStore,
    StoredObject,
    UploadGrant,
)
from .face import (
    FACES_MARKER,
    HOLDER,
    InMemoryBiometricImages,
    InMemoryFaceRecognition,
    face_image,
    over_memory,
    with_faces,
)
from .federation import InMemoryGroupMembership, StaticProviderTokens
from .identity import FakeTokenVerifier, InMemoryUserDirectory, RecordingMetrics, StaticSettings
from .live import (
    CONNECTION_TTL,
    InMemoryConnectionStore,
    PublishedMessage,
    RecordingEventPublisher,
    RecordingWebSocketSender,
)
from .operations import InMemoryJobRunLog, InMemoryQueueAdmin
from .sanctions import InMemorySanctionsIndexStore, StaticListDownloader

__all__ = [
    "CONNECTION_TTL",
    "FACES_MARKER",
    "HOLDER",
    "InMemoryBiometricImages",
    "InMemoryFaceRecognition",
    "face_image",
    "over_memory",
    "with_faces",
    "FakeTokenVerifier",
    "InMemoryApplicationRepository",
    "InMemoryClaims",
    "InMemoryConnectionStore",
    "InMemoryCustomerProfiles",
    "InMemoryDocumentStore",
    "InMemoryGroupMembership",
    "InMemoryUserDirectory",
    "InMemoryJobRunLog",
    "InMemoryOcr",
    "InMemoryQueueAdmin",
    "InMemoryQuotas",
    "InMemoryReportStore",
    "InMemorySanctionsIndexStore",
    "InMemoryScreeningCases",
    "PAGE_TEXT_MARKER",
    "PublishedMessage",
    "RecordingEventPublisher",
    "RecordingMetrics",
    "RecordingWebSocketSender",
    "RecordingWorkQueue",
    "StaticListDownloader",
    "StaticChainKey",
    "StaticProviderTokens",
    "StaticSettings",
    "StoredObject",
    "UploadGrant",
]
