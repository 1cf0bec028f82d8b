import { useQuery } from "@tanstack/react-query";
import { Moon, Server, Sun } from "lucide-react";
import { useState } from "react";
import { Link } from "@/components/link";
import { Button } from "@/components/ui/button";
import { api } from "@/lib/api";
import { isDark, setDark } from "@/lib/theme";
import type { Session } from "@/lib/types";

export function Header({ session }: { session: Session }) {
  const cluster = useQuery({ queryKey: ["cluster"], queryFn: api.cluster });
  const [dark, setDarkState] = useState(isDark);
  const clusterName = cluster.data ? (cluster.data.simulated ? "simulated" : cluster.data.name) : null;
  return (
    <header className="sticky top-0 z-30 border-b bg-background/90 backdrop-blur">
      <div className="mx-auto flex h-14 max-w-6xl items-center gap-3 px-3 sm:px-6">
        <Link
          href="/"
          className="flex items-center gap-2 rounded-md font-semibold tracking-tight outline-none focus-visible:ring-2 focus-visible:ring-ring"
        >
          <img src="/favicon.svg" alt="" className="size-6" />
          storeplane
        </Link>
        {clusterName && (
          <span
            className="hidden min-w-0 items-center gap-1.5 truncate rounded-full border px-2 py-0.5 text-xs text-muted-foreground sm:inline-flex"
            title={`Stores are provisioned in ${cluster.data?.name}`}
            data-testid="cluster"
          >
            <Server className="size-3" aria-hidden />
            <span className="sr-only">Cluster: </span>
            {clusterName}
          </span>
        )}
        <div className="ml-auto flex items-center gap-1">
          <span className="hidden text-sm text-muted-foreground sm:inline">{session.user.name}</span>
          <Button
            variant="ghost"
            size="icon"
            aria-label={dark ? "Switch to light theme" : "Switch to dark theme"}
            onClick={() => {
              setDark(!dark);
              setDarkState(!dark);
            }}
          >
            {dark ? <Sun aria-hidden /> : <Moon aria-hidden />}
          </Button>
        </div>
      </div>
    </header>
  );
}
