import { useMutation, useQueryClient } from "@tanstack/react-query";
import { LoaderCircle } from "lucide-react";
import { type FormEvent, useId, useState } from "react";
import { ErrorText } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input, Label } from "@/components/ui/input";
import { api, describeError } from "@/lib/api";
import { applyStore } from "@/lib/live";
import type { Store } from "@/lib/types";

/** What becomes of a store's backups once it is deleted: kept for the configured days,
 * restorable as a new store until then. */
export function backupsKept(days: number): string {
  if (days <= 0) return "Its backups are purged with it: none can be restored once it is deleted.";
  return `Its backups are kept for ${days} ${days === 1 ? "day" : "days"}: until then a backup can be restored as a new store.`;
}

/** Deleting a store destroys its namespace and data (its backups stay a while, restorable
 * as a new store): the person types its name first. */
export function DeleteDialog({ store, open, onOpenChange }: { store: Store; open: boolean; onOpenChange: (open: boolean) => void }) {
  const client = useQueryClient();
  const [typed, setTyped] = useState("");
  const inputId = useId();
  const remove = useMutation({
    mutationFn: () => api.deleteStore(store.id),
    onSuccess: (deleted) => {
      applyStore(client, deleted);
      onOpenChange(false);
    },
  });
  const matches = typed === store.name;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (matches && !remove.isPending) remove.mutate();
  };
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (!next) {
          setTyped("");
          remove.reset();
        }
        onOpenChange(next);
      }}
    >
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Delete {store.name}?</DialogTitle>
          <DialogDescription>
            Its namespace and everything in it (database, uploads, orders) are removed from the cluster. The store's
            history stays. This cannot be undone.
          </DialogDescription>
        </DialogHeader>
        <p className="text-sm" data-testid="backups-kept">
          {backupsKept(store.backup.keep_after_delete_days)}
        </p>
        <form onSubmit={submit} className="flex flex-col gap-4">
          <div className="flex flex-col gap-2">
            <Label htmlFor={inputId}>
              Type <span className="font-mono">{store.name}</span> to confirm
            </Label>
            <Input
              id={inputId}
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
            />
          </div>
          <ErrorText>{remove.isError ? describeError(remove.error) : null}</ErrorText>
          <DialogFooter>
            <Button variant="outline" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="destructive" disabled={!matches || remove.isPending}>
              {remove.isPending && <LoaderCircle className="animate-spin" aria-hidden />}
              Delete store
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
