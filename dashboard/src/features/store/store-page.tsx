import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ArrowLeft, ExternalLink, KeyRound, LoaderCircle, RotateCcw, ShieldCheck, Trash2 } from "lucide-react";
import { type ReactNode, useMemo, useState } from "react";
import { Link } from "@/components/link";
import { StatusBadge } from "@/components/status-badge";
import { RelativeTime } from "@/components/time";
import { ErrorText } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle, Skeleton } from "@/components/ui/card";
import { ApiError, api, describeError } from "@/lib/api";
import { applyStore } from "@/lib/live";
import { ownedObjects } from "@/lib/objects";
import type { Store } from "@/lib/types";
import { CredentialsDialog } from "./credentials-dialog";
import { DeleteDialog } from "./delete-dialog";
import { ObjectsTable } from "./objects-table";
import { Timeline } from "./timeline";

export default function StorePage({ id }: { id: string }) {
  const client = useQueryClient();
  const store = useQuery({
    queryKey: ["store", id],
    queryFn: () => api.store(id),
    initialData: () => client.getQueryData<Store[]>(["stores"])?.find((s) => s.id === id),
  });
  const events = useQuery({ queryKey: ["events", id], queryFn: () => api.events(id) });
  const objects = useMemo(() => ownedObjects(events.data ?? []), [events.data]);

  return (
    <div className="flex flex-col gap-6">
      <Link
        href="/"
        className="inline-flex w-fit items-center gap-1.5 rounded-sm text-sm text-muted-foreground outline-none hover:text-foreground focus-visible:ring-2 focus-visible:ring-ring"
      >
        <ArrowLeft className="size-4" aria-hidden />
        All stores
      </Link>
      {store.isError ? (
        <Card className="p-6">
          <h1 className="text-lg font-semibold">Store not found</h1>
          <ErrorText className="mt-2">{describeError(store.error)}</ErrorText>
        </Card>
      ) : !store.data ? (
        <Skeleton className="h-32 w-full" />
      ) : (
        <StoreSummary store={store.data} revealed={events.data?.some((e) => e.kind === "credentials_revealed") ?? false} />
      )}
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <Card>
          <CardHeader>
            <CardTitle>Timeline</CardTitle>
          </CardHeader>
          <CardContent>
            {events.isPending ? (
              <div className="flex flex-col gap-3">
                <Skeleton className="h-5 w-3/4" />
                <Skeleton className="h-5 w-2/3" />
                <Skeleton className="h-5 w-1/2" />
              </div>
            ) : events.isError ? (
              <ErrorText>{describeError(events.error)}</ErrorText>
            ) : (
              <Timeline events={events.data} />
            )}
          </CardContent>
        </Card>
        <Card className="h-fit">
          <CardHeader>
            <CardTitle>Kubernetes objects</CardTitle>
          </CardHeader>
          <CardContent>{events.data ? <ObjectsTable objects={objects} namespace={store.data?.namespace} /> : <Skeleton className="h-24 w-full" />}</CardContent>
        </Card>
      </div>
    </div>
  );
}

function StoreSummary({ store, revealed }: { store: Store; revealed: boolean }) {
  const client = useQueryClient();
  const [deleting, setDeleting] = useState(false);
  const [showCredentials, setShowCredentials] = useState(false);
  const [seen, setSeen] = useState(false);
  const retry = useMutation({
    mutationFn: () => api.retryStore(store.id),
    onSuccess: (next) => applyStore(client, next),
  });
  const reveal = useMutation({ mutationFn: () => api.revealCredentials(store.id) });
  const gone = revealed || seen || (reveal.error instanceof ApiError && reveal.error.code === "credentials_revealed");
  const live = store.status !== "deleting" && store.status !== "deleted";

  return (
    <Card>
      <CardContent className="flex flex-col gap-5">
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div className="flex min-w-0 flex-col gap-1.5">
            <div className="flex flex-wrap items-center gap-2">
              <h1 className="truncate text-2xl font-semibold tracking-tight">{store.name}</h1>
              <StatusBadge status={store.status} />
            </div>
            <p className="text-sm text-muted-foreground">
              Created <RelativeTime iso={store.created_at} />
            </p>
          </div>
          <div className="flex flex-wrap gap-2">
            {store.status === "ready" && !gone && (
              <Button
                onClick={() => {
                  setShowCredentials(true);
                  if (!reveal.data && !reveal.isPending) reveal.mutate();
                }}
              >
                <KeyRound aria-hidden />
                Reveal admin credentials
              </Button>
            )}
            {store.status === "failed" && (
              <Button variant="outline" onClick={() => retry.mutate()} disabled={retry.isPending}>
                {retry.isPending ? <LoaderCircle className="animate-spin" aria-hidden /> : <RotateCcw aria-hidden />}
                Retry
              </Button>
            )}
            {live && (
              <Button variant="outline" className="text-destructive" onClick={() => setDeleting(true)}>
                <Trash2 aria-hidden />
                Delete
              </Button>
            )}
          </div>
        </div>

        {store.status === "failed" && store.status_reason && (
          <div role="alert" className="rounded-md border border-destructive/30 bg-destructive/5 px-3 py-2 text-sm text-destructive">
            <span className="font-semibold">Why it failed: </span>
            <span data-testid="status-reason">{store.status_reason}</span>
          </div>
        )}
        <ErrorText>{retry.isError ? describeError(retry.error) : null}</ErrorText>
        {gone && !showCredentials && store.status === "ready" && (
          <p className="flex items-center gap-2 text-sm text-muted-foreground" data-testid="credentials-gone">
            <ShieldCheck className="size-4" aria-hidden />
            The admin credentials were revealed once and are no longer available here.
          </p>
        )}

        <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2 lg:grid-cols-4">
          <Field label="Storefront">
            <ExternalUrl href={store.url} />
          </Field>
          <Field label="Admin">
            <ExternalUrl href={store.admin_url} />
          </Field>
          <Field label="Namespace">
            <span className="font-mono text-xs break-all" data-testid="namespace">
              {store.namespace}
            </span>
          </Field>
          <Field label="Plan">
            <span className="capitalize">{store.plan}</span> · {store.engine === "woocommerce" ? "WooCommerce" : "Medusa"}
          </Field>
        </dl>
      </CardContent>
      <DeleteDialog store={store} open={deleting} onOpenChange={setDeleting} />
      <CredentialsDialog
        open={showCredentials}
        credentials={reveal.data}
        error={reveal.isError ? describeError(reveal.error) : null}
        onClose={() => {
          setShowCredentials(false);
          // The credentials leave memory with the dialog.
          if (reveal.data) {
            setSeen(true);
            reveal.reset();
          }
        }}
      />
    </Card>
  );
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex min-w-0 flex-col gap-0.5">
      <dt className="text-xs font-medium text-muted-foreground uppercase tracking-wide">{label}</dt>
      <dd className="min-w-0">{children}</dd>
    </div>
  );
}

function ExternalUrl({ href }: { href: string }) {
  return (
    <a
      href={href}
      target="_blank"
      rel="noreferrer"
      className="inline-flex max-w-full items-center gap-1 rounded-sm underline-offset-4 outline-none hover:underline focus-visible:ring-2 focus-visible:ring-ring"
    >
      <span className="truncate">{href.replace(/^https?:\/\//, "")}</span>
      <ExternalLink className="size-3 shrink-0" aria-hidden />
      <span className="sr-only">(opens in a new tab)</span>
    </a>
  );
}
