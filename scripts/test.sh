#!/usr/bin/env bash
# Runs every test storeplane has: formatting, lints, the whole workspace's unit,
# repository (SQLite and PostgreSQL) and integration tests, the OpenAPI contract test
# (schemathesis against a real server; needs python3 with venv), then the Helm chart and
# scripts (helm lint and template, kubectl apply to kube-sim, shellcheck), the dashboard
# (typecheck, unit tests, reproducible build, browser tests in chromium) and the Medusa
# application (images/medusa built with npm and run for real: setup, server and worker, a
# checkout; needs Node.js 20.19+ and redis-server) and the backup steps (restic against
# MariaDB, PostgreSQL and moto's S3 server; needs restic).
#
# PostgreSQL must be reachable: STOREPLANE_TEST_DATABASE_URL, by default
# postgres://postgres@127.0.0.1:5432/test. The PostgreSQL tests never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

export STOREPLANE_TEST_DATABASE_URL="${STOREPLANE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test"
# The CLI tests render the chart's ClusterRole with the pinned helm.
STOREPLANE_HELM="$(scripts/fetch-helm.sh)"
export STOREPLANE_HELM
cargo test --workspace --locked

echo "==> API contract (schemathesis against a real server)"
scripts/test-api-contract.sh

echo "==> chart and scripts"
scripts/test-chart.sh

echo "==> dashboard"
scripts/test-dashboard.sh

echo "==> Medusa application (built and run against PostgreSQL and Redis)"
scripts/test-medusa-app.sh

echo "==> backup steps (restic against MariaDB, PostgreSQL and an S3 server)"
scripts/test-backup-steps.sh
