#!/usr/bin/env bash
# Validates the Gateway API objects storeplane renders against the Gateway API's published
# CRD schemas (scripts/schemas/validate-gateway-api.mjs, with the validators that
# @kubernetes-models/gateway-api generates from them):
#   - a self-check first: a good HTTPRoute passes and deliberately broken ones fail;
#   - every store's HTTPRoute from `storeplane render` with the Gateway front door, for
#     every engine and plan, TLS off and on, with and without a listener (sectionName);
#   - every HTTPRoute and Gateway in the extra FILEs given (the chart's renders).
#
#   scripts/validate-gateway-api.sh [FILE...]
#
# Needs node and npm; the packages are pinned by scripts/schemas/package-lock.json and
# installed with `npm ci --prefer-offline` (from npm's cache once fetched).
# STOREPLANE_BIN: a storeplane binary already built (otherwise built here).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

schemas=scripts/schemas
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

echo "==> Gateway API schemas (npm ci in ${schemas})"
(cd "${schemas}" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null) ||
    fail "npm ci in ${schemas} failed"
validate() { node "${schemas}/validate-gateway-api.mjs" "$@"; }
validate --self-check || fail "the Gateway API validators do not refuse broken documents"

storeplane="${STOREPLANE_BIN:-}"
if [ -z "${storeplane}" ]; then
    cargo build --quiet --locked -p storeplane
    storeplane="${CARGO_TARGET_DIR:-target}/debug/storeplane"
fi

id=01936f3e-8b7a-7c2d-9e4f-0123456789ab
renders=()
for engine in woocommerce medusa; do
    for plan in small medium large; do
        for tls in off on; do
            for listener in "" https; do
                file="${work}/${engine}-${plan}-tls-${tls}${listener:+-${listener}}.yaml"
                flags=(--front-door gateway --base-domain shops.example.com)
                [ "${tls}" = on ] && flags+=(--store-https)
                [ -n "${listener}" ] && flags+=(--gateway-listener "${listener}")
                "${storeplane}" render --name demo --engine "${engine}" --plan "${plan}" --id "${id}" \
                    "${flags[@]}" >"${file}" ||
                    fail "storeplane render --engine ${engine} --plan ${plan} ${flags[*]} failed"
                renders+=("${file}")
            done
        done
    done
done
echo "==> stores' HTTPRoutes (${#renders[@]} renders: every engine and plan, TLS off and on, with and without a listener)"
validate --expect HTTPRoute "${renders[@]}" || fail "a store's HTTPRoute does not match the Gateway API schema"
if [ "$(grep -c '^kind: HTTPRoute$' "${renders[@]}" | awk -F: '{ n += $2 } END { print n }')" != "${#renders[@]}" ]; then
    fail "not every render has exactly one HTTPRoute"
fi

if [ "$#" -gt 0 ]; then
    echo "==> chart renders: $*"
    validate --expect HTTPRoute --expect Gateway "$@" || fail "a chart's Gateway or HTTPRoute does not match the Gateway API schema"
fi
