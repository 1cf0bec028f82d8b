import { useMutation, useQueryClient } from "@tanstack/react-query";
import { LoaderCircle } from "lucide-react";
import { ErrorText } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { api, describeError } from "@/lib/api";
import { applyStore } from "@/lib/live";
import type { Store } from "@/lib/types";

interface Props {
  store: Store;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  /** Called once the API accepted the reset (202). */
  onRequested: () => void;
}

/** Asks before resetting the store's admin password: the current one stops working. */
export function ResetPasswordDialog({ store, open, onOpenChange, onRequested }: Props) {
  const client = useQueryClient();
  const reset = useMutation({
    mutationFn: () => api.resetPassword(store.id),
    onSuccess: (response) => {
      applyStore(client, response.store);
      onRequested();
      onOpenChange(false);
    },
  });
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (!next) reset.reset();
        onOpenChange(next);
      }}
    >
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Reset the admin password of {store.name}?</DialogTitle>
          <DialogDescription>
            storeplane sets a new random password for the store's admin account; the current one stops working. When
            the reset completes, the new password can be revealed once, here.
          </DialogDescription>
        </DialogHeader>
        <ErrorText>{reset.isError ? describeError(reset.error) : null}</ErrorText>
        <DialogFooter>
          <Button variant="outline" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button onClick={() => reset.mutate()} disabled={reset.isPending}>
            {reset.isPending && <LoaderCircle className="animate-spin" aria-hidden />}
            Reset password
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
