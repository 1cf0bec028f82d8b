import { useMutation, useQueryClient } from "@tanstack/react-query";
import { LoaderCircle, TriangleAlert } from "lucide-react";
import { type FormEvent, useId, useState } from "react";
import { ErrorText } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input, Label } from "@/components/ui/input";
import { api, describeError } from "@/lib/api";
import { exactTime } from "@/lib/time";
import type { Backup, RestoreRequest, Store } from "@/lib/types";

interface Props {
  store: Store;
  /** The backup to restore; none when closed. */
  target: Backup | null;
  onClose: () => void;
}

/** The moment a backup holds the store as of: its dump is taken when it starts. */
function takenAt(backup: Backup): string {
  return backup.started_at ?? backup.created_at;
}

/** Restores a backup over the store's database and files, after saying what is lost. The
 * person types the store's name first, as for a delete: what was written since the backup
 * does not come back. */
export function RestoreDialog({ store, target, onClose }: Props) {
  return (
    <Dialog open={target !== null} onOpenChange={(open) => !open && onClose()}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Restore {store.name} from a backup?</DialogTitle>
          <DialogDescription data-testid="restore-replaces">
            {target && (
              <>
                The store's database and files are replaced by this backup from{" "}
                <time dateTime={takenAt(target)}>{exactTime(takenAt(target))}</time>
                {target.revision !== null && ` (revision ${target.revision})`}.
              </>
            )}
          </DialogDescription>
        </DialogHeader>
        {target && <RestoreForm key={target.id} store={store} target={target} onCancel={onClose} onDone={onClose} />}
      </DialogContent>
    </Dialog>
  );
}

export function RestoreForm({
  store,
  target,
  onCancel,
  onDone,
}: {
  store: Store;
  target: Backup;
  onCancel: () => void;
  onDone: () => void;
}) {
  const client = useQueryClient();
  const [reason, setReason] = useState("");
  const [typed, setTyped] = useState("");
  const ids = { reason: useId(), name: useId() };
  const restore = useMutation({
    mutationFn: () => {
      const body: RestoreRequest = { backup: target.id };
      if (reason.trim()) body.reason = reason.trim();
      return api.restore(store.id, body);
    },
    onSuccess: () => {
      // The restore is a new revision and the store's operation; the stream shows how it goes.
      void client.invalidateQueries({ queryKey: ["revisions", store.id] });
      void client.invalidateQueries({ queryKey: ["store", store.id], exact: true });
      void client.invalidateQueries({ queryKey: ["backups", store.id] });
      onDone();
    },
  });
  const matches = typed === store.name;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (matches && !restore.isPending) restore.mutate();
  };
  return (
    <form onSubmit={submit} className="flex flex-col gap-4">
      <div className="flex flex-col gap-2 rounded-md border border-destructive/30 bg-destructive/5 px-3 py-3 text-sm" data-testid="restore-loss">
        <p className="flex items-start gap-2 text-destructive">
          <TriangleAlert className="mt-0.5 size-4 shrink-0" aria-hidden />
          <strong>Orders, customers and uploads written since then are lost.</strong>
        </p>
        <p>
          The storefront shows a maintenance page until the restore is done. The restore is recorded as a revision you
          can roll back.
        </p>
      </div>

      <div className="flex flex-col gap-2">
        <Label htmlFor={ids.reason}>
          Reason <span className="font-normal text-muted-foreground">(optional)</span>
        </Label>
        <Input id={ids.reason} autoComplete="off" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
      </div>
      <div className="flex flex-col gap-2">
        <Label htmlFor={ids.name}>
          Type <span className="font-mono">{store.name}</span> to confirm
        </Label>
        <Input
          id={ids.name}
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
        />
      </div>

      <ErrorText>{restore.isError ? describeError(restore.error) : null}</ErrorText>

      <DialogFooter>
        <Button variant="outline" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" variant="destructive" disabled={!matches || restore.isPending}>
          {restore.isPending && <LoaderCircle className="animate-spin" aria-hidden />}
          Restore backup
        </Button>
      </DialogFooter>
    </form>
  );
}
