import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  ArrowLeft,
  ExternalLink,
  KeyRound,
  LoaderCircle,
  RotateCcw,
  ShieldCheck,
  SlidersHorizontal,
  Trash2,
  TriangleAlert,
} from "lucide-react";
import { type ReactNode, useEffect, useMemo, useState } from "react";
import { CopyButton } from "@/components/copy-button";
import { Link } from "@/components/link";
import { StatusBadge } from "@/components/status-badge";
import { RelativeTime } from "@/components/time";
import { ErrorText } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle, Skeleton } from "@/components/ui/card";
import { ApiError, api, describeError } from "@/lib/api";
import { ENGINE_NAME, PUBLISHABLE_KEY_HEADER, publishableKey, publishesKey, storeLinks } from "@/lib/engines";
import { applyStore } from "@/lib/live";
import { isRecord, ownedObjects } from "@/lib/objects";
import type { Store, StoreEvent } from "@/lib/types";
import { cn } from "@/lib/utils";
import { Backups } from "./backups";
import { ChangeDialog } from "./change-dialog";
import { CredentialsDialog } from "./credentials-dialog";
import { DeleteDialog } from "./delete-dialog";
import { ObjectsTable } from "./objects-table";
import { ResetPasswordDialog } from "./reset-password-dialog";
import { Revisions } from "./revisions";
import { Timeline } from "./timeline";

/** Where the admin credentials stand, as the timeline tells: the sequence numbers of the
 * last reveal and of the last password reset step (a reset makes them revealable once
 * again). */
export interface CredentialsHistory {
  revealedAt: number;
  resetAt: number;
}

export function credentialsHistory(events: readonly StoreEvent[] | undefined): CredentialsHistory {
  let revealedAt = -1;
  let resetAt = -1;
  for (const event of events ?? []) {
    if (event.kind === "credentials_revealed") revealedAt = event.seq;
    if (event.kind === "step" && isRecord(event.detail) && event.detail.step === "password_reset") resetAt = event.seq;
  }
  return { revealedAt, resetAt };
}

export default function StorePage({ id }: { id: string }) {
  const client = useQueryClient();
  const store = useQuery({
    queryKey: ["store", id],
    queryFn: () => api.store(id),
    initialData: () => client.getQueryData<Store[]>(["stores"])?.find((s) => s.id === id),
  });
  const events = useQuery({ queryKey: ["events", id], queryFn: () => api.events(id) });
  const objects = useMemo(() => ownedObjects(events.data ?? []), [events.data]);
  const credentials = useMemo(() => credentialsHistory(events.data), [events.data]);

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
        <StoreSummary store={store.data} credentials={credentials} />
      )}
      {store.data && !store.isError && <Revisions store={store.data} />}
      {store.data && !store.isError && <Backups store={store.data} />}
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

function StoreSummary({ store, credentials }: { store: Store; credentials: CredentialsHistory }) {
  const client = useQueryClient();
  const [deleting, setDeleting] = useState(false);
  const [changing, setChanging] = useState(false);
  const [resetting, setResetting] = useState(false);
  const [resetRequested, setResetRequested] = useState(false);
  const [showCredentials, setShowCredentials] = useState(false);
  // The last reset before this person saw the credentials here (not yet on the timeline).
  const [seenAfter, setSeenAfter] = useState<number | null>(null);
  const retry = useMutation({
    mutationFn: () => api.retryStore(store.id),
    onSuccess: (next) => applyStore(client, next),
  });
  const reveal = useMutation({ mutationFn: () => api.revealCredentials(store.id) });
  const { reset: forgetReveal } = reveal;
  // A password reset makes the credentials revealable once again.
  useEffect(() => forgetReveal(), [credentials.resetAt, forgetReveal]);
  const resettingPassword = store.operation?.kind === "password_reset";
  const gone =
    credentials.revealedAt > credentials.resetAt ||
    seenAfter === credentials.resetAt ||
    (reveal.error instanceof ApiError && reveal.error.code === "credentials_revealed");
  const live = store.status !== "deleting" && store.status !== "deleted";
  const busy = Boolean(store.operation);

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
              {store.title !== store.name && <span className="text-foreground">{store.title} · </span>}
              Created <RelativeTime iso={store.created_at} />
            </p>
          </div>
          <div className="flex flex-wrap gap-2">
            {store.status === "ready" && !gone && !resettingPassword && (
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
            {live && store.revision !== null && (
              <Button
                variant="outline"
                onClick={() => setChanging(true)}
                disabled={busy}
                title={busy ? "Wait for the operation in progress to finish" : undefined}
              >
                <SlidersHorizontal aria-hidden />
                Change
              </Button>
            )}
            {store.status === "ready" && (
              <Button
                variant="outline"
                onClick={() => setResetting(true)}
                disabled={busy}
                title={busy ? "Wait for the operation in progress to finish" : undefined}
              >
                <KeyRound aria-hidden />
                Reset password
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
        {store.operation && (
          <p
            role="status"
            className="flex items-center gap-2 rounded-md border border-info/30 bg-info/5 px-3 py-2 text-sm"
            data-testid="operation"
            data-operation={store.operation.kind}
          >
            <LoaderCircle className="size-4 shrink-0 animate-spin text-info motion-reduce:animate-none" aria-hidden />
            <span>{sentence(store.operation.description)}…</span>
          </p>
        )}
        <ErrorText>{retry.isError ? describeError(retry.error) : null}</ErrorText>
        {resetRequested && (resettingPassword || gone) ? (
          <p className="flex items-center gap-2 text-sm text-muted-foreground" data-testid="reset-requested">
            <KeyRound className="size-4" aria-hidden />
            When the reset completes, the new admin password can be revealed once, here.
          </p>
        ) : (
          gone &&
          !showCredentials &&
          store.status === "ready" && (
            <p className="flex items-center gap-2 text-sm text-muted-foreground" data-testid="credentials-gone">
              <ShieldCheck className="size-4" aria-hidden />
              The admin credentials were revealed once and are no longer available here; reset the password to get new
              ones.
            </p>
          )
        )}

        <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2 lg:grid-cols-4">
          {storeLinks(store).map((link) => (
            <Field key={link.label} label={link.label}>
              <ExternalUrl href={link.href} testId={`link-${link.label.toLowerCase().replace(/\W+/g, "-")}`} />
            </Field>
          ))}
          <Field label="Namespace">
            <span className="font-mono text-xs break-all" data-testid="namespace">
              {store.namespace}
            </span>
          </Field>
          <Field label="Plan">
            <span className="capitalize" data-testid="plan">
              {store.plan}
            </span>{" "}
            · <span data-testid="engine">{ENGINE_NAME[store.engine]}</span>
          </Field>
          <Field label="Release">
            <span className="flex flex-wrap items-center gap-1.5">
              <span className="font-mono text-xs break-all" data-testid="release">
                {store.release ?? "—"}
              </span>
              {store.release && !store.release_is_default && (
                <Badge tone="warning" title="New stores get another release; change the store to move it there">
                  <TriangleAlert aria-hidden />
                  not the default release
                </Badge>
              )}
            </span>
          </Field>
          <Field label="Revision">
            <span className="tabular-nums" data-testid="revision">
              {store.revision ?? "—"}
            </span>
            {store.latest_revision !== null && store.latest_revision !== store.revision && (
              <span className="text-muted-foreground"> (latest {store.latest_revision})</span>
            )}
          </Field>
          <Field label="Last drift check">
            {store.last_checked_at ? (
              <RelativeTime iso={store.last_checked_at} />
            ) : (
              <span className="text-muted-foreground">not yet</span>
            )}
          </Field>
          {publishesKey(store.engine) && (
            <Field label="Publishable key" className="sm:col-span-2">
              <PublishableKey store={store} />
            </Field>
          )}
        </dl>
      </CardContent>
      <DeleteDialog store={store} open={deleting} onOpenChange={setDeleting} />
      <ChangeDialog store={store} open={changing} onOpenChange={setChanging} />
      <ResetPasswordDialog
        store={store}
        open={resetting}
        onOpenChange={setResetting}
        onRequested={() => setResetRequested(true)}
      />
      <CredentialsDialog
        open={showCredentials}
        credentials={reveal.data}
        error={reveal.isError ? describeError(reveal.error) : null}
        onClose={() => {
          setShowCredentials(false);
          // The credentials leave memory with the dialog.
          if (reveal.data) {
            setSeenAfter(credentials.resetAt);
            setResetRequested(false);
            reveal.reset();
          }
        }}
      />
    </Card>
  );
}

/** "updating to revision 4" as the start of a sentence. */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The key a storefront sends with every Store API request; public, so always shown. */
function PublishableKey({ store }: { store: Store }) {
  const key = publishableKey(store);
  return (
    <div className="flex flex-col gap-1">
      {key ? (
        <span className="flex items-center gap-2">
          <code className="min-w-0 rounded-md border bg-muted px-2 py-1 font-mono text-xs break-all" data-testid="publishable-key">
            {key}
          </code>
          <CopyButton value={key} label="Publishable key" />
        </span>
      ) : (
        <span className="text-muted-foreground" data-testid="publishable-key-pending">
          published when setup finishes
        </span>
      )}
      <span className="text-xs text-muted-foreground">
        Store API requests send it as <code className="font-mono">{PUBLISHABLE_KEY_HEADER}</code>.
      </span>
    </div>
  );
}

function Field({ label, className, children }: { label: string; className?: string; children: ReactNode }) {
  return (
    <div className={cn("flex min-w-0 flex-col gap-0.5", className)}>
      <dt className="text-xs font-medium text-muted-foreground uppercase tracking-wide">{label}</dt>
      <dd className="min-w-0">{children}</dd>
    </div>
  );
}

function ExternalUrl({ href, testId }: { href: string; testId?: string }) {
  return (
    <a
      href={href}
      data-testid={testId}
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
