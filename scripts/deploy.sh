#!/usr/bin/env bash
# Deploy a stage to AWS: resources stack -> record outputs -> chalice deploy -> post-deploy wiring.
#   scripts/deploy.sh dev
# Needs AWS credentials and the dev requirements (./dev test once creates .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE="${1:-dev}"
STACK="account-opening-${STAGE}-resources"
PY=.venv/bin/python

# 1. Stateful resources, deployed as their own stack.
aws cloudformation deploy --template-file resources.yaml --stack-name "$STACK" \
  --parameter-overrides "Stage=${STAGE}" --no-fail-on-empty-changeset

# 2. Its outputs become the stage's environment variables and IAM policy.
$PY -m scripts.record_resources --stack-name "$STACK" --stage "$STAGE"

# 3. The app: API Gateway (REST + WebSocket), Lambdas and their event sources.
.venv/bin/chalice deploy --stage "$STAGE"

# 4. What Chalice cannot express:
#    - the WebSocket management endpoint the SNS notifier sends through;
#    - ReportBatchItemFailures on the SQS event source, so one bad message
#      never makes the good ones of its batch retry.
WS_API_ID=$($PY -c "import json;d=json.load(open('.chalice/deployed/${STAGE}.json'));print(next(r['websocket_api_id'] for r in d['resources'] if r.get('resource_type')=='websocket_api'))")
REGION=$(aws configure get region || echo "${AWS_REGION:-us-east-1}")
$PY -m scripts.record_resources --stack-name "$STACK" --stage "$STAGE" \
  --extra "WEBSOCKET_DOMAIN=${WS_API_ID}.execute-api.${REGION}.amazonaws.com" --extra "WEBSOCKET_STAGE=api"
.venv/bin/chalice deploy --stage "$STAGE"
for uuid in $(aws lambda list-event-source-mappings --function-name "account-opening-${STAGE}-check_address" \
              --query 'EventSourceMappings[].UUID' --output text); do
  aws lambda update-event-source-mapping --uuid "$uuid" --function-response-types ReportBatchItemFailures >/dev/null
done
echo "deployed stage ${STAGE}"
