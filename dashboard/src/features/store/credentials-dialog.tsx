import { LoaderCircle } from "lucide-react";
import { useId, useState } from "react";
import { CopyButton } from "@/components/copy-button";
import { ErrorText } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import type { Credentials } from "@/lib/types";

interface Props {
  open: boolean;
  /** The credentials once the API handed them out. */
  credentials: Credentials | undefined;
  /** Why they could not be revealed. */
  error: string | null;
  onClose: () => void;
}

/** Shows a store's admin credentials, the only time they can be seen. It will not close
 * (button, Escape or a click outside) until the person says they saved them. */
export function CredentialsDialog({ open, credentials, error, onClose }: Props) {
  const [saved, setSaved] = useState(false);
  const checkboxId = useId();
  const mayClose = saved || !credentials;
  const guard = (event: Event) => {
    if (!mayClose) event.preventDefault();
  };
  return (
    <Dialog open={open} onOpenChange={(next) => !next && mayClose && onClose()}>
      <DialogContent closable={mayClose} onEscapeKeyDown={guard} onInteractOutside={guard}>
        <DialogHeader>
          <DialogTitle>Admin credentials</DialogTitle>
          <DialogDescription>
            {credentials
              ? "Shown this once: storeplane keeps no copy you can see again. Save them in your password manager now."
              : error
                ? "The credentials cannot be shown."
                : "Revealing…"}
          </DialogDescription>
        </DialogHeader>
        {credentials ? (
          <div className="flex flex-col gap-3">
            <Secret label="Username" value={credentials.username} />
            <Secret label="Password" value={credentials.password} />
            <p className="text-sm">
              Sign in at{" "}
              <a className="underline underline-offset-4 break-all" href={credentials.admin_url} target="_blank" rel="noreferrer">
                {credentials.admin_url}
              </a>
            </p>
            <label htmlFor={checkboxId} className="flex items-center gap-2 rounded-md border bg-muted/50 p-3 text-sm font-medium">
              <input
                id={checkboxId}
                type="checkbox"
                className="size-4 accent-[var(--primary)]"
                checked={saved}
                onChange={(e) => setSaved(e.target.checked)}
              />
              I have saved these
            </label>
          </div>
        ) : error ? (
          <ErrorText>{error}</ErrorText>
        ) : (
          <LoaderCircle className="size-5 animate-spin text-muted-foreground" aria-label="Revealing" />
        )}
        <DialogFooter>
          <Button onClick={onClose} disabled={!mayClose}>
            {credentials ? "Done" : "Close"}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}

function Secret({ label, value }: { label: string; value: string }) {
  const id = useId();
  return (
    <div className="flex flex-col gap-1">
      <span id={id} className="text-xs font-medium text-muted-foreground">
        {label}
      </span>
      <div className="flex items-center gap-2">
        <code aria-labelledby={id} className="min-w-0 flex-1 rounded-md border bg-muted px-3 py-2 font-mono text-sm break-all" data-testid={`secret-${label.toLowerCase()}`}>
          {value}
        </code>
        <CopyButton value={value} label={label} />
      </div>
    </div>
  );
}
