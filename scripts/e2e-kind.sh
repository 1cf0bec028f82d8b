#!/usr/bin/env bash
# The whole definition of done on a real cluster, as a test: exits non-zero at the first
# failure, naming it.
#   1. create a store through the API and wait until it is ready;
#   2. open the storefront, add the sample product to the cart and check out with
#      cash on delivery through the WooCommerce Store API;
#   3. reveal the admin credentials (once; a second reveal must be refused) and find the
#      order through the WooCommerce REST API, signed in as that admin;
#   4. beside it, a Medusa store (created with the first, provisioned at the same time):
#      its publishable key on the store, a checkout through the Store API with that key
#      and the order found through the Admin API as the revealed admin
#      (scripts/medusa-checkout.mjs, through the front door);
#   5. helm upgrade storeplane to a new image, then helm rollback: the WooCommerce store,
#      its namespace and its order are untouched by both;
#   6. delete both stores and confirm their namespaces are gone.
#
# Runs against the cluster scripts/dev-cluster.sh makes (and runs it first if that cluster
# does not exist), with either front door (the Gateway API through Traefik, or the legacy
# ingress-nginx). Every request goes to the front door at 127.0.0.1:80 with curl's
# --connect-to, keeping each URL's Host header, so no name needs public DNS; every failure
# prints one `FAIL:` line naming it.
# Needs: docker, kubectl, kind, helm (scripts/tools.sh finds or fetches them), curl, jq,
# node (the Medusa checkout).
# Settings: CLUSTER_NAME (storeplane), NAMESPACE (storeplane), E2E_STORE (e2e-<time>),
# E2E_READY_TIMEOUT seconds (900), FRONT_DOOR (passed to dev-cluster.sh when it runs).
set -eEuo pipefail
cd "$(dirname "$0")/.."

CLUSTER_NAME="${CLUSTER_NAME:-storeplane}"
NAMESPACE="${NAMESPACE:-storeplane}"
RELEASE=storeplane
API="http://storeplane.127.0.0.1.nip.io"
# Where this machine reaches the front door: kind maps the node's port 80 here.
FRONT=127.0.0.1:80
STORE="${E2E_STORE:-e2e-$(date +%s)}"
READY_TIMEOUT="${E2E_READY_TIMEOUT:-900}"
context="kind-${CLUSTER_NAME}"
started="$(date +%s)"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

step() { echo "==> [$(($(date +%s) - started))s] $*"; }
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# A command that fails where nothing else catches it still says so (set -e alone exits
# silently, for instance inside an assignment from a command substitution).
trap 'fail "line ${LINENO}: ${BASH_COMMAND} exited $?"' ERR
for tool in docker kubectl curl jq node; do
    command -v "${tool}" >/dev/null 2>&1 || fail "${tool} is required"
done
k() { kubectl --context "${context}" "$@"; }
# curl to the cluster's front door, whatever the URL's host resolves to (or not).
front_curl() { curl --connect-to "::${FRONT}" "$@"; }

if ! kubectl config get-contexts -o name | grep -qx "${context}"; then
    step "no cluster ${CLUSTER_NAME} yet: running scripts/dev-cluster.sh"
    CLUSTER_NAME="${CLUSTER_NAME}" NAMESPACE="${NAMESPACE}" scripts/dev-cluster.sh ||
        fail "scripts/dev-cluster.sh could not make the cluster"
fi
# shellcheck disable=SC1091 # scripts/tools.sh is checked on its own
source scripts/tools.sh
helm_bin="$(tools_helm)"
kind_bin="$(tools_kind)"
helm() { "${helm_bin}" --kube-context "${context}" "$@"; }

token="$(k -n "${NAMESPACE}" exec "deployment/${RELEASE}" -c storeplane -- storeplane token create --user e2e --admin --label e2e 2>/dev/null)" ||
    fail "could not mint an API token in deployment/${RELEASE}"
[ -n "${token}" ] || fail "could not mint an API token in deployment/${RELEASE}"

# api METHOD PATH [JSON]: the response body on stdout, the status code in ${work}/status.
api() {
    local method="$1" path="$2" body="${3:-}"
    local args=(-sS -X "${method}" -H "Authorization: Bearer ${token}" -o "${work}/body" -w '%{http_code}')
    if [ -n "${body}" ]; then
        args+=(-H 'Content-Type: application/json' --data "${body}")
    fi
    front_curl "${args[@]}" "${API}${path}" >"${work}/status" ||
        fail "${method} ${path}: no answer from ${API} through the front door at ${FRONT}"
    cat "${work}/body"
}
status() { cat "${work}/status"; }

store_field() {
    local body
    body="$(api GET "/api/v1/stores/$1")" || fail "GET /api/v1/stores/$1 failed"
    jq -r ".$2" <<<"${body}" || fail "GET /api/v1/stores/$1 answered $(status) with no JSON: ${body}"
}

wait_for_status() {
    local id="$1" want="$2" timeout="$3" deadline now
    deadline=$(($(date +%s) + timeout))
    while :; do
        now="$(store_field "${id}" status)" || fail "could not read the status of store ${id}"
        [ "${now}" = "${want}" ] && return 0
        if [ "${now}" = "failed" ]; then
            api GET "/api/v1/stores/${id}/events?limit=200" | jq -r '.items[] | "  \(.at) \(.kind): \(.message)"' >&2 || true
            fail "store ${id} failed: $(store_field "${id}" status_reason)"
        fi
        [ "$(date +%s)" -lt "${deadline}" ] || fail "store ${id} is ${now}, not ${want}, after ${timeout}s"
        sleep 3
    done
}

# --- 1. create and wait ---
step "creating store ${STORE}"
created="$(api POST /api/v1/stores "{\"name\":\"${STORE}\",\"engine\":\"woocommerce\",\"plan\":\"small\"}")"
[ "$(status)" = 202 ] || fail "POST /api/v1/stores answered $(status): ${created}"
id="$(jq -r .id <<<"${created}")" || fail "POST /api/v1/stores answered no JSON: ${created}"
namespace="$(jq -r .namespace <<<"${created}")" || fail "POST /api/v1/stores answered no JSON: ${created}"
shop="$(jq -r .url <<<"${created}")" || fail "POST /api/v1/stores answered no JSON: ${created}"
medusa_created="$(api POST /api/v1/stores "{\"name\":\"${STORE}-medusa\",\"engine\":\"medusa\",\"plan\":\"small\"}")"
[ "$(status)" = 202 ] || fail "POST /api/v1/stores (medusa) answered $(status): ${medusa_created}"
medusa_id="$(jq -r .id <<<"${medusa_created}")" || fail "POST /api/v1/stores answered no JSON: ${medusa_created}"
medusa_namespace="$(jq -r .namespace <<<"${medusa_created}")"
step "waiting for ${STORE} (${id}) to become ready"
wait_for_status "${id}" ready "${READY_TIMEOUT}"
namespace_uid="$(k get namespace "${namespace}" -o jsonpath='{.metadata.uid}')" ||
    fail "store ${id} is ready but its namespace ${namespace} is not there"

# --- 2. storefront, cart, cash-on-delivery checkout ---
step "opening the storefront ${shop}"
front="$(front_curl -fsS "${shop}/")" || fail "the storefront ${shop}/ does not answer"
grep -qi 'woocommerce' <<<"${front}" || fail "the storefront does not look like a WooCommerce shop"

jar="${work}/shop-cookies"
store_api() {
    local method="$1" path="$2" body="${3:-}"
    local args=(-sS -X "${method}" -b "${jar}" -c "${jar}" -D "${work}/headers" -o "${work}/body" -w '%{http_code}')
    [ -n "${nonce:-}" ] && args+=(-H "Nonce: ${nonce}")
    [ -n "${cart_token:-}" ] && args+=(-H "Cart-Token: ${cart_token}")
    if [ -n "${body}" ]; then
        args+=(-H 'Content-Type: application/json' --data "${body}")
    fi
    front_curl "${args[@]}" "${shop}/wp-json/wc/store/v1${path}" >"${work}/status" ||
        fail "${method} ${shop}/wp-json/wc/store/v1${path}: no answer through the front door at ${FRONT}"
    cat "${work}/body"
}
header() { grep -i "^$1:" "${work}/headers" | tail -n 1 | cut -d' ' -f2- | tr -d '\r'; }

products="$(store_api GET '/products?sku=storeplane-sample')" || fail "the Store API does not list products"
product="$(jq -r '.[0].id // empty' <<<"${products}")" || fail "the Store API answered $(status) with no JSON: ${products}"
[ -n "${product}" ] || fail "the sample product (sku storeplane-sample) is not in the Store API"
store_api GET /cart >/dev/null
nonce="$(header nonce)" || fail "the Store API's cart answered $(status) without a Nonce header"
cart_token="$(header cart-token)" || fail "the Store API's cart answered $(status) without a Cart-Token header"
step "adding product ${product} to the cart"
cart="$(store_api POST /cart/add-item "{\"id\":${product},\"quantity\":1}")" || fail "add-item failed"
[ "$(status)" = 201 ] || [ "$(status)" = 200 ] || fail "add-item answered $(status): ${cart}"
[ "$(jq -r '.items | length' <<<"${cart}")" = 1 ] || fail "the cart does not hold the product: ${cart}"
if [ "$(jq -r '.needs_shipping' <<<"${cart}")" = true ] &&
    [ "$(jq -r '[.shipping_rates[]?.shipping_rates[]?] | length' <<<"${cart}")" = 0 ]; then
    fail "the cart needs shipping but the store offers no shipping method, so checkout cannot succeed (the setup Job should make the sample product virtual or add a shipping method)"
fi

step "checking out with cash on delivery"
address='{"first_name":"Ada","last_name":"Lovelace","address_1":"1 Analytical Row","city":"London","postcode":"EC1A 1BB","country":"GB","email":"ada@example.com","phone":"+440000000000"}'
order="$(store_api POST /checkout "{\"billing_address\":${address},\"shipping_address\":$(jq 'del(.email)' <<<"${address}"),\"payment_method\":\"cod\"}")" || fail "checkout failed"
[ "$(status)" = 200 ] || fail "checkout answered $(status): ${order}"
order_id="$(jq -r .order_id <<<"${order}")"
case "${order_id}" in "" | null) fail "checkout returned no order: ${order}" ;; esac
step "order ${order_id} placed ($(jq -r .status <<<"${order}"))"

# --- 3. credentials, revealed once, and the order through the REST API ---
step "revealing the admin credentials"
revealed="$(api POST "/api/v1/stores/${id}/credentials/reveal")" || fail "the reveal request failed"
[ "$(status)" = 200 ] || fail "reveal answered $(status): ${revealed}"
admin_user="$(jq -r .username <<<"${revealed}")"
admin_password="$(jq -r .password <<<"${revealed}")"
again="$(api POST "/api/v1/stores/${id}/credentials/reveal")" || fail "the second reveal request failed"
[ "$(status)" = 410 ] || fail "a second reveal answered $(status), not 410: ${again}"

# WordPress's REST API takes cookie authentication plus a nonce over plain HTTP (basic
# auth with application passwords wants HTTPS): sign in, fetch the REST nonce, then ask.
admin_order() {
    local admin_jar="${work}/admin-cookies" rest_nonce
    rm -f "${admin_jar}"
    front_curl -sS -o /dev/null -c "${admin_jar}" "${shop}/wp-login.php" ||
        fail "${shop}/wp-login.php does not answer"
    front_curl -sS -o /dev/null -b "${admin_jar}" -c "${admin_jar}" \
        --data-urlencode "log=${admin_user}" --data-urlencode "pwd=${admin_password}" \
        --data-urlencode "testcookie=1" --data-urlencode "redirect_to=${shop}/wp-admin/" \
        "${shop}/wp-login.php" || fail "could not post the sign-in form of ${shop}/wp-login.php"
    rest_nonce="$(front_curl -fsS -b "${admin_jar}" "${shop}/wp-admin/admin-ajax.php?action=rest-nonce")" ||
        fail "could not sign in to ${shop}/wp-admin as ${admin_user}"
    front_curl -fsS -b "${admin_jar}" -H "X-WP-Nonce: ${rest_nonce}" "${shop}/wp-json/wc/v3/orders/${order_id}"
}
check_order() {
    local found
    found="$(admin_order)" || fail "GET /wp-json/wc/v3/orders/${order_id} failed ($1)"
    [ "$(jq -r .id <<<"${found}")" = "${order_id}" ] || fail "order ${order_id} not found ($1): ${found}"
    [ "$(jq -r .payment_method <<<"${found}")" = cod ] || fail "order ${order_id} is not cash on delivery ($1)"
    step "order ${order_id} found in WooCommerce ($1): $(jq -r '.status + ", " + .total + " " + .currency' <<<"${found}")"
}
check_order "after checkout"

# --- 4. the Medusa store beside it: Store API checkout with its publishable key ---
step "waiting for ${STORE}-medusa (${medusa_id}) to become ready"
wait_for_status "${medusa_id}" ready "${READY_TIMEOUT}"
medusa_url="$(store_field "${medusa_id}" url)" || fail "store ${medusa_id} has no URL"
medusa_base="${medusa_url%/store}"
publishable_key="$(store_field "${medusa_id}" outputs.publishable_key)"
case "${publishable_key}" in pk_*) ;; *) fail "store ${medusa_id} shows no publishable key (outputs: $(store_field "${medusa_id}" outputs))" ;; esac
medusa_revealed="$(api POST "/api/v1/stores/${medusa_id}/credentials/reveal")" || fail "the Medusa reveal request failed"
[ "$(status)" = 200 ] || fail "the Medusa reveal answered $(status): ${medusa_revealed}"
step "checking out from ${medusa_base} through the Store API"
medusa_order="$(MEDUSA_URL="${medusa_base}" MEDUSA_CONNECT_TO="${FRONT}" MEDUSA_PUBLISHABLE_KEY="${publishable_key}" \
    MEDUSA_ADMIN_EMAIL="$(jq -r .username <<<"${medusa_revealed}")" \
    MEDUSA_ADMIN_PASSWORD="$(jq -r .password <<<"${medusa_revealed}")" \
    node scripts/medusa-checkout.mjs)" || fail "the Medusa checkout failed"
step "Medusa order $(jq -r '.order_id + " (#" + (.display_id|tostring) + ", " + (.total|tostring) + ", " + .payment_status + ")"' <<<"${medusa_order}") found through the Admin API"

# --- 5. upgrade and roll back the platform; the store must not notice ---
store_untouched() {
    k -n "${NAMESPACE}" rollout status "deployment/${RELEASE}" --timeout=300s >/dev/null ||
        fail "deployment/${RELEASE} did not roll out $1"
    for _ in $(seq 1 60); do
        front_curl -fsS -o /dev/null "${API}/readyz" && break
        sleep 2
    done
    [ "$(store_field "${id}" status)" = ready ] || fail "store ${id} is not ready $1"
    [ "$(k get namespace "${namespace}" -o jsonpath='{.metadata.uid}')" = "${namespace_uid}" ] ||
        fail "namespace ${namespace} was replaced $1"
    front_curl -fsS -o /dev/null "${shop}/" || fail "the storefront does not answer $1"
    check_order "$1"
}
current_image="$(k -n "${NAMESPACE}" get "deployment/${RELEASE}" -o jsonpath='{.spec.template.spec.containers[0].image}')" ||
    fail "could not read the image of deployment/${RELEASE}"
upgrade_tag="e2e-upgrade-${started}"
step "helm upgrade to storeplane:${upgrade_tag} (a new image of the same build)"
docker tag "${current_image}" "storeplane:${upgrade_tag}" || fail "could not tag ${current_image} as storeplane:${upgrade_tag}"
"${kind_bin}" load docker-image --name "${CLUSTER_NAME}" "storeplane:${upgrade_tag}" >/dev/null ||
    fail "kind could not load storeplane:${upgrade_tag}"
helm upgrade "${RELEASE}" charts/storeplane -n "${NAMESPACE}" --reuse-values \
    --set image.tag="${upgrade_tag}" --wait --timeout 5m >/dev/null || fail "helm upgrade to storeplane:${upgrade_tag} failed"
[ "$(k -n "${NAMESPACE}" get "deployment/${RELEASE}" -o jsonpath='{.spec.template.spec.containers[0].image}')" = "storeplane:${upgrade_tag}" ] ||
    fail "the upgrade did not change the image"
store_untouched "after the upgrade"

step "helm rollback"
helm rollback "${RELEASE}" -n "${NAMESPACE}" --wait --timeout 5m >/dev/null || fail "helm rollback failed"
[ "$(k -n "${NAMESPACE}" get "deployment/${RELEASE}" -o jsonpath='{.spec.template.spec.containers[0].image}')" = "${current_image}" ] ||
    fail "the rollback did not restore ${current_image}"
store_untouched "after the rollback"

# --- 6. delete ---
for pair in "${id}:${namespace}" "${medusa_id}:${medusa_namespace}"; do
    step "deleting store ${pair%%:*}"
    api DELETE "/api/v1/stores/${pair%%:*}" >/dev/null
    [ "$(status)" = 202 ] || fail "DELETE ${pair%%:*} answered $(status)"
done
for pair in "${id}:${namespace}" "${medusa_id}:${medusa_namespace}"; do
    wait_for_status "${pair%%:*}" deleted 600
    if k get namespace "${pair#*:}" >/dev/null 2>&1; then
        fail "namespace ${pair#*:} still exists after the store was deleted"
    fi
    step "namespace ${pair#*:} is gone"
done

echo "e2e OK: a WooCommerce store ordered from with cash on delivery, a Medusa store ordered from through its Store API, an upgrade and a rollback survived, both deleted ($(($(date +%s) - started))s)"
