import { WifiOff } from "lucide-react";
import { useConnectionState } from "@/lib/live";

/** Says so when live updates stopped arriving; gone again once they resume. */
export function ConnectionBanner() {
  const state = useConnectionState();
  if (state !== "lost") return null;
  return (
    <div role="status" className="border-b border-warning/40 bg-warning/10 text-sm text-foreground" data-testid="connection-lost">
      <div className="mx-auto flex max-w-6xl items-center gap-2 px-3 py-2 sm:px-6">
        <WifiOff className="size-4 shrink-0 text-warning" aria-hidden />
        Connection to storeplane lost; reconnecting… Changes will appear once it is back.
      </div>
    </div>
  );
}
