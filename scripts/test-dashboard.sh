#!/usr/bin/env bash
# Tests the web dashboard (dashboard/): types, component tests, the production build (and
# that it matches the committed dashboard/dist, which the binary embeds), then browser tests
# in headless Chromium against a real `storeplane serve` on the simulated cluster.
#
# Needs Node.js 20.19 or newer with npm, Debian's `chromium` (CHROMIUM overrides
# /usr/bin/chromium), gzip, and a Rust toolchain. Prints the gzipped size of the initial
# JavaScript and the figures the browser tests measured.
#
#   scripts/test-dashboard.sh                 # everything
#   scripts/test-dashboard.sh --screenshots   # also refresh docs/images/dashboard-*.png
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

screenshots=""
if [ "${1:-}" = "--screenshots" ]; then
    screenshots="$root/docs/images"
fi

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    echo "error: no Chromium at $chromium; install Debian's chromium package (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "==> npm ci"
(cd dashboard && npm ci --no-audit --no-fund --loglevel=error)

echo "==> typecheck"
(cd dashboard && npm run --silent typecheck)

echo "==> component tests"
(cd dashboard && npm test --silent)

echo "==> production build matches dashboard/dist"
(cd dashboard && npx vite build --outDir "$work/dist" --emptyOutDir --logLevel warn)
if ! diff -r "$work/dist" dashboard/dist; then
    echo "error: dashboard/dist is stale: run 'npm run build' in dashboard/ and commit dashboard/dist" >&2
    exit 1
fi

echo "==> bundle size"
initial=0
while read -r script; do
    size=$(gzip -9 -c "dashboard/dist/$script" | wc -c)
    initial=$((initial + size))
    echo "    $script: $size bytes gzipped"
done < <(grep -oE 'assets/[^"]+\.js' dashboard/dist/index.html | sort -u)
echo "figure: initial JavaScript = $initial bytes gzipped ($((initial / 1024)) KiB; budget 150 KiB)"
if [ "$initial" -gt $((150 * 1024)) ]; then
    echo "error: the initial JavaScript is over its 150 KiB budget" >&2
    exit 1
fi

echo "==> cargo build -p storeplane"
cargo build -p storeplane --locked
target_dir=${CARGO_TARGET_DIR:-$root/target}

echo "==> browser tests"
(
    cd dashboard
    STOREPLANE_BIN="$target_dir/debug/storeplane" \
        CHROMIUM="$chromium" \
        E2E_SCREENSHOTS="${screenshots:-$work/screenshots}" \
        E2E_FAILURES="$root/target/dashboard-e2e-failures" \
        node e2e/run.mjs
)
