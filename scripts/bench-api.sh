#!/usr/bin/env bash
# Load benchmark of the HTTP API on loopback (prints figures; asserts nothing).
#
#   scripts/bench-api.sh            # SQLite in a temporary data directory
#
# 1. `POST /api/v1/stores` with wrk until at least 10,000 stores exist: creates per second.
# 2. `GET /api/v1/stores?limit=50` with 10,000 stores: requests per second and latency.
# 3. The server's resident memory with 10,000 stores.
# Needs wrk (Debian package `wrk`).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { echo "install wrk first (apt-get install wrk)" >&2; exit 1; }
cargo build --release -p storeplane --quiet
bin=target/release/storeplane
data=$(mktemp -d)
port=${BENCH_PORT:-18080}
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT

export STOREPLANE_DATA_DIR="$data" STOREPLANE_LOG=warn
STOREPLANE_TOKEN=$($bin token create --user bench --admin 2>/dev/null)
export STOREPLANE_TOKEN
$bin serve --sim --listen "127.0.0.1:$port" --store-quota 0 --rate-limit-per-minute 0 >/dev/null &
pid=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

echo "== POST /api/v1/stores (2 threads, 16 connections, 10 s)"
wrk -t2 -c16 -d10s -s scripts/bench/create-stores.lua "http://127.0.0.1:$port" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
stores=$(sqlite3 "$data/storeplane.db" "select count(*) from stores" 2>/dev/null || echo "?")
echo "stores in the database: $stores"

echo "== GET /api/v1/stores?limit=50 (2 threads, 32 connections, 15 s)"
wrk -t2 -c32 -d15s --latency -s scripts/bench/list-stores.lua "http://127.0.0.1:$port" | grep -E "Requests/sec|Latency |99%|50%|requests in|Non-2xx"

echo "== server memory"
grep -E "VmRSS|VmHWM" "/proc/$pid/status"
