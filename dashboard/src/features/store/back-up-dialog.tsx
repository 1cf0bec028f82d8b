import { useMutation, useQueryClient } from "@tanstack/react-query";
import { LoaderCircle } from "lucide-react";
import { type FormEvent, useId, useState } from "react";
import { ErrorText } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input, Label } from "@/components/ui/input";
import { api, describeError } from "@/lib/api";
import type { Backup, BackupRequest, Store } from "@/lib/types";

interface Props {
  store: Store;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}

/** Takes a manual backup of the store, with an optional reason; says why when the API
 * refuses (a backup or a change already in progress, a store not ready). */
export function BackUpDialog({ store, open, onOpenChange }: Props) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Back up {store.name} now?</DialogTitle>
          <DialogDescription>
            storeplane takes a manual backup of the store's database and files. It is kept apart from the scheduled
            backups: they never push it out.
          </DialogDescription>
        </DialogHeader>
        {/* The form unmounts with the dialog, so a reopened one starts blank. */}
        <BackUpForm store={store} onCancel={() => onOpenChange(false)} onDone={() => onOpenChange(false)} />
      </DialogContent>
    </Dialog>
  );
}

export function BackUpForm({ store, onCancel, onDone }: { store: Store; onCancel: () => void; onDone: () => void }) {
  const client = useQueryClient();
  const [reason, setReason] = useState("");
  const reasonId = useId();
  const backUp = useMutation({
    mutationFn: () => {
      const body: BackupRequest = {};
      if (reason.trim()) body.reason = reason.trim();
      return api.backUp(store.id, body);
    },
    onSuccess: (backup) => {
      // Shown at once as pending; the stream and the list's own polling take it from there.
      client.setQueryData<Backup[]>(["backups", store.id], (old) =>
        old && !old.some((b) => b.id === backup.id) ? [backup, ...old] : old,
      );
      void client.invalidateQueries({ queryKey: ["backups", store.id] });
      // The store's operation in progress is now this backup.
      void client.invalidateQueries({ queryKey: ["store", store.id], exact: true });
      onDone();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!backUp.isPending) backUp.mutate();
  };
  return (
    <form onSubmit={submit} className="flex flex-col gap-4">
      <div className="flex flex-col gap-2">
        <Label htmlFor={reasonId}>
          Reason <span className="font-normal text-muted-foreground">(optional)</span>
        </Label>
        <Input
          id={reasonId}
          autoComplete="off"
          maxLength={500}
          placeholder="before the plugin update"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </div>
      <ErrorText>{backUp.isError ? describeError(backUp.error) : null}</ErrorText>
      <DialogFooter>
        <Button variant="outline" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={backUp.isPending}>
          {backUp.isPending && <LoaderCircle className="animate-spin" aria-hidden />}
          Start backup
        </Button>
      </DialogFooter>
    </form>
  );
}
