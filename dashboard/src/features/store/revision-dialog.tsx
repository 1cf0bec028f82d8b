import { useQuery } from "@tanstack/react-query";
import { LoaderCircle } from "lucide-react";
import type { ReactNode } from "react";
import { ErrorText } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { api, describeError } from "@/lib/api";
import { exactTime } from "@/lib/time";
import type { RevisionDetail } from "@/lib/types";

/** One revision as recorded: its settings, digests, checkpoint and manifest. */
export function RevisionDialog({ storeId, number, onClose }: { storeId: string; number: number | null; onClose: () => void }) {
  return (
    <Dialog open={number !== null} onOpenChange={(open) => !open && onClose()}>
      <DialogContent className="sm:max-w-3xl">
        <DialogHeader>
          <DialogTitle>Revision {number}</DialogTitle>
          <DialogDescription>What it asked for, and the manifest it was rendered to (Secrets as placeholders).</DialogDescription>
        </DialogHeader>
        {number !== null && <RevisionBody storeId={storeId} number={number} />}
        <DialogFooter>
          <Button variant="outline" onClick={onClose}>
            Close
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}

function RevisionBody({ storeId, number }: { storeId: string; number: number }) {
  const revision = useQuery({ queryKey: ["revision", storeId, number], queryFn: () => api.revision(storeId, number) });
  if (revision.isPending) return <LoaderCircle className="size-5 animate-spin text-muted-foreground" aria-label="Loading" />;
  if (revision.isError) return <ErrorText>{describeError(revision.error)}</ErrorText>;
  const r: RevisionDetail = revision.data;
  return (
    <div className="flex min-w-0 flex-col gap-3">
      <dl className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-1 text-sm">
        <Item label="Status">{r.status.replace("_", " ")}</Item>
        <Item label="Release">
          <span className="font-mono text-xs">{r.release}</span>
        </Item>
        <Item label="Plan">{r.plan}</Item>
        <Item label="Title">{r.title}</Item>
        <Item label="Recorded">{exactTime(r.created_at)}</Item>
        {r.finished_at && <Item label="Finished">{exactTime(r.finished_at)}</Item>}
        {r.checkpoint && <Item label="Checkpoint">taken {exactTime(r.checkpoint.taken_at)}</Item>}
        <Item label="Manifest">
          <span className="font-mono text-xs break-all">{r.manifest_digest}</span>
        </Item>
        <Item label="Platform">
          <span className="font-mono text-xs break-all">{r.platform_digest}</span>
        </Item>
      </dl>
      {r.manifest === null ? (
        <p className="rounded-md border bg-muted/50 px-3 py-2 text-sm">The manifest of revision {number} is no longer kept.</p>
      ) : (
        <pre className="max-h-[50dvh] overflow-auto rounded-md border bg-muted/40 px-3 py-2 font-mono text-xs leading-5" data-testid="manifest">
          {r.manifest}
        </pre>
      )}
    </div>
  );
}

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-muted-foreground">{label}</dt>
      <dd className="min-w-0">{children}</dd>
    </>
  );
}
