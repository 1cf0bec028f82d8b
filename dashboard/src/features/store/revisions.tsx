import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import {
  CircleCheck,
  CircleDashed,
  CircleX,
  GitCompareArrows,
  History,
  LoaderCircle,
  type LucideIcon,
  Undo2,
} from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { RelativeTime } from "@/components/time";
import { ErrorText } from "@/components/ui/alert";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle, Skeleton } from "@/components/ui/card";
import { api, describeError } from "@/lib/api";
import { shortBackupId } from "@/lib/short-ids";
import type { Revision, RevisionStatus, Store } from "@/lib/types";
import { DiffDialog } from "./diff-dialog";
import { RevisionDialog } from "./revision-dialog";
import { RollbackDialog } from "./rollback-dialog";

const LOOK: Record<RevisionStatus, { label: string; tone: BadgeTone; Icon: LucideIcon; spin?: boolean }> = {
  pending: { label: "Pending", tone: "neutral", Icon: CircleDashed },
  applying: { label: "Applying", tone: "info", Icon: LoaderCircle, spin: true },
  deployed: { label: "Deployed", tone: "success", Icon: CircleCheck },
  failed: { label: "Failed", tone: "danger", Icon: CircleX },
  superseded: { label: "Superseded", tone: "neutral", Icon: History },
  rolled_back: { label: "Rolled back", tone: "warning", Icon: Undo2 },
};

export function RevisionStatusBadge({ status }: { status: RevisionStatus }) {
  const { label, tone, Icon, spin } = LOOK[status] ?? LOOK.pending;
  return (
    <Badge tone={tone}>
      <Icon aria-hidden className={spin ? "animate-spin motion-reduce:animate-none" : undefined} />
      {label}
    </Badge>
  );
}

/** "plan small -> medium", "first provisioning", "roll back to revision 2 (plan …)",
 * "restore backup e204f8f0". */
export function whatChanged(revision: Revision): string {
  // A restore runs the spec the store runs ("no change to the spec"): what it changes is
  // the data, from the backup it names.
  if (revision.restores_backup) return `restore backup ${shortBackupId(revision.restores_backup)}`;
  const changes = revision.changes || (revision.number === 1 ? "first provisioning" : "no setting changed");
  if (revision.rollback_of === null) return changes;
  const head = `roll back to revision ${revision.rollback_of}`;
  // The server may already say "rollback to revision N"; keep only what it adds.
  const extra = revision.changes.replace(/^rollback to revision \d+:?\s*/, "");
  return extra ? `${head} (${extra})` : head;
}

/** Whether the store can go (back) to `revision` now: not the one it runs, and nothing in
 * flight. A store left on a failed revision can go back to the one it still runs. */
function canReturnTo(store: Store, revision: Revision, newest: Revision | undefined): boolean {
  if (store.operation || (store.status !== "ready" && store.status !== "failed")) return false;
  if (revision.status === "pending" || revision.status === "applying") return false;
  if (newest && (newest.status === "pending" || newest.status === "applying")) return false;
  return revision.status !== "deployed" || newest?.status === "failed";
}

/** A store's revisions, newest first: what changed, who asked, when, and how it went. Two
 * can be compared; any other than the one it runs can be gone back to. */
export function Revisions({ store }: { store: Store }) {
  const client = useQueryClient();
  const revisions = useInfiniteQuery({
    queryKey: ["revisions", store.id],
    queryFn: ({ pageParam }) => api.revisions(store.id, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const [selected, setSelected] = useState<number[]>([]);
  const [comparing, setComparing] = useState<[number, number] | null>(null);
  const [target, setTarget] = useState<Revision | null>(null);
  const [shown, setShown] = useState<number | null>(null);

  // The store's own record moves with its revisions (live, over the event stream): when it
  // names a revision or an operation the list does not show yet, read the list again.
  const items = revisions.data?.pages.flatMap((p) => p.items) ?? [];
  const newest = items[0];
  const heads = `${store.id} ${store.revision} ${store.latest_revision} ${store.operation?.description}`;
  const seenHeads = useRef(heads);
  useEffect(() => {
    if (seenHeads.current === heads) return;
    seenHeads.current = heads;
    void client.invalidateQueries({ queryKey: ["revisions", store.id] });
  }, [client, store.id, heads]);

  const toggle = (number: number) =>
    setSelected((old) => (old.includes(number) ? old.filter((n) => n !== number) : [...old, number].slice(-2)));
  const pair = selected.length === 2 ? ([Math.min(...selected), Math.max(...selected)] as [number, number]) : null;

  return (
    <Card>
      <CardHeader className="flex-row flex-wrap items-center justify-between gap-2">
        <CardTitle>Revisions</CardTitle>
        <Button variant="outline" size="sm" disabled={!pair} onClick={() => setComparing(pair)}>
          <GitCompareArrows aria-hidden />
          {pair ? `Compare ${pair[0]} and ${pair[1]}` : "Compare two"}
        </Button>
      </CardHeader>
      <CardContent>
        {revisions.isPending ? (
          <div className="flex flex-col gap-3">
            <Skeleton className="h-5 w-3/4" />
            <Skeleton className="h-5 w-1/2" />
          </div>
        ) : revisions.isError ? (
          <ErrorText>{describeError(revisions.error)}</ErrorText>
        ) : items.length === 0 ? (
          <p className="text-sm text-muted-foreground">No revision yet: the first is recorded when the store is provisioned.</p>
        ) : (
          <div className="flex flex-col gap-3">
            <div className="relative overflow-x-auto">
              <table className="w-full text-sm" data-testid="revisions">
                <caption className="sr-only">Revisions of this store, newest first</caption>
                <thead>
                  <tr className="text-left text-xs text-muted-foreground uppercase tracking-wide">
                    <th scope="col" className="w-8 py-1.5 pr-2 font-medium">
                      <span className="sr-only">Compare</span>
                    </th>
                    <th scope="col" className="py-1.5 pr-3 font-medium">#</th>
                    <th scope="col" className="py-1.5 pr-3 font-medium">What changed</th>
                    <th scope="col" className="py-1.5 pr-3 font-medium">Status</th>
                    <th scope="col" className="hidden py-1.5 pr-3 font-medium md:table-cell">Who</th>
                    <th scope="col" className="hidden py-1.5 pr-3 font-medium md:table-cell">When</th>
                    <th scope="col" className="py-1.5 font-medium">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y">
                  {items.map((revision) => (
                    <RevisionRow
                      key={revision.number}
                      revision={revision}
                      selected={selected.includes(revision.number)}
                      onToggle={() => toggle(revision.number)}
                      onShow={() => setShown(revision.number)}
                      onReturn={canReturnTo(store, revision, newest) ? () => setTarget(revision) : undefined}
                      forward={store.revision !== null && revision.number > store.revision}
                    />
                  ))}
                </tbody>
              </table>
            </div>
            {revisions.hasNextPage && (
              <Button
                variant="ghost"
                size="sm"
                className="self-start"
                disabled={revisions.isFetchingNextPage}
                onClick={() => void revisions.fetchNextPage()}
              >
                {revisions.isFetchingNextPage && <LoaderCircle className="animate-spin" aria-hidden />}
                Show older revisions
              </Button>
            )}
          </div>
        )}
      </CardContent>
      <DiffDialog storeId={store.id} pair={comparing} onClose={() => setComparing(null)} />
      <RollbackDialog store={store} target={target} onClose={() => setTarget(null)} />
      <RevisionDialog storeId={store.id} number={shown} onClose={() => setShown(null)} />
    </Card>
  );
}

function RevisionRow({
  revision,
  selected,
  onToggle,
  onShow,
  onReturn,
  forward,
}: {
  revision: Revision;
  selected: boolean;
  onToggle: () => void;
  onShow: () => void;
  /** Offered when the store can go to this revision now. */
  onReturn: (() => void) | undefined;
  /** It is newer than the one the store runs (a failed or rolled back change). */
  forward: boolean;
}) {
  const n = revision.number;
  return (
    <tr data-revision={n} data-revision-status={revision.status} className="align-top">
      <td className="py-2 pr-2">
        <input
          type="checkbox"
          className="mt-0.5 size-4 accent-[var(--primary)]"
          aria-label={`Compare revision ${n}`}
          checked={selected}
          onChange={onToggle}
        />
      </td>
      <td className="py-2 pr-3">
        <button
          type="button"
          className="rounded-sm font-mono tabular-nums underline underline-offset-4 outline-none hover:text-foreground focus-visible:ring-2 focus-visible:ring-ring"
          aria-label={`Show revision ${n}`}
          onClick={onShow}
        >
          {n}
        </button>
      </td>
      <td className="min-w-36 py-2 pr-3">
        <p className="wrap-anywhere">{whatChanged(revision)}</p>
        <p className="text-xs text-muted-foreground wrap-anywhere md:hidden">
          {revision.actor} · <RelativeTime iso={revision.created_at} />
        </p>
        {revision.restores !== null && (
          <p className="text-xs text-warning">
            restored the checkpoint taken before revision {revision.restores}; orders written since were lost
          </p>
        )}
        {revision.reason && revision.reason !== whatChanged(revision) && <p className="text-xs text-muted-foreground wrap-anywhere">“{revision.reason}”</p>}
        {revision.failure && (
          <p className="text-xs text-destructive wrap-anywhere" data-testid="revision-failure">
            {revision.failure}
          </p>
        )}
        {!revision.manifest_kept && <p className="text-xs text-muted-foreground">manifest no longer kept</p>}
      </td>
      <td className="py-2 pr-3">
        <RevisionStatusBadge status={revision.status} />
      </td>
      <td className="hidden py-2 pr-3 text-muted-foreground wrap-anywhere md:table-cell">{revision.actor}</td>
      <td className="hidden py-2 pr-3 whitespace-nowrap text-muted-foreground md:table-cell">
        <RelativeTime iso={revision.created_at} />
      </td>
      <td className="py-1 text-right">
        {onReturn && (
          <Button variant="outline" size="sm" onClick={onReturn} aria-label={forward ? `Apply revision ${n} again` : `Roll back to revision ${n}`}>
            <Undo2 aria-hidden />
            {forward ? "Apply again" : "Roll back"}
          </Button>
        )}
      </td>
    </tr>
  );
}
