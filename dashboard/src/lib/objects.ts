// The Kubernetes objects a store owns, read from its timeline: every `object_applied` event
// names one ({kind, name, outcome}); a pruned one carries {step: "prune", kind, name}.

import type { StoreEvent } from "./types";

export interface OwnedObject {
  kind: string;
  name: string;
  /** created, configured or unchanged, as of the latest apply. */
  outcome: string;
  at: string;
}

interface ObjectDetail {
  kind?: unknown;
  name?: unknown;
  outcome?: unknown;
  step?: unknown;
}

export function ownedObjects(events: readonly StoreEvent[]): OwnedObject[] {
  const objects = new Map<string, OwnedObject>();
  let gone = false;
  for (const event of events) {
    if (event.kind === "status_changed" && isRecord(event.detail) && event.detail.to === "deleted") {
      gone = true;
    }
    if (event.kind !== "object_applied" && event.kind !== "drift_restored") continue;
    if (!isRecord(event.detail)) continue;
    const { kind, name, outcome, step } = event.detail as ObjectDetail;
    if (typeof kind !== "string" || typeof name !== "string") continue;
    const key = `${kind}/${name}`;
    if (step === "prune") {
      objects.delete(key);
    } else {
      objects.set(key, { kind, name, outcome: typeof outcome === "string" ? outcome : "applied", at: event.at });
    }
  }
  return gone ? [] : [...objects.values()];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
