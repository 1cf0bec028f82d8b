// Live updates: one EventSource on /api/v1/events feeds the query cache, so lists and
// timelines change as the server writes events, without polling.
//
// The browser reconnects by itself after a dropped connection (sending Last-Event-ID, so
// nothing is missed). When it gives up (the server answered with an error while
// restarting), a fresh EventSource is opened with backoff, and every query is refetched
// because a fresh EventSource cannot resume where the old one stopped.

import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";
import { isRecord } from "./objects";
import type { Store, StoreEvent } from "./types";

export type ConnectionState = "connecting" | "open" | "lost";

let state: ConnectionState = "connecting";
const listeners = new Set<() => void>();

function setState(next: ConnectionState): void {
  if (next === state) return;
  state = next;
  listeners.forEach((l) => l());
}

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

/** Puts a store's new state into the list and its own query. */
export function applyStore(client: QueryClient, store: Store): void {
  client.setQueryData<Store[]>(["stores"], (stores) => {
    if (!stores) return stores;
    const index = stores.findIndex((s) => s.id === store.id);
    if (index === -1) return [store, ...stores];
    if (stores[index].updated_at > store.updated_at) return stores;
    const next = stores.slice();
    next[index] = store;
    return next;
  });
  client.setQueryData<Store>(["store", store.id], (old) => (old && old.updated_at > store.updated_at ? old : store));
}

/** Appends a timeline event to its store's timeline, once, in order. */
export function applyEvent(client: QueryClient, event: StoreEvent): void {
  client.setQueryData<StoreEvent[]>(["events", event.store_id], (events) => {
    if (!events) return events;
    const last = events[events.length - 1];
    if (!last || last.seq < event.seq) return [...events, event];
    if (events.some((e) => e.seq === event.seq)) return events;
    return [...events, event].sort((a, b) => a.seq - b.seq);
  });
}

/** Steps that move a store's revisions or its operation in progress (a restore is recorded
 * as a revision). */
const REVISION_STEPS = new Set(["revision", "password_reset", "restore_backup"]);

/** Steps that move a store's backups, their summary on the store, or its operation. */
const BACKUP_STEPS = new Set(["backup", "restore_backup"]);

/** Takes in one event of the stream: appends it to its timeline and, when it is a revision
 * (or password reset) step, refetches the store's revisions and the store itself, whose
 * revision, release and operation in progress it changed; when it is a backup (or restore)
 * step, the store's backups and the store, whose last backup and warning it changed. */
export function takeEvent(client: QueryClient, event: StoreEvent): void {
  applyEvent(client, event);
  const step = isRecord(event.detail) ? (event.detail.step as string) : undefined;
  if (step === undefined) return;
  if (REVISION_STEPS.has(step)) {
    void client.invalidateQueries({ queryKey: ["revisions", event.store_id] });
    void client.invalidateQueries({ queryKey: ["revision", event.store_id] });
  }
  if (BACKUP_STEPS.has(step)) void client.invalidateQueries({ queryKey: ["backups", event.store_id] });
  if (REVISION_STEPS.has(step) || BACKUP_STEPS.has(step)) {
    void client.invalidateQueries({ queryKey: ["store", event.store_id], exact: true });
  }
}

/** Follows the live-update stream while the component is mounted. */
export function useLiveUpdates(enabled: boolean): void {
  const client = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    let source: EventSource | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let lostTimer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;
    let wasLost = false;

    const open = () => {
      setState("connecting");
      source = new EventSource("/api/v1/events");
      source.onopen = () => {
        attempt = 0;
        clearTimeout(lostTimer);
        setState("open");
        if (wasLost) {
          wasLost = false;
          void client.invalidateQueries();
        }
      };
      source.onerror = () => {
        // A blip the browser recovers from in a moment is not worth a banner.
        clearTimeout(lostTimer);
        lostTimer = setTimeout(() => {
          if (source?.readyState !== EventSource.OPEN) {
            wasLost = true;
            setState("lost");
          }
        }, 1500);
        if (source?.readyState === EventSource.CLOSED && !stopped) {
          source = null;
          wasLost = true;
          const delay = Math.min(1000 * 2 ** attempt, 10_000);
          attempt += 1;
          retryTimer = setTimeout(open, delay);
        }
      };
      source.addEventListener("timeline", (message) => {
        const event = parse<StoreEvent>((message as MessageEvent<string>).data);
        if (event) takeEvent(client, event);
      });
      source.addEventListener("store", (message) => {
        const store = parse<Store>((message as MessageEvent<string>).data);
        if (store) applyStore(client, store);
      });
    };

    open();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(lostTimer);
      source?.close();
    };
  }, [client, enabled]);
}

function parse<T>(data: string): T | null {
  try {
    return JSON.parse(data) as T;
  } catch {
    return null;
  }
}
