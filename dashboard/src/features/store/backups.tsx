import { useQuery, useQueryClient } from "@tanstack/react-query";
import {
  ArchiveRestore,
  CircleCheck,
  CircleDashed,
  CircleX,
  DatabaseBackup,
  LoaderCircle,
  type LucideIcon,
  TriangleAlert,
} from "lucide-react";
import { useEffect, useId, useRef, useState } from "react";
import { RelativeTime } from "@/components/time";
import { ErrorText } from "@/components/ui/alert";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle, Skeleton } from "@/components/ui/card";
import { api, describeError } from "@/lib/api";
import { formatBytes } from "@/lib/bytes";
import { shortSnapshot } from "@/lib/short-ids";
import { duration, exactTime, shortTime } from "@/lib/time";
import type { Backup, BackupKind, BackupStatus, Store } from "@/lib/types";
import { BackUpDialog } from "./back-up-dialog";
import { RestoreDialog } from "./restore-dialog";

/** How often the list is read while a backup is pending or running. The stream says when
 * one is requested, starts and ends; reading in between keeps its row honest should an
 * event be missed while the connection was down. */
export const IN_FLIGHT_POLL_MS = 5000;

const LOOK: Record<BackupStatus, { label: string; tone: BadgeTone; Icon: LucideIcon; spin?: boolean }> = {
  pending: { label: "Pending", tone: "neutral", Icon: CircleDashed },
  running: { label: "Running", tone: "info", Icon: LoaderCircle, spin: true },
  succeeded: { label: "Succeeded", tone: "success", Icon: CircleCheck },
  failed: { label: "Failed", tone: "danger", Icon: CircleX },
};

const KIND: Record<BackupKind, string> = {
  scheduled: "Scheduled",
  manual: "Manual",
  // Taken by storeplane before a change that migrates the store's data.
  checkpoint: "Checkpoint",
};

export function BackupStatusBadge({ status }: { status: BackupStatus }) {
  const { label, tone, Icon, spin } = LOOK[status] ?? LOOK.pending;
  return (
    <Badge tone={tone}>
      <Icon aria-hidden className={spin ? "animate-spin motion-reduce:animate-none" : undefined} />
      {label}
    </Badge>
  );
}

const inFlight = (backup: Backup) => backup.status === "pending" || backup.status === "running";

/** Why the store cannot be backed up or restored now, or null when it can. The API would
 * refuse with 409 as well; saying so on the button spares the round trip. */
function heldBecause(store: Store, backups: readonly Backup[]): string | null {
  if (store.operation) return "Wait for the operation in progress to finish";
  if (backups.some(inFlight)) return "Wait for the backup in progress to finish";
  if (store.status !== "ready") return "Only a ready store can be backed up or restored";
  return null;
}

/** A store's backups: the schedule, the last one that succeeded, a warning when they fell
 * behind, and every backup, newest first. One can be taken now; any that succeeded can be
 * restored, as a new revision. */
export function Backups({ store }: { store: Store }) {
  const client = useQueryClient();
  const titleId = useId();
  const backups = useQuery({
    queryKey: ["backups", store.id],
    queryFn: () => api.backups(store.id),
    refetchInterval: (query) => (query.state.data?.some(inFlight) ? IN_FLIGHT_POLL_MS : false),
  });
  const [backingUp, setBackingUp] = useState(false);
  const [target, setTarget] = useState<Backup | null>(null);

  // The store's own record moves with its backups (live, over the event stream): when its
  // last backup or its operation changes, read the list again.
  const heads = `${store.id} ${store.backup.last_succeeded_at} ${store.operation?.description}`;
  const seenHeads = useRef(heads);
  useEffect(() => {
    if (seenHeads.current === heads) return;
    seenHeads.current = heads;
    void client.invalidateQueries({ queryKey: ["backups", store.id] });
  }, [client, store.id, heads]);

  const items = backups.data ?? [];
  const live = store.status !== "deleting" && store.status !== "deleted";
  const held = heldBecause(store, items);
  const { schedule, next_scheduled_at, last_succeeded_at, warning } = store.backup;

  return (
    <Card role="region" aria-labelledby={titleId}>
      <CardHeader className="flex-row flex-wrap items-center justify-between gap-2">
        <CardTitle id={titleId}>Backups</CardTitle>
        {live && (
          <Button variant="outline" size="sm" onClick={() => setBackingUp(true)} disabled={held !== null} title={held ?? undefined}>
            <DatabaseBackup aria-hidden />
            Back up now
          </Button>
        )}
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2">
          <div className="flex min-w-0 flex-col gap-0.5">
            <dt className="text-xs font-medium text-muted-foreground uppercase tracking-wide">Schedule</dt>
            <dd data-testid="backup-schedule">
              {schedule === null ? (
                <span className="text-muted-foreground">Scheduled backups off</span>
              ) : (
                <>
                  Scheduled every {schedule}
                  {next_scheduled_at && (
                    <>
                      {" · next at "}
                      <time dateTime={next_scheduled_at} title={exactTime(next_scheduled_at)}>
                        {shortTime(next_scheduled_at)}
                      </time>
                    </>
                  )}
                </>
              )}
            </dd>
          </div>
          <div className="flex min-w-0 flex-col gap-0.5">
            <dt className="text-xs font-medium text-muted-foreground uppercase tracking-wide">Last successful backup</dt>
            <dd data-testid="backup-last-succeeded">
              {last_succeeded_at ? <RelativeTime iso={last_succeeded_at} /> : <span className="text-muted-foreground">none yet</span>}
            </dd>
          </div>
        </dl>

        {warning && (
          <p
            role="alert"
            className="flex items-start gap-2 rounded-md border border-warning/40 bg-warning/5 px-3 py-2 text-sm"
            data-testid="backup-warning"
          >
            <TriangleAlert className="mt-0.5 size-4 shrink-0 text-warning" aria-hidden />
            <span>
              <span className="font-semibold">Backups need attention: </span>
              {warning}
            </span>
          </p>
        )}

        {backups.isPending ? (
          <div className="flex flex-col gap-3">
            <Skeleton className="h-5 w-3/4" />
            <Skeleton className="h-5 w-1/2" />
          </div>
        ) : backups.isError ? (
          <ErrorText>{describeError(backups.error)}</ErrorText>
        ) : items.length === 0 ? (
          <p className="text-sm text-muted-foreground">No backup yet.</p>
        ) : (
          <div className="relative overflow-x-auto">
            <table className="w-full text-sm" data-testid="backups">
              <caption className="sr-only">Backups of this store, newest first</caption>
              <thead>
                <tr className="text-left text-xs text-muted-foreground uppercase tracking-wide">
                  <th scope="col" className="py-1.5 pr-3 font-medium">When</th>
                  <th scope="col" className="hidden py-1.5 pr-3 font-medium md:table-cell">Kind</th>
                  <th scope="col" className="py-1.5 pr-3 font-medium">Status</th>
                  <th scope="col" className="hidden py-1.5 pr-3 text-right font-medium sm:table-cell">Size</th>
                  <th scope="col" className="hidden py-1.5 pr-3 text-right font-medium md:table-cell">Added</th>
                  <th scope="col" className="hidden py-1.5 pr-3 text-right font-medium md:table-cell">Took</th>
                  <th scope="col" className="hidden py-1.5 pr-3 font-medium lg:table-cell">Snapshot</th>
                  <th scope="col" className="hidden py-1.5 pr-3 font-medium md:table-cell">Who · why</th>
                  <th scope="col" className="py-1.5 font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y">
                {items.map((backup) => (
                  <BackupRow
                    key={backup.id}
                    backup={backup}
                    restorable={live && backup.status === "succeeded"}
                    held={held}
                    onRestore={() => setTarget(backup)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </CardContent>
      <BackUpDialog store={store} open={backingUp} onOpenChange={setBackingUp} />
      <RestoreDialog store={store} target={target} onClose={() => setTarget(null)} />
    </Card>
  );
}

const dash = <span className="text-muted-foreground">—</span>;

function BackupRow({
  backup,
  restorable,
  held,
  onRestore,
}: {
  backup: Backup;
  /** It succeeded, and the store is there to restore it onto. */
  restorable: boolean;
  /** Why it cannot be restored right now. */
  held: string | null;
  onRestore: () => void;
}) {
  return (
    <tr data-backup-id={backup.id} data-backup-status={backup.status} className="align-top">
      <td className="py-2 pr-3">
        <p className="whitespace-nowrap">
          <RelativeTime iso={backup.created_at} />
        </p>
        <p className="text-xs text-muted-foreground md:hidden">
          {KIND[backup.kind]}
          {backup.size_bytes !== null && <span className="whitespace-nowrap sm:hidden"> · {formatBytes(backup.size_bytes)}</span>}
        </p>
        {backup.revision !== null && <p className="text-xs text-muted-foreground">at revision {backup.revision}</p>}
        {backup.expires_at && (
          <p className="text-xs text-warning" data-testid="backup-expires">
            purged <RelativeTime iso={backup.expires_at} />
          </p>
        )}
      </td>
      <td className="hidden py-2 pr-3 md:table-cell">{KIND[backup.kind]}</td>
      <td className="py-2 pr-3 sm:min-w-28">
        <BackupStatusBadge status={backup.status} />
        {backup.failure && (
          <p className="mt-1 text-xs text-destructive wrap-anywhere" data-testid="backup-failure">
            {backup.failure}
          </p>
        )}
      </td>
      <td className="hidden py-2 pr-3 text-right whitespace-nowrap tabular-nums sm:table-cell" data-testid="backup-size">
        {backup.size_bytes === null ? dash : formatBytes(backup.size_bytes)}
      </td>
      <td className="hidden py-2 pr-3 text-right whitespace-nowrap tabular-nums md:table-cell" data-testid="backup-added">
        {backup.added_bytes === null ? dash : formatBytes(backup.added_bytes)}
      </td>
      <td className="hidden py-2 pr-3 text-right whitespace-nowrap tabular-nums md:table-cell" data-testid="backup-duration">
        {backup.duration_ms === null ? dash : duration(backup.duration_ms)}
      </td>
      <td className="hidden py-2 pr-3 lg:table-cell" data-testid="backup-snapshot">
        {/* restic's short form, as the timeline has it; the whole id on hover. */}
        {backup.snapshot ? (
          <code className="font-mono text-xs" title={backup.snapshot}>
            {shortSnapshot(backup.snapshot)}
          </code>
        ) : (
          dash
        )}
      </td>
      <td className="hidden min-w-32 py-2 pr-3 md:table-cell">
        <p className="text-muted-foreground wrap-anywhere">{backup.actor}</p>
        {backup.reason && <p className="text-xs text-muted-foreground wrap-anywhere">“{backup.reason}”</p>}
      </td>
      <td className="py-1 text-right">
        {restorable && (
          <Button variant="outline" size="sm" onClick={onRestore} disabled={held !== null} title={held ?? "Restore this backup"}>
            <ArchiveRestore aria-hidden />
            {/* Named on a phone too, where only the icon fits beside the status. */}
            <span className="sr-only sm:not-sr-only">Restore</span>
          </Button>
        )}
      </td>
    </tr>
  );
}
