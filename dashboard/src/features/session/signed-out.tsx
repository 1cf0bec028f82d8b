import { KeyRound } from "lucide-react";
import { Card, CardContent } from "@/components/ui/card";

/** Shown when the browser has no session: how to get one. */
export function SignedOut({ problem }: { problem?: string }) {
  return (
    <main className="flex min-h-dvh items-center justify-center p-4">
      <Card className="w-full max-w-md">
        <CardContent className="flex flex-col gap-3">
          <div className="flex items-center gap-2">
            <KeyRound className="size-5 text-muted-foreground" aria-hidden />
            <h1 className="text-lg font-semibold">Sign in to storeplane</h1>
          </div>
          {problem ? (
            <p role="alert" className="text-sm text-destructive">
              {problem}
            </p>
          ) : (
            <p className="text-sm text-muted-foreground">
              You are not signed in. Open the one-time login link that <code className="font-mono">storeplane serve</code>{" "}
              printed when it started, or ask an admin for a new one. Each link works once.
            </p>
          )}
        </CardContent>
      </Card>
    </main>
  );
}
