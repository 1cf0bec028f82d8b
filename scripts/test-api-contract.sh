#!/usr/bin/env bash
# The OpenAPI contract test: schemathesis (from PyPI) reads the document a real
# `storeplane serve --sim` serves at /openapi.json and runs every check it has in every
# phase (examples, coverage, fuzzing, stateful) against that server, so the document must
# describe exactly what the server does: every field, enum spelling and status.
#
# The server gets a fresh data directory, a free loopback port (port 0, read back from its
# log) and an admin API token. Settings, with the seed that makes a run reproducible, are
# in scripts/contract/schemathesis.toml. schemathesis is installed once into a virtualenv
# under ~/.cache/storeplane-tools (STOREPLANE_TOOLS_CACHE moves it); needs python3 with
# venv.
# Ends with `API contract OK`, or prints each failure with a curl command that reproduces
# it and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# shellcheck source=scripts/tools.sh
source scripts/tools.sh
venv="$(tools_pypi "schemathesis==$SCHEMATHESIS_VERSION")"

cargo build -p storeplane --locked --quiet
bin=target/debug/storeplane

work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

export STOREPLANE_DATA_DIR="$work/data" STOREPLANE_LOG=info STOREPLANE_LOG_FORMAT=json
CONTRACT_TOKEN=$("$bin" token create --user contract --admin 2>"$work/token.log") || {
    cat "$work/token.log" >&2
    exit 1
}
export CONTRACT_TOKEN
# No store quota and no rate limit: the fuzzer creates many stores quickly, and a 409 or
# 429 for each would keep it from reaching what comes after a create.
"$bin" serve --sim --listen 127.0.0.1:0 --store-quota 0 --rate-limit-per-minute 0 \
    >"$work/stdout.log" 2>"$work/server.log" &
pid=$!

address=
for _ in $(seq 1 100); do
    address=$(grep -o '"address":"[^"]*"' "$work/server.log" | head -n 1 | cut -d'"' -f4 || true)
    [ -n "$address" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$address" ]; then
    echo "FAIL: storeplane serve did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
fi
export CONTRACT_BASE_URL="http://$address"
echo "==> schemathesis against $CONTRACT_BASE_URL"

# Every check, except use_after_free: it expects a deleted resource to answer 404, but a
# store is never erased. DELETE moves it to `deleting`, then `deleted`, and it and its
# timeline stay readable as its history, as the document says of DELETE.
status=0
"$venv/bin/st" --config-file scripts/contract/schemathesis.toml run \
    "$CONTRACT_BASE_URL/openapi.json" --checks all --exclude-checks use_after_free \
    --phases examples,coverage,fuzzing,stateful \
    || status=$?

if grep -q '"level":"ERROR"' "$work/server.log"; then
    echo "FAIL: the server logged errors during the run:" >&2
    grep '"level":"ERROR"' "$work/server.log" | head -n 20 >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "FAIL: the API and its OpenAPI document disagree (see above)" >&2
    exit 1
fi
echo "API contract OK"
