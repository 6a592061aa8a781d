"""What the capacity model (``bench.capacity``) assumes where the local stack cannot measure: AWS's in-region
latency per call, the face check's calls from its contract for inputs measured before it, and what the client
does per application beyond the measured handlers. Typical published figures, dated with the model's inputs."""
from __future__ import annotations

#: Typical in-region latency of one call (seconds): what turns a call count into Lambda time.
LATENCY = {
    "dynamodb:GetItem": 0.005, "dynamodb:TransactGetItems": 0.008, "dynamodb:Query": 0.006, "dynamodb:BatchGetItem": 0.008,
    "dynamodb:PutItem": 0.007, "dynamodb:UpdateItem": 0.007, "dynamodb:DeleteItem": 0.007,
    "dynamodb:BatchWriteItem": 0.010, "dynamodb:TransactWriteItems": 0.018,
    "s3:GetObject": 0.025, "s3:PutObject": 0.040, "s3:HeadObject": 0.015,
    "sns:PublishBatch": 0.025, "sqs:SendMessage": 0.012, "sqs:ChangeMessageVisibility": 0.010,
    "textract:DetectDocumentText": 1.2, "apigatewaymanagementapi:PostToConnection": 0.020,
    "ssm:GetParametersByPath": 0.030, "https:GET jwks.json": 0.050,
    "rekognition:CreateFaceLivenessSession": 0.15, "rekognition:GetFaceLivenessSessionResults": 0.3,
    "rekognition:DetectFaces": 0.4, "rekognition:CompareFaces": 0.6, "rekognition:SearchFacesByImage": 0.5,
    "rekognition:IndexFaces": 0.6, "cognito-idp:AdminGetUser": 0.04, "cognito-idp:AdminListGroupsForUser": 0.04,
}
DEFAULT_LATENCY = 0.02

#: The face check per application from its contract (FACE-CONTRACT.md), for inputs measured without it.
FACE = {
    "api_handler": {  # consent, a liveness session, its completion: three REST requests
        "invocations": 3,
        "calls": {"dynamodb:GetItem": 3, "dynamodb:TransactWriteItems": 3,
                  "rekognition:CreateFaceLivenessSession": 1, "rekognition:GetFaceLivenessSessionResults": 1},
    },
    "check_face": {
        "invocations": 1,
        "calls": {"dynamodb:GetItem": 1, "dynamodb:TransactWriteItems": 1, "rekognition:DetectFaces": 1,
                  "rekognition:CompareFaces": 1, "rekognition:SearchFacesByImage": 1, "rekognition:IndexFaces": 1},
    },
    "events": 4,  # consent, session, liveness completed, the face check's result: history events to relay
}

#: What the client does per application beyond the measured handlers (see the docstring).
CLIENT = {
    "cognito_sign_ups": 1,
    "cognito_sign_ins": 1,
    "websocket_connections": 1,  # one per applicant, watching all their applications
    "rest_reads_per_frame": 2,  # the console re-reads the application and its history per pushed frame
}
