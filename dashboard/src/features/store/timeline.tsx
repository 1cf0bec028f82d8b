import {
  Box,
  ChevronRight,
  CircleAlert,
  CircleDot,
  KeyRound,
  type LucideIcon,
  RefreshCw,
  Sparkles,
  Trash2,
  Workflow,
  Wrench,
} from "lucide-react";
import { exactTime, clockTime } from "@/lib/time";
import { isRecord } from "@/lib/objects";
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

/** A store's timeline: every event, oldest first, so the newest is at the bottom where a
 * live one appears. Failures stand out with their reason; structured detail unfolds. */
export function Timeline({ events }: { events: readonly StoreEvent[] }) {
  if (events.length === 0) {
    return <p className="text-sm text-muted-foreground">Nothing has happened yet.</p>;
  }
  return (
    <ol className="relative flex flex-col" aria-label="Timeline" data-testid="timeline">
      {events.map((event) => (
        <TimelineItem key={event.seq} event={event} />
      ))}
    </ol>
  );
}

function TimelineItem({ event }: { event: StoreEvent }) {
  const Icon = ICON[event.kind] ?? CircleDot;
  const failed = event.kind === "failed";
  const retry = event.kind === "retry";
  const detail = isRecord(event.detail) ? Object.entries(event.detail) : [];
  return (
    <li
      className="relative grid grid-cols-[1.75rem_minmax(0,1fr)] gap-x-3 pb-3 last:pb-0 before:absolute before:top-7 before:bottom-0 before:left-[0.8125rem] before:w-px before:bg-border last:before:hidden"
      data-kind={event.kind}
    >
      <span
        className={cn(
          "z-10 mt-0.5 flex size-7 items-center justify-center rounded-full border bg-card text-muted-foreground",
          failed && "border-destructive/40 bg-destructive/10 text-destructive",
          retry && "border-warning/40 bg-warning/10 text-warning",
          event.kind === "status_changed" && "text-foreground",
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
          <p className={cn("min-w-0 text-sm wrap-anywhere", failed && "text-destructive")}>{event.message}</p>
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
