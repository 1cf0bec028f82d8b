import { useQuery } from "@tanstack/react-query";
import { LoaderCircle } from "lucide-react";
import { ErrorText } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { api, describeError } from "@/lib/api";
import { cn } from "@/lib/utils";

export type DiffLine = "header" | "hunk" | "add" | "del" | "context";

/** What a line of a unified diff is, by its first characters. */
export function diffLineKind(line: string): DiffLine {
  if (line.startsWith("+++ ") || line.startsWith("--- ")) return "header";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  return "context";
}

const LOOK: Record<DiffLine, string> = {
  header: "font-semibold text-muted-foreground",
  hunk: "bg-info/10 text-info",
  add: "bg-success/10 text-success",
  del: "bg-destructive/10 text-destructive",
  context: "",
};

/** A unified diff, one line per row, added lines green and removed ones red. */
export function DiffView({ diff }: { diff: string }) {
  const lines = diff.replace(/\n$/, "").split("\n");
  const kinds = lines.map(diffLineKind);
  const added = kinds.filter((k) => k === "add").length;
  const removed = kinds.filter((k) => k === "del").length;
  return (
    <div className="flex min-w-0 flex-col gap-2">
      <p className="text-xs text-muted-foreground" data-testid="diff-summary">
        {added} {added === 1 ? "line" : "lines"} added, {removed} removed
      </p>
      <pre
        className="max-h-[60dvh] overflow-auto rounded-md border bg-muted/40 py-2 font-mono text-xs leading-5"
        data-testid="diff"
        aria-label="Differences between the manifests"
      >
        {lines.map((line, i) => (
          <span key={i} className={cn("block min-w-fit px-3 whitespace-pre", LOOK[kinds[i]])} data-line={kinds[i]}>
            {line === "" ? " " : line}
          </span>
        ))}
      </pre>
    </div>
  );
}

/** The difference between two revisions' manifests, as the API computes it. */
export function RevisionDiff({ storeId, from, to }: { storeId: string; from: number; to: number }) {
  const diff = useQuery({ queryKey: ["diff", storeId, from, to], queryFn: () => api.diff(storeId, from, to) });
  if (diff.isPending) {
    return (
      <p className="flex items-center gap-2 text-sm text-muted-foreground">
        <LoaderCircle className="size-4 animate-spin" aria-hidden />
        Comparing…
      </p>
    );
  }
  // A pruned manifest (409 manifest_pruned) is said as the API says it.
  if (diff.isError) return <ErrorText>{describeError(diff.error)}</ErrorText>;
  if (diff.data.identical) {
    return (
      <p className="rounded-md border bg-muted/50 px-3 py-2 text-sm" data-testid="diff-identical">
        Revisions {from} and {to} are identical: their manifests do not differ.
      </p>
    );
  }
  return <DiffView diff={diff.data.diff} />;
}

export function DiffDialog({
  storeId,
  pair,
  onClose,
}: {
  storeId: string;
  /** The two revisions to compare, older first; none when closed. */
  pair: [number, number] | null;
  onClose: () => void;
}) {
  return (
    <Dialog open={pair !== null} onOpenChange={(open) => !open && onClose()}>
      <DialogContent className="sm:max-w-4xl">
        <DialogHeader>
          <DialogTitle>{pair ? `Revision ${pair[0]} → revision ${pair[1]}` : "Compare"}</DialogTitle>
          <DialogDescription>What changes in the store's Kubernetes objects (Secrets shown as placeholders).</DialogDescription>
        </DialogHeader>
        {pair && <RevisionDiff storeId={storeId} from={pair[0]} to={pair[1]} />}
        <DialogFooter>
          <Button variant="outline" onClick={onClose}>
            Close
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
