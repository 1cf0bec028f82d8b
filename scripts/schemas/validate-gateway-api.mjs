// Validates Gateway API objects (gateway.networking.k8s.io/v1 HTTPRoutes, Gateways and
// GatewayClasses) in multi-document YAML files against the Gateway API's published CRD
// schemas, through the validators @kubernetes-models/gateway-api generates from them.
//
//   node validate-gateway-api.mjs [--expect KIND]... FILE...
//   node validate-gateway-api.mjs --self-check
//
// Every document of those kinds in every FILE is validated; other documents are skipped.
// Exits 1, naming each invalid document and what is wrong with it, when one fails, or
// when a kind given with --expect was not found at all (so a render that lost its routes
// cannot pass by validating nothing). --self-check proves the validators refuse broken
// routes and gateways, and accept a good one, before anything is trusted to them.

import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { Gateway } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway";
import { GatewayClass } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass";

const API_VERSION = "gateway.networking.k8s.io/v1";
const MODELS = { HTTPRoute, Gateway, GatewayClass };

/** The reason `doc` is invalid, or null when it validates. */
function problem(doc) {
  const Model = MODELS[doc.kind];
  try {
    new Model(doc).validate();
    return null;
  } catch (error) {
    return error.message;
  }
}

function isGatewayApi(doc) {
  return doc && doc.apiVersion === API_VERSION && doc.kind in MODELS;
}

function validateFiles(files, expected) {
  const seen = Object.fromEntries(Object.keys(MODELS).map((k) => [k, 0]));
  let failures = 0;
  for (const file of files) {
    const documents = parseAllDocuments(readFileSync(file, "utf8"));
    for (const parsed of documents) {
      if (parsed.errors.length > 0) {
        console.error(`FAIL: ${file}: not YAML: ${parsed.errors[0].message}`);
        failures += 1;
        continue;
      }
      const doc = parsed.toJS();
      if (!isGatewayApi(doc)) continue;
      seen[doc.kind] += 1;
      const why = problem(doc);
      if (why !== null) {
        const name = `${doc.kind} ${doc.metadata?.namespace ?? ""}/${doc.metadata?.name ?? "?"}`;
        console.error(`FAIL: ${file}: ${name} does not match the Gateway API schema: ${why}`);
        failures += 1;
      }
    }
  }
  for (const kind of expected) {
    if (!seen[kind]) {
      console.error(`FAIL: no ${kind} found in ${files.join(" ")}`);
      failures += 1;
    }
  }
  const counts = Object.entries(seen)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  console.log(`    ${counts || "nothing"} validated against the Gateway API schemas`);
  return failures === 0;
}

const GOOD_ROUTE = {
  apiVersion: API_VERSION,
  kind: "HTTPRoute",
  metadata: { name: "storefront", namespace: "store-x" },
  spec: {
    parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", namespace: "storeplane", name: "storeplane" }],
    hostnames: ["demo.127.0.0.1.nip.io"],
    rules: [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backendRefs: [{ name: "wordpress", port: 80 }] }],
  },
};

function withSpec(change) {
  const doc = structuredClone(GOOD_ROUTE);
  change(doc.spec);
  return doc;
}

// Each must be refused: an Ingress-style path type, a port out of range, a host that is
// not a DNS name, a parent without a name, and a Gateway without listeners.
const BROKEN = {
  "a path type the Gateway API does not have": withSpec((s) => (s.rules[0].matches[0].path.type = "Prefix")),
  "a backend port out of range": withSpec((s) => (s.rules[0].backendRefs[0].port = 70000)),
  "a hostname that is not a DNS name": withSpec((s) => (s.hostnames = ["Demo Shop"])),
  "a parent reference without a name": withSpec((s) => delete s.parentRefs[0].name),
  "a Gateway without listeners": {
    apiVersion: API_VERSION,
    kind: "Gateway",
    metadata: { name: "storeplane" },
    spec: { gatewayClassName: "traefik" },
  },
};

function selfCheck() {
  let ok = true;
  const why = problem(GOOD_ROUTE);
  if (why !== null) {
    console.error(`FAIL: self-check: a good HTTPRoute is refused: ${why}`);
    ok = false;
  }
  for (const [what, doc] of Object.entries(BROKEN)) {
    if (problem(doc) === null) {
      console.error(`FAIL: self-check: ${what} passed validation`);
      ok = false;
    }
  }
  if (ok) console.log(`    self-check: a good HTTPRoute passes, ${Object.keys(BROKEN).length} broken documents fail`);
  return ok;
}

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === "--self-check") {
  process.exit(selfCheck() ? 0 : 1);
}
const expected = [];
const files = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === "--expect") {
    expected.push(args[(i += 1)]);
  } else {
    files.push(args[i]);
  }
}
if (files.length === 0) {
  console.error("usage: validate-gateway-api.mjs [--expect KIND]... FILE... | --self-check");
  process.exit(2);
}
process.exit(validateFiles(files, expected) ? 0 : 1);
