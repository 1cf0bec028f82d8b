// The configuration of the Medusa application storeplane runs as a store's engine. It holds
// no value of its own: every secret, address and origin comes from the environment, set by
// the store's Deployments and Jobs (crates/blueprint/src/medusa.rs) from the store's
// Secrets. In production a variable that is missing stops the process at once with its
// name, rather than starting a shop that would fail later.
import { defineConfig, loadEnv, Modules } from "@medusajs/framework/utils"

loadEnv(process.env.NODE_ENV || "development", process.cwd())

function required(name: string): string {
  const value = process.env[name]
  if (!value) {
    throw new Error(`${name} is not set`)
  }
  return value
}

function optional(name: string, fallback: string): string {
  return process.env[name] || fallback
}

const production = process.env.NODE_ENV === "production"

// In production every secret and origin must be given. Elsewhere (a developer's laptop, or
// `medusa build`, which loads this file with no store to serve) a stand-in will do.
const setting = (name: string, standIn: string) =>
  production ? required(name) : optional(name, standIn)

const databaseUrl = (() => {
  const user = encodeURIComponent(optional("DATABASE_USER", "medusa"))
  const password = production ? required("DATABASE_PASSWORD") : process.env.DATABASE_PASSWORD
  const credentials = password ? `${user}:${encodeURIComponent(password)}` : user
  const host = optional("DATABASE_HOST", "localhost")
  const port = optional("DATABASE_PORT", "5432")
  const name = encodeURIComponent(optional("DATABASE_NAME", "medusa"))
  return `postgres://${credentials}@${host}:${port}/${name}`
})()

const redisUrl = (() => {
  const password = production ? required("REDIS_PASSWORD") : process.env.REDIS_PASSWORD
  const credentials = password ? `:${encodeURIComponent(password)}@` : ""
  const host = optional("REDIS_HOST", "localhost")
  const port = optional("REDIS_PORT", "6379")
  return `redis://${credentials}${host}:${port}`
})()

// The database of a store is its own PostgreSQL in its own namespace, reached over the
// pod network: no TLS, unless DATABASE_SSL says the platform put one in front. (Medusa
// would otherwise ask for TLS from any host but localhost in production.)
const databaseSsl = process.env.DATABASE_SSL === "true" ? { rejectUnauthorized: true } : false

// Session cookies are `Secure` only where the store is served over HTTPS: a browser drops a
// Secure cookie that arrives over plain HTTP, as on a laptop cluster.
const cookieSecure = optional("COOKIE_SECURE", production ? "true" : "false") === "true"

const workerMode = optional("MEDUSA_WORKER_MODE", "shared") as "shared" | "worker" | "server"

module.exports = defineConfig({
  projectConfig: {
    databaseUrl,
    databaseDriverOptions: { connection: { ssl: databaseSsl } },
    // Sessions of the admin UI live in Redis, so that any server process can serve them.
    redisUrl,
    workerMode,
    cookieOptions: { secure: cookieSecure },
    http: {
      storeCors: setting("STORE_CORS", "http://localhost:8000"),
      adminCors: setting("ADMIN_CORS", "http://localhost:9000"),
      authCors: setting("AUTH_CORS", "http://localhost:9000"),
      jwtSecret: setting("JWT_SECRET", "supersecret"),
      cookieSecret: setting("COOKIE_SECRET", "supersecret"),
    },
  },
  admin: {
    disable: process.env.DISABLE_MEDUSA_ADMIN === "true",
    backendUrl: optional("MEDUSA_BACKEND_URL", "/"),
  },
  // Without these, events, workflows and locks stay inside each process and the worker
  // never hears of what the server did. The cache is the Cache Module's Redis provider:
  // in Medusa 2.21 its successor, the Caching Module, is used only behind the
  // work-in-progress `caching` feature flag.
  modules: [
    {
      key: Modules.EVENT_BUS,
      resolve: "@medusajs/medusa/event-bus-redis",
      options: {
        redisUrl,
        jobOptions: {
          removeOnComplete: { age: 3600, count: 1000 },
          removeOnFail: { age: 3600, count: 1000 },
        },
      },
    },
    {
      key: Modules.WORKFLOW_ENGINE,
      resolve: "@medusajs/medusa/workflow-engine-redis",
      options: { redis: { redisUrl } },
    },
    {
      key: Modules.LOCKING,
      resolve: "@medusajs/medusa/locking",
      options: {
        providers: [
          {
            resolve: "@medusajs/medusa/locking-redis",
            id: "locking-redis",
            is_default: true,
            options: { redisUrl },
          },
        ],
      },
    },
    {
      key: Modules.CACHE,
      resolve: "@medusajs/medusa/cache-redis",
      options: { redisUrl },
    },
    {
      key: Modules.FILE,
      resolve: "@medusajs/medusa/file",
      options: {
        providers: [
          {
            // Uploads in ./static (the store's uploads volume), linked at the store's own
            // URL rather than at localhost.
            resolve: "@medusajs/medusa/file-local",
            id: "local",
            options: {
              backend_url: `${optional("MEDUSA_BACKEND_URL", "http://localhost:9000")}/static`,
            },
          },
        ],
      },
    },
  ],
})
