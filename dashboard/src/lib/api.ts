// A small typed client for /api/v1: one error type whose message is the API's own, and the
// CSRF token that cookie sessions must echo on every change.

import type {
  Backup,
  BackupRequest,
  ChangeRequest,
  ChangeResponse,
  Cluster,
  CreateStoreRequest,
  Credentials,
  Page,
  EngineAvailability,
  PlanSize,
  Release,
  RestoreRequest,
  Revision,
  RevisionDetail,
  RevisionDiff,
  RollbackRequest,
  Session,
  Store,
  StoreEvent,
} from "./types";

/** An error the API answered with (`{"error": {"code", "message", "field?"}}`), or a
 * network failure (`status` 0, code `network`). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  /** Seconds to wait before retrying (429). */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, field?: string, retryAfter?: number) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

let csrfToken: string | null = null;

/** Remembers the token `GET /session` handed out; sent as `X-CSRF-Token` on changes. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

async function request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  const sent = init.headers as Record<string, string>;
  if (method !== "GET" && csrfToken) sent["X-CSRF-Token"] = csrfToken;
  if (body !== undefined) {
    sent["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, "network", "storeplane cannot be reached; check that the server is running");
  }
  if (response.ok) return (await response.json()) as T;
  throw await errorFrom(response);
}

async function errorFrom(response: Response): Promise<ApiError> {
  const retryAfter = Number(response.headers.get("Retry-After")) || undefined;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; field?: string } };
    if (body.error?.message) {
      return new ApiError(response.status, body.error.code ?? "error", body.error.message, body.error.field, retryAfter);
    }
  } catch {
    // Not the API's error shape (a proxy's page, say): fall through to a generic message.
  }
  return new ApiError(response.status, "http", `storeplane answered ${response.status} ${response.statusText}`.trim(), undefined, retryAfter);
}

/** Reads every page of a cursor-paginated list. */
async function all<T>(path: string, limit: number): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const query: string = `${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page: Page<T> = await request<Page<T>>("GET", `${path}${query}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

const storePath = (id: string) => `/stores/${encodeURIComponent(id)}`;

/** Revisions fetched per page of a store's history. */
export const REVISIONS_PAGE = 20;

export const api = {
  session: () => request<Session>("GET", "/session"),
  cluster: () => request<Cluster>("GET", "/cluster"),
  plans: () => request<PlanSize[]>("GET", "/plans"),
  engines: () => request<EngineAvailability[]>("GET", "/engines"),
  stores: () => all<Store>("/stores", 200),
  store: (id: string) => request<Store>("GET", `/stores/${encodeURIComponent(id)}`),
  events: (id: string) => all<StoreEvent>(`/stores/${encodeURIComponent(id)}/events`, 500),
  createStore: (body: CreateStoreRequest, idempotencyKey: string) =>
    request<Store>("POST", "/stores", body, { "Idempotency-Key": idempotencyKey }),
  deleteStore: (id: string) => request<Store>("DELETE", `/stores/${encodeURIComponent(id)}`),
  retryStore: (id: string) => request<Store>("POST", `/stores/${encodeURIComponent(id)}/retry`),
  revealCredentials: (id: string) => request<Credentials>("POST", `/stores/${encodeURIComponent(id)}/credentials/reveal`),
  releases: () => request<Release[]>("GET", "/releases"),
  /** Changes a store; `seen` is the latest revision the person reviewed (sent as
   * `If-Match`, so a change made meanwhile is refused with 412 rather than overridden). */
  changeStore: (id: string, body: ChangeRequest, seen: number | null) =>
    request<ChangeResponse>("PATCH", storePath(id), body, seen === null ? {} : { "If-Match": `"${seen}"` }),
  rollback: (id: string, body: RollbackRequest) => request<ChangeResponse>("POST", `${storePath(id)}/rollback`, body),
  /** One page of a store's revisions, newest first. */
  revisions: (id: string, cursor: string | null, limit = REVISIONS_PAGE) =>
    request<Page<Revision>>(
      "GET",
      `${storePath(id)}/revisions?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    ),
  revision: (id: string, number: number) => request<RevisionDetail>("GET", `${storePath(id)}/revisions/${number}`),
  diff: (id: string, from: number, to: number) => request<RevisionDiff>("GET", `${storePath(id)}/revisions/${from}/diff/${to}`),
  resetPassword: (id: string) => request<{ store: Store }>("POST", `${storePath(id)}/credentials/reset`),
  /** A store's backups, newest first (the API answers them all, unpaginated). */
  backups: (id: string) => request<{ items: Backup[] }>("GET", `${storePath(id)}/backups`).then((list) => list.items),
  /** Asks for a manual backup; answers it pending (202). */
  backUp: (id: string, body: BackupRequest) => request<Backup>("POST", `${storePath(id)}/backups`, body),
  /** Puts a backup back, as a new revision (202); orders written since it are lost. */
  restore: (id: string, body: RestoreRequest) => request<Revision>("POST", `${storePath(id)}/restore`, body),
};

/** What a 412 on a change means to the person who made it. */
export const STALE_MESSAGE = "the store changed since you opened this; review and try again";

/** A message a person can act on, for any error a query or mutation threw. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "rate_limited" && error.retryAfter) {
      return `${error.message} (try again in ${error.retryAfter} s)`;
    }
    // If-Match named a revision that is no longer the latest: someone else changed it.
    if (error.status === 412) return STALE_MESSAGE;
    if (error.code === "operation_in_progress") {
      return `another operation is in progress on this store; try again once it finishes (${error.message})`;
    }
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
