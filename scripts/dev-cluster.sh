#!/usr/bin/env bash
# A local Kubernetes cluster running storeplane, from nothing, in one command:
#   1. a kind cluster whose node maps ports 80 and 443 to this machine;
#   2. the front door, waited for: by default the Gateway API (its standard CRDs and
#      Traefik with its Gateway provider, in namespace traefik); with FRONT_DOOR=ingress,
#      the legacy ingress-nginx (kind's manifest) and its admission Jobs;
#   3. the storeplane image (Dockerfile) and the store images, WordPress+WooCommerce
#      (images/wordpress-woo) and Medusa (images/medusa), built and loaded into the node;
#   4. the chart installed (or upgraded) with charts/storeplane/values-local.yaml;
#   5. the dashboard URL, a sign-in link and an API token printed.
# Idempotent: run it again after a change and it rebuilds, reloads and upgrades what
# changed, reusing the cluster.
#
# Every request this script makes to the cluster goes to 127.0.0.1 with curl's
# --connect-to, keeping the store's Host header: nothing here needs *.127.0.0.1.nip.io
# to resolve (which takes public DNS). Each failure prints one `FAIL:` line.
#
# Needs: docker (a running engine), kubectl, curl, and kind and helm on PATH or
# downloadable (scripts/tools.sh: pinned versions for Linux and macOS, amd64 and arm64).
# Settings: CLUSTER_NAME (storeplane), NAMESPACE (storeplane), FRONT_DOOR (gateway or
# ingress).
set -eEuo pipefail
cd "$(dirname "$0")/.."

# The node image kind v0.29.0 was released with.
KIND_NODE_IMAGE="docker.io/kindest/node:v1.33.1"
# The Gateway API implementation on kind is Traefik: maintained, conformant with the
# Gateway API v1 (standard channel), and the same implementation k3s bundles, so kind tests
# what k3s users run. Chart 37.1.1 is Traefik v3.5.2, which implements Gateway API v1.3.0.
GATEWAY_API_VERSION="v1.3.0"
GATEWAY_API_CRDS="https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_VERSION}/standard-install.yaml"
TRAEFIK_CHART_REPO="https://traefik.github.io/charts"
TRAEFIK_CHART_VERSION="37.1.1"
# The legacy front door (FRONT_DOOR=ingress): retired by SIG Network in March 2026.
INGRESS_NGINX_VERSION="controller-v1.12.1"
INGRESS_NGINX_MANIFEST="https://raw.githubusercontent.com/kubernetes/ingress-nginx/${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml"

CLUSTER_NAME="${CLUSTER_NAME:-storeplane}"
NAMESPACE="${NAMESPACE:-storeplane}"
FRONT_DOOR="${FRONT_DOOR:-gateway}"
RELEASE=storeplane
HOST=storeplane.127.0.0.1.nip.io
# Where this machine reaches the front door: kind maps the node's port 80 here.
FRONT=127.0.0.1:80
context="kind-${CLUSTER_NAME}"

step() { echo "==> $*" >&2; }
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# A command that fails where nothing else catches it still says so (set -e alone exits
# silently, for instance inside an assignment from a command substitution).
trap 'fail "line ${LINENO}: ${BASH_COMMAND} exited $?"' ERR
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is required ($2)"; }
# curl to the cluster's front door, whatever the URL's host resolves to (or not).
front_curl() { curl --connect-to "::${FRONT}" "$@"; }

case "${FRONT_DOOR}" in
gateway | ingress) ;;
*) fail "FRONT_DOOR is '${FRONT_DOOR}': gateway (the Gateway API through Traefik, the default) or ingress (the legacy ingress-nginx)" ;;
esac
need docker "a container engine: https://docs.docker.com/engine/install/"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
need curl "to reach the cluster and fetch kind or helm"
docker info >/dev/null 2>&1 || fail "docker is installed but its engine does not answer (is it running?)"

# --- tools ---
# shellcheck disable=SC1091 # scripts/tools.sh is checked on its own
source scripts/tools.sh
kind_bin="$(tools_kind)"
helm_bin="$(tools_helm)"
kind() { "${kind_bin}" "$@"; }
helm() { "${helm_bin}" --kube-context "${context}" "$@"; }
k() { kubectl --context "${context}" "$@"; }

# --- the cluster ---
if kind get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; then
    step "kind cluster ${CLUSTER_NAME} exists; reusing it"
else
    step "creating kind cluster ${CLUSTER_NAME} (${KIND_NODE_IMAGE})"
    # The node's ports 80/443 are this machine's; the front door's pods bind them as host
    # ports (ingress-nginx's kind manifest selects the node by its ingress-ready label).
    kind create cluster --name "${CLUSTER_NAME}" --image "${KIND_NODE_IMAGE}" --wait 120s --config - <<'EOF' ||
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    kubeadmConfigPatches:
      - |
        kind: InitConfiguration
        nodeRegistration:
          kubeletExtraArgs:
            node-labels: "ingress-ready=true"
    extraPortMappings:
      - containerPort: 80
        hostPort: 80
        protocol: TCP
      - containerPort: 443
        hostPort: 443
        protocol: TCP
EOF
        fail "kind could not create cluster ${CLUSTER_NAME} (are ports 80 and 443 of this machine free?)"
fi

# --- the front door ---
# Both bind the node's ports 80/443, so a cluster holds one of them.
case "${FRONT_DOOR}" in
gateway) other=ingress-nginx ;;
ingress) other=traefik ;;
esac
if k get namespace "${other}" >/dev/null 2>&1; then
    fail "cluster ${CLUSTER_NAME} already runs ${other} (another FRONT_DOOR); start afresh with: kind delete cluster --name ${CLUSTER_NAME}"
fi

chart_args=()
if [ "${FRONT_DOOR}" = gateway ]; then
    step "Gateway API ${GATEWAY_API_VERSION} CRDs (standard channel)"
    k apply --server-side -f "${GATEWAY_API_CRDS}" >/dev/null ||
        fail "could not apply ${GATEWAY_API_CRDS}"
    k wait --for=condition=Established --timeout=60s \
        crd/gatewayclasses.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io \
        crd/httproutes.gateway.networking.k8s.io >/dev/null ||
        fail "the Gateway API CRDs are not established"

    step "Traefik (chart ${TRAEFIK_CHART_VERSION}) with its Gateway API provider, namespace traefik"
    # Its web and websecure entrypoints (8000, 8443) bind the node's ports 80 and 443; the
    # platform Gateway (charts/storeplane, gateway.create) is storeplane's, not the chart's
    # default one; a ClusterIP Service, since kind has no load balancer.
    helm upgrade --install traefik traefik --repo "${TRAEFIK_CHART_REPO}" --version "${TRAEFIK_CHART_VERSION}" \
        --namespace traefik --create-namespace \
        --set providers.kubernetesGateway.enabled=true \
        --set gateway.enabled=false \
        --set ports.web.hostPort=80 \
        --set ports.websecure.hostPort=443 \
        --set service.type=ClusterIP \
        --wait --timeout 5m >/dev/null ||
        fail "Traefik ${TRAEFIK_CHART_VERSION} did not install (kubectl --context ${context} -n traefik get pods)"
    k -n traefik rollout status deployment/traefik --timeout=300s >/dev/null ||
        fail "Traefik is not ready (kubectl --context ${context} -n traefik logs deploy/traefik)"
    # The class the platform Gateway names (gateway.className: traefik), unless the chart
    # made it already.
    if ! k get gatewayclass traefik >/dev/null 2>&1; then
        k apply -f - >/dev/null <<'EOF' || fail "could not create GatewayClass traefik"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: traefik
spec:
  controllerName: traefik.io/gateway-controller
EOF
    fi
else
    step "ingress-nginx ${INGRESS_NGINX_VERSION} (the legacy front door)"
    k apply -f "${INGRESS_NGINX_MANIFEST}" >/dev/null || fail "could not apply ${INGRESS_NGINX_MANIFEST}"
    k -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s >/dev/null ||
        fail "ingress-nginx is not ready (kubectl --context ${context} -n ingress-nginx get pods)"
    # Its validating webhook fails closed while the Jobs that make and patch its
    # certificate still run: no Ingress may be created before they complete.
    k -n ingress-nginx wait --for=condition=complete job -l app.kubernetes.io/component=admission-webhook \
        --timeout=300s >/dev/null || fail "ingress-nginx's admission Jobs did not complete"
    # values-local.yaml is for the Gateway API: switch the chart and the platform to Ingress.
    chart_args=(
        --set platform.front_door=ingress
        --set platform.ingress_class=nginx
        --set platform.ingress_namespace=ingress-nginx
        --set gateway.create=false
        --set httpRoute.enabled=false
        --set ingress.enabled=true
        --set ingress.className=nginx
        --set provisioning.storefrontCheckVia=ingress-nginx-controller.ingress-nginx.svc:80
    )
fi

# --- images: tagged by content, so a rebuild rolls the pods and an unchanged one does not ---
build_and_load() {
    local name="$1" context_dir="$2" id tag
    step "building ${name}"
    docker build --quiet -t "${name}:build" "${context_dir}" >/dev/null || fail "docker build of ${name} (${context_dir}) failed"
    id="$(docker image inspect -f '{{.Id}}' "${name}:build")" || fail "no image ${name}:build after the build"
    tag="dev-${id#sha256:}"
    tag="${tag:0:16}"
    docker tag "${name}:build" "${name}:${tag}" || fail "could not tag ${name}:${tag}"
    step "loading ${name}:${tag} into ${CLUSTER_NAME}"
    kind load docker-image --name "${CLUSTER_NAME}" "${name}:${tag}" >/dev/null || fail "kind could not load ${name}:${tag}"
    echo "${tag}"
}
storeplane_tag="$(build_and_load storeplane .)" || fail "the storeplane image is not in the cluster"
woo_tag="$(build_and_load storeplane-wordpress-woo images/wordpress-woo)" || fail "the store image is not in the cluster"
medusa_tag="$(build_and_load storeplane-medusa images/medusa)" || fail "the Medusa image is not in the cluster"

# --- storeplane ---
step "installing the chart (release ${RELEASE} in namespace ${NAMESPACE}, front door: ${FRONT_DOOR})"
helm upgrade --install "${RELEASE}" charts/storeplane \
    --namespace "${NAMESPACE}" --create-namespace \
    -f charts/storeplane/values-local.yaml \
    ${chart_args[@]+"${chart_args[@]}"} \
    --set image.tag="${storeplane_tag}" \
    --set "platform.releases.woocommerce.available[0].wordpress_woo=storeplane-wordpress-woo:${woo_tag}" \
    --set "platform.releases.medusa.available[0].medusa=storeplane-medusa:${medusa_tag}" \
    --wait --timeout 5m >/dev/null ||
    fail "helm could not install charts/storeplane (kubectl --context ${context} -n ${NAMESPACE} get pods,events)"
k -n "${NAMESPACE}" rollout status "deployment/${RELEASE}" --timeout=300s >/dev/null ||
    fail "deployment/${RELEASE} is not ready (kubectl --context ${context} -n ${NAMESPACE} logs deploy/${RELEASE})"
if [ "${FRONT_DOOR}" = gateway ]; then
    k -n "${NAMESPACE}" wait --for=condition=Programmed gateway --all --timeout=180s >/dev/null ||
        fail "the platform Gateway in ${NAMESPACE} is not programmed by Traefik (kubectl --context ${context} -n ${NAMESPACE} describe gateway)"
fi

for _ in $(seq 1 60); do
    front_curl -fsS -o /dev/null "http://${HOST}/readyz" && break
    sleep 2
done
front_curl -fsS -o /dev/null "http://${HOST}/readyz" ||
    fail "http://${HOST}/readyz does not answer through the ${FRONT_DOOR} front door at ${FRONT}"

# A fresh one-time sign-in link on every run (the one the server printed at start may be used).
link="$(k -n "${NAMESPACE}" exec "deployment/${RELEASE}" -c storeplane -- storeplane token login-link 2>/dev/null)" ||
    fail "could not make a sign-in link in deployment/${RELEASE}"
token="$(k -n "${NAMESPACE}" exec "deployment/${RELEASE}" -c storeplane -- storeplane token create --user admin --admin --label dev-cluster 2>/dev/null)" ||
    fail "could not mint an API token in deployment/${RELEASE}"

cat <<EOF

storeplane is running on kind cluster ${CLUSTER_NAME} (kubectl context ${context}, front door: ${FRONT_DOOR}).

  Dashboard:    http://${HOST}
  Sign in:      ${link}
                (works once, within 24 h; another: kubectl -n ${NAMESPACE} exec deploy/${RELEASE} -c storeplane -- storeplane token login-link)
  API token:    ${token}

  export STOREPLANE_SERVER=http://${HOST} STOREPLANE_TOKEN=${token}
  storeplane store create demo --plan small --wait

Stores are served at http://<name>.127.0.0.1.nip.io. Those names resolve to 127.0.0.1
through public DNS (nip.io); offline, or behind a resolver that drops such answers, add
them to /etc/hosts:
  127.0.0.1 ${HOST} demo.127.0.0.1.nip.io
Delete everything: kind delete cluster --name ${CLUSTER_NAME}
EOF
