#!/usr/bin/env bash
# Deploys the same CDK app to LocalStack (needs Docker and, since March 2026, a LocalStack auth token; the
# WebSocket API is a paid LocalStack feature), then writes .agentplane/localstack.json for the e2e suite:
#   AGENTPLANE_LOCAL_JSON=.agentplane/localstack.json npm run test:e2e
set -euo pipefail
cd "$(dirname "$0")/.."
if ! docker info >/dev/null 2>&1; then
  echo "localstack:deploy needs a running Docker engine with LocalStack (localstack start). Without Docker, use 'npm start' (the built-in local cloud)." >&2
  exit 1
fi
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost.localstack.cloud:4566}"
mkdir -p .agentplane
npx cdklocal bootstrap
npx cdklocal deploy Agentplane --require-approval never --outputs-file .agentplane/localstack-outputs.json
npx tsx localstack/localstack-target.ts .agentplane/localstack-outputs.json .agentplane/localstack.json
