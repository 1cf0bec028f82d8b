#!/usr/bin/env bash
# Validates every object storeplane renders for a store against the official Kubernetes
# OpenAPI schemas, strictly (an unknown field anywhere is an error), for Kubernetes 1.33,
# with kubernetes-validate (from PyPI; it ships those schemas, one set per release):
#   - a self-check first: a good Deployment passes; an unknown field in a container, a
#     wrong type, an apiVersion 1.33 does not serve and a kind with no schema all fail;
#   - `storeplane render` for every engine and every plan, with the Gateway and the
#     Ingress front door, and for every engine with TLS, a cert-manager ClusterIssuer and
#     internet egress;
#   - every file in crates/blueprint/tests/golden/ (with the engine steps' objects);
#   - every extra FILE given: the chart's renders (scripts/test-chart.sh passes them).
# HTTPRoutes, and in the chart's renders its Gateway (Gateway API CRDs, in no core
# schema), are set aside by kind and counted: scripts/validate-gateway-api.sh validates
# them. Any other object the schemas do not know fails: kubernetes-validate itself only
# warns about those.
#
#   scripts/validate-manifests.sh [FILE...]
#
# Needs python3 with venv. kubernetes-validate is installed once into a venv in
# $STOREPLANE_TOOLS_CACHE (default ~/.cache/storeplane-tools), through pip's cache.
# STOREPLANE_BIN: a storeplane binary already built (otherwise target/debug/storeplane,
# built here if it is not there).
set -euo pipefail
cd "$(dirname "$0")/.."

KUBERNETES_VALIDATE_VERSION="1.37.0"
# The Kubernetes release validated against: the oldest storeplane supports.
KUBERNETES_VERSION="1.33.0"
kubernetes_minor="${KUBERNETES_VERSION%.*}"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# --- kubernetes-validate, once, in a venv keyed by its version ---
# shellcheck source=scripts/tools.sh
source scripts/tools.sh
venv="$(tools_pypi "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}" --only-binary=:all:)"
kv="${venv}/bin/kubernetes-validate"
[ "$("${kv}" --version)" = "${KUBERNETES_VALIDATE_VERSION}" ] ||
    fail "the venv's kubernetes-validate is not ${KUBERNETES_VALIDATE_VERSION}"
echo "==> kubernetes-validate $("${kv}" --version), Kubernetes ${KUBERNETES_VERSION} schemas, strict"

# Splits the documents of FILEs: every one but the Gateway API objects of the KINDS set
# aside (comma-separated: HTTPRoute, or HTTPRoute,Gateway) goes to OUT/NAME (NAME: the
# file's path if relative, else its base name, so the tool's messages name it), and the
# line "DOCUMENTS FILES SET-ASIDE" is printed. Fails on a document that is not an object
# with an apiVersion and a kind, and on a file with no object.
cat >"${work}/split.py" <<'EOF'
import os
import sys

import yaml

out, kinds, files = sys.argv[1], set(sys.argv[2].split(",")), sys.argv[3:]
documents = routes = 0
names = set()
for path in files:
    name = os.path.basename(path) if os.path.isabs(path) else os.path.normpath(path)
    if name in names:
        sys.exit("two files named %s" % name)
    names.add(name)
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    if not docs:
        sys.exit("%s: no object" % path)
    kept = []
    for i, doc in enumerate(docs, 1):
        if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
            sys.exit("%s: document %d is not an object with an apiVersion and a kind" % (path, i))
        if doc["kind"] in kinds and str(doc["apiVersion"]).startswith("gateway.networking.k8s.io/"):
            routes += 1
        else:
            kept.append(doc)
    documents += len(kept)
    target = os.path.join(out, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as f:
        yaml.safe_dump_all(kept, f, sort_keys=False)
print(documents, len(files), routes)
EOF

# strict FILE...: validates every document of FILEs but their Gateway API objects of the
# kinds in `set_aside`, strictly, for KUBERNETES_VERSION. Adds to the counts `validated`,
# `files` and `routes` (the objects set aside); on a failure
# returns 1 with the tool's complaints (or the splitter's) in ${work}/problems. Every
# document must have an "INFO ... passed" line from the tool: a WARN (no schema for the
# kind, or for its apiVersion, in that release) fails like an ERROR.
validated=0
files=0
routes=0
set_aside=HTTPRoute
strict() {
    local out counts docs nfiles nroutes passed
    out="$(mktemp -d "${work}/strict.XXXXXX")"
    counts="$("${venv}/bin/python" "${work}/split.py" "${out}" "${set_aside}" "$@" 2>"${work}/problems")" || return 1
    read -r docs nfiles nroutes <<<"${counts}"
    local inputs=()
    mapfile -t inputs < <(cd "${out}" && find . -type f -name '*.yaml' | sed 's|^\./||' | sort)
    if [ "${docs}" -gt 0 ]; then
        (cd "${out}" && "${kv}" --strict -k "${KUBERNETES_VERSION}" "${inputs[@]}") >"${out}.report" 2>&1 || true
    else
        : >"${out}.report"
    fi
    passed="$(grep -cE "^INFO .* passed for resource .* against version ${kubernetes_minor//./\\.}$" "${out}.report" || true)"
    grep -vE "^INFO .* passed for resource .* against version ${kubernetes_minor//./\\.}$" "${out}.report" >"${work}/problems" || true
    if [ -s "${work}/problems" ] || [ "${passed}" != "${docs}" ]; then
        echo "(${passed} of ${docs} documents passed)" >>"${work}/problems"
        return 1
    fi
    validated=$((validated + docs))
    files=$((files + nfiles))
    routes=$((routes + nroutes))
}

# --- self-check: the validator passes a good object and refuses broken ones ---
self="${work}/self-check"
mkdir -p "${self}"
deployment() {
    cat <<EOF
apiVersion: ${2:-apps/v1}
kind: Deployment
metadata:
  name: web
  namespace: store-demo
spec:
  replicas: ${1:-1}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: docker.io/library/nginx:1.27.3
        ports:
        - containerPort: 8080
          name: http
EOF
}
deployment >"${self}/good.yaml"
deployment | sed 's/^\(        image: .*\)$/\1\n        imagePullPolicyy: Always/' >"${self}/unknown-field.yaml"
deployment '"two"' >"${self}/wrong-type.yaml"
deployment 1 apps/v1beta1 >"${self}/unserved-api.yaml"
cat >"${self}/unknown-kind.yaml" <<'EOF'
apiVersion: shop.example.com/v1
kind: Storefront
metadata:
  name: web
spec:
  replicas: 1
EOF
echo "==> self-check"
strict "${self}/good.yaml" || fail "a valid Deployment does not pass: $(cat "${work}/problems")"
[ "${validated}" = 1 ] || fail "the self-check's valid Deployment was not counted"
# name|what the tool must say about it
broken=(
    "unknown-field|Additional properties are not allowed ('imagePullPolicyy' was unexpected)"
    "wrong-type|'two' is not of type 'integer'"
    "unserved-api|Couldn't find schema for kind Deployment with api version apps/v1beta1"
    "unknown-kind|Couldn't find schema for kind Storefront"
)
for entry in "${broken[@]}"; do
    name="${entry%%|*}"
    reason="${entry#*|}"
    if strict "${self}/${name}.yaml"; then
        fail "the ${name} Deployment passed, but strict validation must refuse it"
    fi
    grep -qF -- "${reason}" "${work}/problems" ||
        fail "the ${name} document failed without saying \"${reason}\": $(cat "${work}/problems")"
done
echo "    a valid Deployment passes; ${#broken[@]} broken documents are refused"
validated=0
files=0
routes=0

# --- the stores' objects: every engine, plan and front door, and the goldens ---
storeplane="${STOREPLANE_BIN:-target/debug/storeplane}"
if [ -z "${STOREPLANE_BIN:-}" ] && [ ! -x "${storeplane}" ]; then
    echo "==> building storeplane"
    cargo build --quiet --locked -p storeplane
fi
[ -x "${storeplane}" ] || fail "no storeplane binary at ${storeplane}"

# name|platform settings
platforms=(
    "gateway|front_door: gateway"
    "ingress|front_door: ingress"
    "ingress-tls|front_door: ingress@tls: true@cluster_issuer: letsencrypt@allow_internet_egress: true"
)
id=01936f3e-8b7a-7c2d-9e4f-0123456789ab
renders=()
gateway_renders=0
for entry in "${platforms[@]}"; do
    door="${entry%%|*}"
    settings="${work}/platform-${door}.yaml"
    { tr '@' '\n' <<<"${entry#*|}" && echo "base_domain: shops.example.com"; } >"${settings}"
    plans=(small medium large)
    [ "${door}" = ingress-tls ] && plans=(small)
    for engine in woocommerce medusa; do
        for plan in "${plans[@]}"; do
            file="${work}/render-${engine}-${plan}-${door}.yaml"
            "${storeplane}" render --name demo --id "${id}" --engine "${engine}" --plan "${plan}" \
                --platform-config "${settings}" >"${file}" ||
                fail "storeplane render --engine ${engine} --plan ${plan} (front door ${door}) failed"
            renders+=("${file}")
            [ "${door}" = gateway ] && gateway_renders=$((gateway_renders + 1))
        done
    done
done
echo "==> stores' objects (${#renders[@]} renders: every engine and plan, Gateway and Ingress, Ingress with TLS, issuer and egress)"
strict "${renders[@]}" || fail "a store's objects do not match the Kubernetes ${kubernetes_minor} schemas:
$(cat "${work}/problems")"
[ "${routes}" = "${gateway_renders}" ] ||
    fail "${routes} HTTPRoutes in ${gateway_renders} renders with the Gateway front door (expected one each)"

goldens=(crates/blueprint/tests/golden/*.yaml)
[ -e "${goldens[0]}" ] || fail "no golden files in crates/blueprint/tests/golden"
echo "==> golden files (${#goldens[@]} in crates/blueprint/tests/golden)"
strict "${goldens[@]}" || fail "a golden file's objects do not match the Kubernetes ${kubernetes_minor} schemas:
$(cat "${work}/problems")"

# --- the chart's renders (every object but its Gateway and HTTPRoute) ---
if [ "$#" -gt 0 ]; then
    echo "==> chart renders ($#: $(for file in "$@"; do basename "${file}" .yaml; done | paste -sd, -))"
    set_aside=HTTPRoute,Gateway
    strict "$@" || fail "a chart render's objects do not match the Kubernetes ${kubernetes_minor} schemas:
$(cat "${work}/problems")"
fi

echo "validated ${validated} documents (${files} files) strictly against Kubernetes ${kubernetes_minor}; ${routes} HTTPRoutes and Gateways left to the Gateway API check"
