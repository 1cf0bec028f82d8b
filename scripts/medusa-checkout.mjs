#!/usr/bin/env node
// Buys the sample product of a Medusa store through its Store API alone, as a storefront
// would, and finds the order again through its Admin API, signed in as the store's admin.
// Nothing is paid: the region's provider is the system one (`pp_system_default`), so the
// order waits to be paid by hand. Used by scripts/test-medusa-app.sh (a Medusa server on
// this machine) and scripts/e2e-kind.sh (a store on a real cluster).
//
// Input, from the environment (never arguments: the password is a secret):
//   MEDUSA_URL              the store's base URL, e.g. http://127.0.0.1:9000
//   MEDUSA_PUBLISHABLE_KEY  the key storeplane shows for the store
//   MEDUSA_ADMIN_EMAIL, MEDUSA_ADMIN_PASSWORD  the revealed admin login
//   MEDUSA_CONNECT_TO       optional host:port to connect to instead of the URL's own
//                           (a cluster's front door; the URL's host stays the Host header)
//
// `node medusa-checkout.mjs` checks out and prints one JSON line:
//   {"order_id": ..., "display_id": ..., "total": ..., "checkout_ms": ..., "steps": {...}}
// `node medusa-checkout.mjs sign-in` only signs in as the admin and exits 0 if that
// worked, 1 if the store refused the login.
// `node medusa-checkout.mjs orders` prints the number of orders the Admin API lists.
// Any other failure names the request and what the store answered, and exits 2.

import http from "node:http"
import https from "node:https"

const base = new URL(required("MEDUSA_URL"))
const connectTo = process.env.MEDUSA_CONNECT_TO

function required(name) {
  const value = process.env[name]
  if (!value) {
    fail(`${name} is not set`)
  }
  return value
}

function fail(message) {
  console.error(`medusa-checkout: ${message}`)
  process.exit(2)
}

// One request. node:http rather than fetch: fetch cannot send a Host header of its own,
// which reaching a store through its front door by address needs.
function send(method, path, headers, payload) {
  const secure = base.protocol === "https:"
  const [connectHost, connectPort] = connectTo
    ? [connectTo.slice(0, connectTo.lastIndexOf(":")), connectTo.slice(connectTo.lastIndexOf(":") + 1)]
    : [base.hostname, base.port || (secure ? "443" : "80")]
  const options = {
    method,
    host: connectHost,
    port: Number(connectPort),
    path: `${base.pathname.replace(/\/+$/, "")}${path}`,
    headers: { ...headers, host: base.host },
    servername: base.hostname,
  }
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(options, (response) => {
      const chunks = []
      response.on("data", (chunk) => chunks.push(chunk))
      response.on("end", () =>
        resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString("utf8") })
      )
    })
    request.on("error", reject)
    request.setTimeout(60_000, () => request.destroy(new Error("no answer within 60 s")))
    if (payload !== undefined) request.write(payload)
    request.end()
  })
}

async function call(method, path, { body, key, token, expect = [200] } = {}) {
  const headers = { accept: "application/json" }
  const payload = body === undefined ? undefined : JSON.stringify(body)
  if (payload !== undefined) {
    headers["content-type"] = "application/json"
    headers["content-length"] = Buffer.byteLength(payload)
  }
  if (key) headers["x-publishable-api-key"] = key
  if (token) headers.authorization = `Bearer ${token}`
  let answer
  try {
    answer = await send(method, path, headers, payload)
  } catch (error) {
    fail(`${method} ${path}: ${error.message}`)
  }
  let json
  try {
    json = answer.text ? JSON.parse(answer.text) : {}
  } catch {
    json = { raw: answer.text.slice(0, 200) }
  }
  if (!expect.includes(answer.status)) {
    fail(`${method} ${path} answered ${answer.status}: ${JSON.stringify(json).slice(0, 400)}`)
  }
  return { status: answer.status, json }
}

async function signIn(password) {
  const { status, json } = await call("POST", "/auth/user/emailpass", {
    body: { email: required("MEDUSA_ADMIN_EMAIL"), password },
    expect: [200, 401],
  })
  return status === 200 ? json.token : null
}

async function checkout() {
  const key = required("MEDUSA_PUBLISHABLE_KEY")
  const steps = {}
  const started = performance.now()
  let last = started
  const step = (name) => {
    const now = performance.now()
    steps[name] = Math.round(now - last)
    last = now
  }

  // The Store API refuses a request that carries no publishable key.
  await call("GET", "/store/regions", { expect: [400] })

  const { json: regions } = await call("GET", "/store/regions", { key })
  const region = regions.regions?.[0]
  if (!region) fail("the store has no region")
  const country = region.countries?.[0]?.iso_2
  if (!country) fail(`region ${region.name} has no country`)
  step("regions")

  const { json: products } = await call(
    "GET",
    `/store/products?region_id=${region.id}&fields=*variants.calculated_price,+variants.inventory_quantity`,
    { key }
  )
  const variant = products.products
    ?.flatMap((product) => product.variants ?? [])
    .find((candidate) => candidate.calculated_price)
  if (!variant) fail("no product variant has a price in the store's region")
  step("product")

  const email = `buyer-${Date.now()}@example.com`
  const { json: created } = await call("POST", "/store/carts", {
    key,
    body: { region_id: region.id, email },
  })
  const cartId = created.cart.id
  step("cart")

  await call("POST", `/store/carts/${cartId}/line-items`, {
    key,
    body: { variant_id: variant.id, quantity: 1 },
  })
  step("line_item")

  const address = {
    first_name: "Test",
    last_name: "Buyer",
    address_1: "1 Main Street",
    city: "Springfield",
    postal_code: "12345",
    country_code: country,
  }
  await call("POST", `/store/carts/${cartId}`, {
    key,
    body: { shipping_address: address, billing_address: address },
  })
  step("address")

  const { json: shipping } = await call("GET", `/store/shipping-options?cart_id=${cartId}`, {
    key,
  })
  const option = shipping.shipping_options?.[0]
  if (!option) fail("the store offers no shipping option for the cart")
  step("shipping_options")

  await call("POST", `/store/carts/${cartId}/shipping-methods`, {
    key,
    body: { option_id: option.id },
  })
  step("shipping_method")

  const { json: collection } = await call("POST", "/store/payment-collections", {
    key,
    body: { cart_id: cartId },
  })
  step("payment_collection")

  await call(
    "POST",
    `/store/payment-collections/${collection.payment_collection.id}/payment-sessions`,
    { key, body: { provider_id: "pp_system_default" } }
  )
  step("payment_session")

  const { json: completed } = await call("POST", `/store/carts/${cartId}/complete`, { key })
  if (completed.type !== "order" || !completed.order?.id) {
    fail(`completing the cart gave no order: ${JSON.stringify(completed).slice(0, 400)}`)
  }
  step("complete")
  const checkoutMs = Math.round(performance.now() - started)

  // The order, as the merchant sees it.
  const token = await signIn(required("MEDUSA_ADMIN_PASSWORD"))
  if (!token) fail("the store refused its admin's login")
  const { json: found } = await call(
    "GET",
    `/admin/orders/${completed.order.id}?fields=id,display_id,email,total,payment_status`,
    { token }
  )
  if (found.order?.email !== email) {
    fail(`the Admin API shows order ${completed.order.id} with another buyer`)
  }
  step("admin_order")

  console.log(
    JSON.stringify({
      order_id: found.order.id,
      display_id: found.order.display_id,
      total: found.order.total,
      payment_status: found.order.payment_status,
      checkout_ms: checkoutMs,
      steps,
    })
  )
}

async function countOrders() {
  const token = await signIn(required("MEDUSA_ADMIN_PASSWORD"))
  if (!token) fail("the store refused its admin's login")
  const { json } = await call("GET", "/admin/orders?fields=id&limit=1", { token })
  console.log(json.count)
}

const mode = process.argv[2] ?? "checkout"
if (mode === "checkout") {
  await checkout()
} else if (mode === "sign-in") {
  process.exit((await signIn(required("MEDUSA_ADMIN_PASSWORD"))) ? 0 : 1)
} else if (mode === "orders") {
  await countOrders()
} else {
  fail(`unknown mode ${mode}: checkout, sign-in or orders`)
}
