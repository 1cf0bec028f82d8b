import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useEffect } from "react";
import { ConnectionBanner } from "@/components/connection-banner";
import { Header } from "@/components/header";
import { Link } from "@/components/link";
import { Skeleton } from "@/components/ui/card";
import { SignedOut } from "@/features/session/signed-out";
import { StoresPage } from "@/features/stores/stores-page";
import { ApiError, api, describeError, setCsrfToken } from "@/lib/api";
import { useLiveUpdates } from "@/lib/live";
import { parseRoute, usePathname } from "@/lib/router";

// The store page is only needed once a store is opened: keep it out of the first download.
const StorePage = lazy(() => import("@/features/store/store-page"));

export function App() {
  const session = useQuery({ queryKey: ["session"], queryFn: api.session });
  useEffect(() => setCsrfToken(session.data?.csrf_token ?? null), [session.data]);
  useLiveUpdates(session.isSuccess);
  const route = parseRoute(usePathname());

  if (session.isPending) {
    return (
      <main className="mx-auto max-w-6xl p-6" aria-busy="true">
        <Skeleton className="h-8 w-48" />
      </main>
    );
  }
  if (session.isError) {
    const error = session.error;
    if (error instanceof ApiError && error.status === 401) return <SignedOut />;
    return <SignedOut problem={describeError(error)} />;
  }
  return (
    <div className="min-h-dvh">
      <a
        href="#main"
        className="sr-only rounded-md bg-card px-3 py-2 focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50"
      >
        Skip to content
      </a>
      <Header session={session.data} />
      <ConnectionBanner />
      <main id="main" className="mx-auto max-w-6xl px-3 py-6 sm:px-6">
        {route.page === "stores" && <StoresPage />}
        {route.page === "store" && (
          <Suspense fallback={<Skeleton className="h-40 w-full" />}>
            <StorePage id={route.id} />
          </Suspense>
        )}
        {route.page === "not-found" && (
          <div className="py-16 text-center">
            <h1 className="text-xl font-semibold">Nothing here</h1>
            <p className="mt-2 text-muted-foreground">
              This page does not exist.{" "}
              <Link className="underline underline-offset-4" href="/">
                See your stores
              </Link>
              .
            </p>
          </div>
        )}
      </main>
    </div>
  );
}
