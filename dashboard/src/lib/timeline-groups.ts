// How a timeline reads: the object events of one apply pass (a dozen or more, one per
// Kubernetes object) fold into one line, so a change reads as a few lines, not twenty.
//
// Object events (`object_applied`, `drift_restored`) of one pass carry `detail.pass`, a
// string shared by every event of that pass. Consecutive object events with the same pass
// form a group; events written before passes were named have none, and then the
// consecutive run between two other events is the group.
//
// The steps of one backup (`detail.step == "backup"`: requested, running, succeeded or
// failed) carry its id in `detail.backup`, and those of one restore (`"restore_backup"`)
// the backup's id and the revision that restores it. A backup's steps are minutes apart
// with other events between them, so they form one group whatever comes between, shown
// where its latest step is: the line says how the backup stands, and moves to the bottom
// of the timeline, where live events appear, when it moves on.

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

/** The steps of one backup, or of one restore of a backup. */
export interface BackupGroup {
  type: "backup";
  /** Stable while live events extend the group: the backup's id (and the restore's revision). */
  key: string;
  step: "backup" | "restore_backup";
  backup: string;
  /** The revision that restores it, for a restore. */
  revision: number | null;
  events: StoreEvent[];
  /** What the latest step says: requested, running, succeeded, failed. */
  status: string | null;
}

export type TimelineEntry = SingleEvent | ObjectGroup | BackupGroup;

export function isObjectEvent(event: StoreEvent): boolean {
  return event.kind === "object_applied" || event.kind === "drift_restored";
}

export function isRevisionStep(event: StoreEvent): boolean {
  return event.kind === "step" && isRecord(event.detail) && event.detail.step === "revision";
}

function passOf(event: StoreEvent): string | null {
  return isRecord(event.detail) && typeof event.detail.pass === "string" ? event.detail.pass : null;
}

/** The group a backup or restore step belongs to, if it is one that names its backup. */
function backupKey(event: StoreEvent): string | null {
  if (event.kind !== "step" || !isRecord(event.detail) || typeof event.detail.backup !== "string") return null;
  if (event.detail.step === "backup") return `backup-${event.detail.backup}`;
  if (event.detail.step === "restore_backup") return `restore-${event.detail.backup}-${String(event.detail.revision ?? "")}`;
  return null;
}

/** The timeline's entries, oldest first: single events, groups of two or more object
 * events of one pass, and one group per backup (and per restore), where its latest step is. */
export function groupTimeline(events: readonly StoreEvent[]): TimelineEntry[] {
  const backups = new Map<string, StoreEvent[]>();
  for (const event of events) {
    const key = backupKey(event);
    if (key !== null) backups.set(key, [...(backups.get(key) ?? []), event]);
  }

  const entries: TimelineEntry[] = [];
  let run: StoreEvent[] = [];
  const flush = () => {
    if (run.length === 1) entries.push(single(run[0]));
    else if (run.length > 1) entries.push(group(run));
    run = [];
  };
  for (const event of events) {
    const key = backupKey(event);
    if (key !== null) {
      const steps = backups.get(key) ?? [event];
      // Earlier steps are shown with the latest; they do not break a run of objects.
      if (steps[steps.length - 1] !== event) continue;
      flush();
      entries.push(backupGroup(key, steps));
      continue;
    }
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

function backupGroup(key: string, events: StoreEvent[]): BackupGroup {
  const first = events[0].detail as Record<string, unknown>;
  const last = events[events.length - 1].detail as Record<string, unknown>;
  return {
    type: "backup",
    key,
    step: first.step === "restore_backup" ? "restore_backup" : "backup",
    backup: String(first.backup),
    revision: typeof first.revision === "number" ? first.revision : null,
    events,
    status: typeof last.status === "string" ? last.status : null,
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
