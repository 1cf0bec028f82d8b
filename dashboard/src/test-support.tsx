// Helpers for component tests: a fresh query client per test and a fetch that answers
// from a table of canned API replies.

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";
import type { Backup, PlanSize, Revision, Store } from "@/lib/types";

export function renderWithClient(ui: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return { client, ...render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>) };
}

type Reply = { status?: number; body: unknown };

export interface Call {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: unknown;
}

/** Stubs `fetch`: each request gets the reply of its `METHOD /path` (query string ignored);
 * a list of replies answers successive requests in turn, the last one from then on. */
export function stubApi(replies: Record<string, Reply | Reply[]>) {
  const calls: Call[] = [];
  const answered = new Map<string, number>();
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      const [path, query = ""] = input.split("?");
      const headers = { ...(init?.headers as Record<string, string> | undefined) };
      calls.push({ method, path, query, headers, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      const key = `${method} ${path}`;
      const entry = replies[key];
      const count = answered.get(key) ?? 0;
      answered.set(key, count + 1);
      const reply = Array.isArray(entry) ? entry[Math.min(count, entry.length - 1)] : entry;
      if (!reply) return new Response(JSON.stringify({ error: { code: "not_found", message: "no stub" } }), { status: 404 });
      return new Response(JSON.stringify(reply.body), {
        status: reply.status ?? 200,
        headers: { "Content-Type": "application/json" },
      });
    }),
  );
  return calls;
}

/** What `GET /api/v1/plans` answers: every engine sizes its own plans. */
export const PLAN_SIZES: PlanSize[] = [
  { engine: "woocommerce", plan: "small", cpu: "2", memory: "2Gi", storage: "4Gi" },
  { engine: "woocommerce", plan: "medium", cpu: "4", memory: "4Gi", storage: "20Gi" },
  { engine: "woocommerce", plan: "large", cpu: "8", memory: "8Gi", storage: "100Gi" },
  { engine: "medusa", plan: "small", cpu: "5", memory: "5Gi", storage: "6Gi" },
  { engine: "medusa", plan: "medium", cpu: "10", memory: "10Gi", storage: "23Gi" },
  { engine: "medusa", plan: "large", cpu: "20", memory: "20Gi", storage: "100Gi" },
];

/** A ready store on revision 3 of release wp6.8-wc9.8, small plan; override what a test needs. */
export function aStore(overrides: Partial<Store> = {}): Store {
  return {
    id: "01936f3e-8b7a-7c2d-9e4f-0123456789ab",
    name: "acme",
    engine: "woocommerce",
    plan: "small",
    status: "ready",
    status_reason: null,
    owner_id: "u",
    namespace: "store-01936f3e8b7a7c2d9e4f0123456789ab",
    url: "http://acme.127.0.0.1.nip.io",
    admin_url: "http://acme.127.0.0.1.nip.io/wp-admin/",
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    release: "wp6.8-wc9.8",
    title: "acme",
    revision: 3,
    latest_revision: 3,
    operation: null,
    release_is_default: true,
    last_checked_at: "2026-01-01T00:05:00Z",
    outputs: {},
    backup: {
      schedule: "24 h",
      last_succeeded_at: "2026-01-01T01:00:00Z",
      next_scheduled_at: "2026-01-02T01:00:00Z",
      warning: null,
      keep_after_delete_days: 30,
    },
    ...overrides,
  };
}

/** A ready Medusa store whose setup published its key; override what a test needs. */
export function aMedusaStore(overrides: Partial<Store> = {}): Store {
  return aStore({
    name: "headless",
    engine: "medusa",
    namespace: "store-01936f3e8b7a7c2d9e4f0123456789ab",
    url: "http://headless.127.0.0.1.nip.io/store",
    admin_url: "http://headless.127.0.0.1.nip.io/app",
    release: "medusa2.21",
    title: "headless",
    outputs: { publishable_key: "pk_0123456789abcdef0123456789abcdef" },
    ...overrides,
  });
}

/** Revision `number` of `aStore()`, deployed; override what a test needs. */
export function aRevision(number: number, overrides: Partial<Revision> = {}): Revision {
  return {
    number,
    status: "deployed",
    release: "wp6.8-wc9.8",
    plan: "small",
    title: "acme",
    changes: number === 1 ? "" : "plan medium -> small",
    actor: "user:alice",
    reason: null,
    failure: null,
    created_at: "2026-01-01T00:00:00Z",
    started_at: "2026-01-01T00:00:00Z",
    finished_at: "2026-01-01T00:00:05Z",
    manifest_digest: "sha256:aa",
    platform_digest: "sha256:bb",
    manifest_kept: true,
    checkpoint: null,
    rollback_of: null,
    restores: null,
    migrates_data: false,
    ...overrides,
  };
}

/** A manual backup of `aStore()` at revision 3 that succeeded (19.8 MiB, 229 KiB added, in
 * 4.2 s); override what a test needs. */
export function aBackup(overrides: Partial<Backup> = {}): Backup {
  return {
    id: "0193a6c4-5d2e-7f10-8a3b-00000000000a",
    store_id: aStore().id,
    kind: "manual",
    status: "succeeded",
    actor: "user:alice",
    reason: "before the plugin update",
    revision: 3,
    snapshot: "4f1c2a9b",
    size_bytes: 20_761_421,
    added_bytes: 234_567,
    duration_ms: 4210,
    failure: null,
    created_at: "2026-01-01T01:00:00Z",
    started_at: "2026-01-01T01:00:01Z",
    finished_at: "2026-01-01T01:00:05Z",
    expires_at: null,
    ...overrides,
  };
}
