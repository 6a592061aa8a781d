"""Where things are: every resource name and URL the app needs, from the environment.

``chalice deploy`` sets these from ``.chalice/config.json`` (recorded from the
resources stack's outputs); the local stack sets the same names from the same
template. Only names and endpoints differ between AWS and the local stack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Config:
    region: str
    applications_table: str
    history_table: str
    idempotency_table: str
    connections_table: str
    documents_bucket: str
    reports_bucket: str
    events_topic_arn: str
    address_check_queue: str
    address_check_dlq: str
    sanctions_queue: str
    sanctions_dlq: str
    sanctions_bucket: str
    settings_path: str
    cognito_issuer: str
    user_pool_client_id: str
    cognito_jwks_url: str
    websocket_domain: Optional[str]
    websocket_stage: str
    settings_cache_seconds: int
    # The face check (issue 17): the biometrics bucket (liveness images), the face-check queue and its DLQ,
    # the stage's Rekognition collection and the key liveness images are encrypted with.
    biometrics_bucket: str = ""
    face_check_queue: str = ""
    face_check_dlq: str = ""
    face_collection_id: str = ""
    data_key_arn: str = ""
    user_pool_id: str = ""
    websocket_url: Optional[str] = None  # what browsers connect to, when not wss://<domain>/<stage>
    cognito_endpoint: Optional[str] = None  # Cognito's API for browsers, when not the region's
    s3_endpoint: Optional[str] = None  # where presigned document URLs point, when not AWS's
    # Staff (reviewers, operators) sign in to a user pool of their own: its tokens are the only
    # ones staff routes accept, and the customer pool's the only ones applicant routes accept.
    staff_user_pool_id: str = ""
    staff_user_pool_client_id: str = ""
    staff_cognito_issuer: str = ""
    staff_cognito_jwks_url: str = ""
    # Customers re-screened when the lists change (issue 20): their profiles, the cases, the queues.
    customers_table: str = ""
    screening_cases_table: str = ""
    customer_projection_queue: str = ""
    customer_projection_dlq: str = ""
    customer_rescreening_queue: str = ""
    customer_rescreening_dlq: str = ""
    # The applicant's liveness capture (issue 17), for the console: "aws" streams to Rekognition Face
    # Liveness with the Amplify component (credentials from the identity pool); another provider name is a
    # stand-in at ``liveness_endpoint`` (the local stack's: "local").
    liveness_provider: str = "aws"
    liveness_endpoint: Optional[str] = None
    liveness_identity_pool_id: str = ""
    #: How long one answer of the staff pool (exists, enabled, groups) is trusted: the removal bound.
    staff_status_cache_seconds: int = 30
    #: The KMS HMAC key the history chain's MAC key is derived from (resources.yaml: HistoryChainKey).
    history_chain_key_arn: str = ""
    # Issue 21: sign-in through managed login (authorization code + PKCE). The user pool domains' base URLs
    # (the local stack: its stand-in of their endpoints), the staff pool's corporate provider and how its
    # groups map to staff groups (the pre-token-generation trigger), applicants' optional social providers.
    staff_auth_url: str = ""
    staff_identity_provider: str = ""
    staff_provider_issuer: str = ""
    staff_provider_client_id: str = ""
    staff_groups_claim: str = "groups"
    staff_provider_groups: str = ""
    staff_require_provider_mfa: bool = True
    customer_auth_url: str = ""
    customer_identity_providers: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls, env: Optional[Mapping[str, str]] = None) -> Config:
        env = os.environ if env is None else env
        get = env.get
        return cls(
            region=get("AWS_REGION") or get("AWS_DEFAULT_REGION") or "us-east-1",
            applications_table=get("APPLICATIONS_TABLE_NAME", ""),
            history_table=get("HISTORY_TABLE_NAME", ""),
            idempotency_table=get("IDEMPOTENCY_TABLE_NAME", ""),
            connections_table=get("CONNECTIONS_TABLE_NAME", ""),
            documents_bucket=get("DOCUMENTS_BUCKET_NAME", ""),
            reports_bucket=get("REPORTS_BUCKET_NAME", ""),
            events_topic_arn=get("EVENTS_TOPIC_ARN", ""),
            address_check_queue=get("ADDRESS_CHECK_QUEUE_NAME", ""),
            address_check_dlq=get("ADDRESS_CHECK_DLQ_NAME", ""),
            sanctions_queue=get("SANCTIONS_SCREENING_QUEUE_NAME", ""),
            sanctions_dlq=get("SANCTIONS_SCREENING_DLQ_NAME", ""),
            sanctions_bucket=get("SANCTIONS_BUCKET_NAME", ""),
            settings_path=get("SETTINGS_PATH", ""),
            cognito_issuer=get("COGNITO_ISSUER", ""),
            user_pool_client_id=get("USER_POOL_CLIENT_ID", ""),
            cognito_jwks_url=get("COGNITO_JWKS_URL", ""),
            websocket_domain=get("WEBSOCKET_DOMAIN") or None,
            websocket_stage=get("WEBSOCKET_STAGE", "api"),
            settings_cache_seconds=int(get("SETTINGS_CACHE_SECONDS", "60")),
            biometrics_bucket=get("BIOMETRICS_BUCKET_NAME", ""),
            face_check_queue=get("FACE_CHECK_QUEUE_NAME", ""),
            face_check_dlq=get("FACE_CHECK_DLQ_NAME", ""),
            face_collection_id=get("FACE_COLLECTION_ID", ""),
            data_key_arn=get("DATA_KEY_ARN", ""),
            user_pool_id=get("USER_POOL_ID", ""),
            customers_table=get("CUSTOMERS_TABLE_NAME", ""),
            screening_cases_table=get("SCREENING_CASES_TABLE_NAME", ""),
            customer_projection_queue=get("CUSTOMER_PROJECTION_QUEUE_NAME", ""),
            customer_projection_dlq=get("CUSTOMER_PROJECTION_DLQ_NAME", ""),
            customer_rescreening_queue=get("CUSTOMER_RESCREENING_QUEUE_NAME", ""),
            customer_rescreening_dlq=get("CUSTOMER_RESCREENING_DLQ_NAME", ""),
            websocket_url=get("WEBSOCKET_URL") or None,
            # the variables boto3 itself reads, so browsers talk to what the app talks to
            cognito_endpoint=get("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER") or get("AWS_ENDPOINT_URL") or None,
            s3_endpoint=get("AWS_ENDPOINT_URL_S3") or get("AWS_ENDPOINT_URL") or None,
            staff_user_pool_id=get("STAFF_USER_POOL_ID", ""),
            staff_user_pool_client_id=get("STAFF_USER_POOL_CLIENT_ID", ""),
            staff_status_cache_seconds=int(get("STAFF_STATUS_CACHE_SECONDS", "30")),
            history_chain_key_arn=get("HISTORY_CHAIN_KEY_ARN", ""),
            staff_cognito_issuer=get("STAFF_COGNITO_ISSUER", ""),
            staff_cognito_jwks_url=get("STAFF_COGNITO_JWKS_URL", ""),
            staff_auth_url=get("STAFF_AUTH_DOMAIN_URL", ""),
            staff_identity_provider=get("STAFF_IDENTITY_PROVIDER", ""),
            staff_provider_issuer=get("STAFF_PROVIDER_ISSUER", ""),
            staff_provider_client_id=get("STAFF_PROVIDER_CLIENT_ID", ""),
            staff_groups_claim=get("STAFF_GROUPS_CLAIM") or "groups",
            staff_provider_groups=get("STAFF_PROVIDER_GROUPS", ""),
            staff_require_provider_mfa=get("STAFF_REQUIRE_PROVIDER_MFA", "true").lower() != "false",
            customer_auth_url=get("CUSTOMER_AUTH_DOMAIN_URL", ""),
            customer_identity_providers=tuple(
                name.strip() for name in get("CUSTOMER_IDENTITY_PROVIDERS", "").split(",") if name.strip()
            ),
            liveness_provider=get("LIVENESS_PROVIDER") or "aws",
            liveness_endpoint=get("LIVENESS_ENDPOINT") or None,
            liveness_identity_pool_id=get("LIVENESS_IDENTITY_POOL_ID", ""),
        )
