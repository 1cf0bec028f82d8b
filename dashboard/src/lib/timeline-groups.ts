// How a timeline reads: the object events of one apply pass (a dozen or more, one per
// Kubernetes object) fold into one line, so a change reads as a few lines, not twenty.
//
// Object events (`object_applied`, `drift_restored`) of one pass carry `detail.pass`, a
// string shared by every event of that pass. Consecutive object events with the same pass
// form a group; events written before passes were named have none, and then the
// consecutive run between two other events is the group.

import { isRecord } from "./objects";
import type { StoreEvent } from "./types";

export interface ObjectGroup {
  type: "objects";
  /** Stable while live events extend the group: the first event's sequence number. */
  key: string;
  pass: string | null;
  events: StoreEvent[];
  applied: number;
  restored: number;
  pruned: number;
  /** How many of the applied objects came out created, configured, unchanged, … */
  outcomes: [string, number][];
}

export interface SingleEvent {
  type: "event";
  key: string;
  event: StoreEvent;
  /** A revision step: recorded, applying, deployed, failed, … read as a headline. */
  headline: boolean;
}

export type TimelineEntry = SingleEvent | ObjectGroup;

export function isObjectEvent(event: StoreEvent): boolean {
  return event.kind === "object_applied" || event.kind === "drift_restored";
}

export function isRevisionStep(event: StoreEvent): boolean {
  return event.kind === "step" && isRecord(event.detail) && event.detail.step === "revision";
}

function passOf(event: StoreEvent): string | null {
  return isRecord(event.detail) && typeof event.detail.pass === "string" ? event.detail.pass : null;
}

/** The timeline's entries, oldest first: single events, and groups of two or more object
 * events of one pass. */
export function groupTimeline(events: readonly StoreEvent[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  let run: StoreEvent[] = [];
  const flush = () => {
    if (run.length === 1) entries.push(single(run[0]));
    else if (run.length > 1) entries.push(group(run));
    run = [];
  };
  for (const event of events) {
    if (!isObjectEvent(event)) {
      flush();
      entries.push(single(event));
      continue;
    }
    if (run.length > 0 && passOf(run[0]) !== passOf(event)) flush();
    run.push(event);
  }
  flush();
  return entries;
}

function single(event: StoreEvent): SingleEvent {
  return { type: "event", key: String(event.seq), event, headline: isRevisionStep(event) };
}

function group(events: StoreEvent[]): ObjectGroup {
  let applied = 0;
  let restored = 0;
  let pruned = 0;
  const outcomes = new Map<string, number>();
  for (const event of events) {
    const detail = isRecord(event.detail) ? event.detail : {};
    if (event.kind === "drift_restored") {
      restored += 1;
    } else if (detail.step === "prune") {
      pruned += 1;
    } else {
      applied += 1;
      const outcome = typeof detail.outcome === "string" ? detail.outcome : "applied";
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  }
  return {
    type: "objects",
    key: `objects-${events[0].seq}`,
    pass: passOf(events[0]),
    events,
    applied,
    restored,
    pruned,
    outcomes: [...outcomes.entries()],
  };
}

/** "applied 12 objects", "restored 1 drifted object", "applied 3 objects, pruned 1". */
export function groupTitle(group: ObjectGroup): string {
  const objects = (n: number, what = "object") => `${n} ${what}${n === 1 ? "" : "s"}`;
  const parts: string[] = [];
  if (group.applied > 0) parts.push(`applied ${objects(group.applied)}`);
  if (group.restored > 0) parts.push(`restored ${objects(group.restored, "drifted object")}`);
  if (group.pruned > 0) parts.push(`pruned ${objects(group.pruned)}`);
  return parts.join(", ");
}
