import {
  ArchiveRestore,
  Box,
  ChevronRight,
  CircleAlert,
  CircleDot,
  DatabaseBackup,
  History,
  KeyRound,
  Layers,
  type LucideIcon,
  RefreshCw,
  Sparkles,
  Trash2,
  Workflow,
  Wrench,
} from "lucide-react";
import { useId, useMemo, useState } from "react";
import { exactTime, clockTime } from "@/lib/time";
import { isRecord } from "@/lib/objects";
import { type BackupGroup, type ObjectGroup, groupTimeline, groupTitle } from "@/lib/timeline-groups";
import type { EventKind, StoreEvent } from "@/lib/types";
import { cn } from "@/lib/utils";

const ICON: Record<EventKind, LucideIcon> = {
  created: Sparkles,
  status_changed: CircleDot,
  step: Workflow,
  object_applied: Box,
  drift_restored: Wrench,
  retry: RefreshCw,
  failed: CircleAlert,
  credentials_revealed: KeyRound,
  teardown: Trash2,
};

const ITEM =
  "relative grid grid-cols-[1.75rem_minmax(0,1fr)] gap-x-3 pb-3 last:pb-0 before:absolute before:top-7 before:bottom-0 before:left-[0.8125rem] before:w-px before:bg-border last:before:hidden";

/** A store's timeline: every event, oldest first, so the newest is at the bottom where a
 * live one appears. Failures stand out with their reason; structured detail unfolds. The
 * object events of one apply pass fold into one line, and so do the steps of one backup or
 * restore; revision steps read as headlines. */
export function Timeline({ events }: { events: readonly StoreEvent[] }) {
  const entries = useMemo(() => groupTimeline(events), [events]);
  if (events.length === 0) {
    return <p className="text-sm text-muted-foreground">Nothing has happened yet.</p>;
  }
  return (
    <ol className="relative flex flex-col" aria-label="Timeline" data-testid="timeline">
      {entries.map((entry) =>
        entry.type === "objects" ? (
          <GroupItem key={entry.key} group={entry} />
        ) : entry.type === "backup" ? (
          <BackupItem key={entry.key} group={entry} />
        ) : (
          <TimelineItem key={entry.key} event={entry.event} headline={entry.headline} />
        ),
      )}
    </ol>
  );
}

/** The look of a revision step, by the status it reports. */
function headlineTone(event: StoreEvent): string {
  const status = isRecord(event.detail) ? event.detail.status : undefined;
  if (status === "deployed") return "border-success/40 bg-success/10 text-success";
  if (status === "failed") return "border-destructive/40 bg-destructive/10 text-destructive";
  if (status === "rolled_back") return "border-warning/40 bg-warning/10 text-warning";
  return "border-info/40 bg-info/10 text-info";
}

function TimelineItem({ event, headline = false }: { event: StoreEvent; headline?: boolean }) {
  const Icon = headline ? History : (ICON[event.kind] ?? CircleDot);
  const failed = event.kind === "failed";
  const retry = event.kind === "retry";
  const detail = isRecord(event.detail) ? Object.entries(event.detail) : [];
  return (
    <li className={ITEM} data-kind={event.kind} data-headline={headline ? "revision" : undefined}>
      <span
        className={cn(
          "z-10 mt-0.5 flex size-7 items-center justify-center rounded-full border bg-card text-muted-foreground",
          failed && "border-destructive/40 bg-destructive/10 text-destructive",
          retry && "border-warning/40 bg-warning/10 text-warning",
          event.kind === "status_changed" && "text-foreground",
          headline && headlineTone(event),
        )}
        aria-hidden
      >
        <Icon className="size-3.5" />
      </span>
      <div
        className={cn(
          "min-w-0 rounded-md px-2 py-1",
          failed && "border border-destructive/30 bg-destructive/5 py-2",
        )}
        role={failed ? "alert" : undefined}
      >
        <div className="flex flex-wrap items-baseline gap-x-2">
          {failed && <span className="text-sm font-semibold text-destructive">Failed:</span>}
          <p className={cn("min-w-0 text-sm wrap-anywhere", failed && "text-destructive", headline && "font-semibold")}>
            {event.message}
          </p>
        </div>
        <p className="text-xs text-muted-foreground">
          <time dateTime={event.at} title={exactTime(event.at)}>
            {clockTime(event.at)}
          </time>{" "}
          · {event.actor}
        </p>
        {detail.length > 0 && (
          <details className="group mt-1 text-xs">
            <summary className="inline-flex cursor-pointer list-none items-center gap-1 rounded-sm text-muted-foreground outline-none select-none hover:text-foreground focus-visible:ring-2 focus-visible:ring-ring [&::-webkit-details-marker]:hidden">
              <ChevronRight className="size-3 transition-transform group-open:rotate-90" aria-hidden />
              Details
            </summary>
            <dl className="mt-1 grid grid-cols-[auto_minmax(0,1fr)] gap-x-3 gap-y-0.5 rounded-md bg-muted px-2 py-1.5 font-mono">
              {detail.map(([key, value]) => (
                <div key={key} className="contents">
                  <dt className="text-muted-foreground">{key}</dt>
                  <dd className="break-all">{typeof value === "string" ? value : JSON.stringify(value)}</dd>
                </div>
              ))}
            </dl>
          </details>
        )}
      </div>
    </li>
  );
}

/** One line for the object events of an apply pass; unfolds to list them. */
function GroupItem({ group }: { group: ObjectGroup }) {
  const [open, setOpen] = useState(false);
  const listId = useId();
  const first = group.events[0];
  const last = group.events[group.events.length - 1];
  const drift = group.restored > 0 && group.applied === 0;
  const Icon = drift ? Wrench : Layers;
  return (
    <li className={ITEM} data-kind="objects" data-count={group.events.length}>
      <span
        className={cn(
          "z-10 mt-0.5 flex size-7 items-center justify-center rounded-full border bg-card text-muted-foreground",
          drift && "border-warning/40 bg-warning/10 text-warning",
        )}
        aria-hidden
      >
        <Icon className="size-3.5" />
      </span>
      <div className="min-w-0 rounded-md px-2 py-1">
        <button
          type="button"
          className="group inline-flex max-w-full items-center gap-1 rounded-sm text-left text-sm outline-none hover:underline focus-visible:ring-2 focus-visible:ring-ring"
          aria-expanded={open}
          aria-controls={listId}
          onClick={() => setOpen(!open)}
        >
          <ChevronRight className={cn("size-3.5 shrink-0 transition-transform", open && "rotate-90")} aria-hidden />
          <span className="wrap-anywhere">{groupTitle(group)}</span>
        </button>
        <p className="text-xs text-muted-foreground">
          <time dateTime={first.at} title={exactTime(first.at)}>
            {clockTime(first.at)}
          </time>
          {last.at !== first.at && (
            <>
              {"–"}
              <time dateTime={last.at} title={exactTime(last.at)}>
                {clockTime(last.at)}
              </time>
            </>
          )}{" "}
          · {first.actor}
          {group.outcomes.length > 0 && <> · {group.outcomes.map(([outcome, n]) => `${n} ${outcome}`).join(", ")}</>}
        </p>
        {open && (
          <ol id={listId} className="mt-1.5 flex flex-col gap-0.5 rounded-md bg-muted px-2 py-1.5 text-xs" aria-label={groupTitle(group)}>
            {group.events.map((event) => (
              <li key={event.seq} className="flex flex-wrap items-baseline gap-x-2" data-kind={event.kind}>
                <span className="min-w-0 wrap-anywhere">{event.message}</span>
                <time className="text-muted-foreground" dateTime={event.at} title={exactTime(event.at)}>
                  {clockTime(event.at)}
                </time>
              </li>
            ))}
          </ol>
        )}
      </div>
    </li>
  );
}

/** The look of a backup or restore, by the status its latest step reports. */
function backupTone(status: string | null): string {
  if (status === "succeeded") return "border-success/40 bg-success/10 text-success";
  if (status === "failed") return "border-destructive/40 bg-destructive/10 text-destructive";
  return "border-info/40 bg-info/10 text-info";
}

/** One line for the steps of a backup or a restore: what its latest step says; unfolds to
 * list them all. */
function BackupItem({ group }: { group: BackupGroup }) {
  const [open, setOpen] = useState(false);
  const listId = useId();
  const first = group.events[0];
  const last = group.events[group.events.length - 1];
  const restore = group.step === "restore_backup";
  const Icon = restore ? ArchiveRestore : DatabaseBackup;
  const failed = group.status === "failed";
  const title = <span className={cn("wrap-anywhere", failed && "text-destructive")}>{last.message}</span>;
  return (
    <li
      className={ITEM}
      data-kind={restore ? "restore" : "backup"}
      data-backup={group.backup}
      data-status={group.status ?? undefined}
      data-count={group.events.length}
    >
      <span
        className={cn("z-10 mt-0.5 flex size-7 items-center justify-center rounded-full border bg-card", backupTone(group.status))}
        aria-hidden
      >
        <Icon className="size-3.5" />
      </span>
      <div className="min-w-0 rounded-md px-2 py-1">
        {group.events.length > 1 ? (
          <button
            type="button"
            className="group inline-flex max-w-full items-center gap-1 rounded-sm text-left text-sm outline-none hover:underline focus-visible:ring-2 focus-visible:ring-ring"
            aria-expanded={open}
            aria-controls={listId}
            onClick={() => setOpen(!open)}
          >
            <ChevronRight className={cn("size-3.5 shrink-0 transition-transform", open && "rotate-90")} aria-hidden />
            {title}
          </button>
        ) : (
          <p className="min-w-0 text-sm">{title}</p>
        )}
        <p className="text-xs text-muted-foreground">
          <time dateTime={first.at} title={exactTime(first.at)}>
            {clockTime(first.at)}
          </time>
          {last.at !== first.at && (
            <>
              {"–"}
              <time dateTime={last.at} title={exactTime(last.at)}>
                {clockTime(last.at)}
              </time>
            </>
          )}{" "}
          · {first.actor}
        </p>
        {open && (
          <ol id={listId} className="mt-1.5 flex flex-col gap-0.5 rounded-md bg-muted px-2 py-1.5 text-xs" aria-label={last.message}>
            {group.events.map((event) => (
              <li key={event.seq} className="flex flex-wrap items-baseline gap-x-2" data-kind={event.kind}>
                <span className="min-w-0 wrap-anywhere">{event.message}</span>
                <time className="text-muted-foreground" dateTime={event.at} title={exactTime(event.at)}>
                  {clockTime(event.at)}
                </time>
              </li>
            ))}
          </ol>
        )}
      </div>
    </li>
  );
}
