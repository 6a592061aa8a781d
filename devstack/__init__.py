"""The one-command local stack (developer tooling only; never shipped).

``python -m devstack up`` runs moto's server mode in-process as the local AWS,
provisions it from ``resources.yaml`` (the same template the deployed stack
uses, so the local schema cannot drift), seeds demo users, serves the
unchanged ``app.py`` with ``chalice local`` and adds what ``chalice local``
lacks: pumps that deliver S3, SQS, SNS and DynamoDB stream events to the app's
handlers, a scheduler for its schedules, and a WebSocket gateway.

Nothing under ``chalicelib/`` may import this package.
"""
