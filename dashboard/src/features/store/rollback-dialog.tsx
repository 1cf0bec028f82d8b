import { useMutation, useQueryClient } from "@tanstack/react-query";
import { LoaderCircle, ShieldCheck, TriangleAlert } from "lucide-react";
import { type FormEvent, useId, useState } from "react";
import { ErrorText } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input, Label } from "@/components/ui/input";
import { ApiError, api, describeError } from "@/lib/api";
import { applyStore } from "@/lib/live";
import type { Revision, RollbackRequest, Store } from "@/lib/types";

interface Props {
  store: Store;
  /** The revision to go back to; none when closed. */
  target: Revision | null;
  onClose: () => void;
}

/** Goes back to an earlier revision's settings and manifest, as a new revision, after
 * saying what happens to the store's data. */
export function RollbackDialog({ store, target, onClose }: Props) {
  const forward = target !== null && store.revision !== null && target.number > store.revision;
  return (
    <Dialog open={target !== null} onOpenChange={(open) => !open && onClose()}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{target ? (forward ? `Apply revision ${target.number} again?` : `Roll back to revision ${target.number}?`) : "Roll back"}</DialogTitle>
          <DialogDescription>
            {target &&
              `storeplane records a new revision with revision ${target.number}'s settings (${target.plan} plan, release ${target.release}, title "${target.title}") and applies them.`}
          </DialogDescription>
        </DialogHeader>
        {target && <RollbackForm key={target.number} store={store} target={target} onCancel={onClose} onDone={onClose} />}
      </DialogContent>
    </Dialog>
  );
}

export function RollbackForm({
  store,
  target,
  onCancel,
  onDone,
}: {
  store: Store;
  target: Revision;
  onCancel: () => void;
  onDone: () => void;
}) {
  const client = useQueryClient();
  const forward = store.revision !== null && target.number > store.revision;
  const [reason, setReason] = useState("");
  // The API's word that going back would lose data, once it said so.
  const [dataLoss, setDataLoss] = useState<string | null>(null);
  const [restore, setRestore] = useState(false);
  const ids = { reason: useId(), restore: useId() };

  const rollback = useMutation({
    mutationFn: () => {
      const body: RollbackRequest = { revision: target.number };
      if (dataLoss !== null && restore) body.restore_checkpoint = true;
      if (reason.trim()) body.reason = reason.trim();
      return api.rollback(store.id, body);
    },
    onSuccess: (response) => {
      applyStore(client, response.store);
      void client.invalidateQueries({ queryKey: ["revisions", store.id] });
      onDone();
    },
    onError: (error) => {
      if (error instanceof ApiError && error.code === "would_lose_data") setDataLoss(error.message);
    },
  });

  const refusedForData = rollback.error instanceof ApiError && rollback.error.code === "would_lose_data";
  const formError = rollback.isError && !rollback.isPending && !refusedForData ? describeError(rollback.error) : null;
  const mayGo = !rollback.isPending && (dataLoss === null || restore);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mayGo) rollback.mutate();
  };

  return (
    <form onSubmit={submit} className="flex flex-col gap-4">
      {dataLoss === null ? (
        <p className="flex items-start gap-2 rounded-md border border-success/30 bg-success/5 px-3 py-2 text-sm" data-testid="data-kept">
          <ShieldCheck className="mt-0.5 size-4 shrink-0 text-success" aria-hidden />
          <span>
            The store's data is kept: its database, uploads and orders stay as they are
            {target.release !== store.release && store.release ? `, and release ${target.release} runs on them` : ""}.
          </span>
        </p>
      ) : (
        <div className="flex flex-col gap-3 rounded-md border border-destructive/30 bg-destructive/5 px-3 py-3 text-sm" data-testid="data-loss">
          <p role="alert" className="flex items-start gap-2 text-destructive">
            <TriangleAlert className="mt-0.5 size-4 shrink-0" aria-hidden />
            <span>{dataLoss}</span>
          </p>
          <p>
            The older release cannot read data a newer release migrated. Going back means restoring the database from the
            checkpoint taken before that upgrade: <strong>orders and other data written since are lost.</strong>
          </p>
          <label htmlFor={ids.restore} className="flex items-start gap-2 font-medium">
            <input
              id={ids.restore}
              type="checkbox"
              className="mt-0.5 size-4 accent-[var(--destructive)]"
              checked={restore}
              onChange={(e) => setRestore(e.target.checked)}
            />
            Restore the checkpoint (orders written since it are lost)
          </label>
        </div>
      )}

      <div className="flex flex-col gap-2">
        <Label htmlFor={ids.reason}>
          Reason <span className="font-normal text-muted-foreground">(optional)</span>
        </Label>
        <Input id={ids.reason} autoComplete="off" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
      </div>

      <ErrorText>{formError}</ErrorText>

      <DialogFooter>
        <Button variant="outline" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" variant={dataLoss === null ? "default" : "destructive"} disabled={!mayGo}>
          {rollback.isPending && <LoaderCircle className="animate-spin" aria-hidden />}
          {dataLoss !== null ? "Roll back and restore the checkpoint" : forward ? "Apply again" : "Roll back"}
        </Button>
      </DialogFooter>
    </form>
  );
}
