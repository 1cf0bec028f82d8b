import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Info, LoaderCircle } from "lucide-react";
import { type FormEvent, useId, useState } from "react";
import { PLANS, PlanFigures, sizeOf } from "@/components/plan-figures";
import { ErrorText } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Choice } from "@/components/ui/choice";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input, Label } from "@/components/ui/input";
import { ApiError, api, describeError } from "@/lib/api";
import { applyStore } from "@/lib/live";
import type { ChangeRequest, ChangeResponse, Plan, Release, Store } from "@/lib/types";

/** The longest reason the API keeps. */
const MAX_REASON = 500;
const FIELDS = ["plan", "release", "title"];

interface Props {
  store: Store;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}

/** Changes a store's plan, release or title: a new revision, applied like any change. */
export function ChangeDialog({ store, open, onOpenChange }: Props) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent className="sm:max-w-2xl">
        <DialogHeader>
          <DialogTitle>Change {store.name}</DialogTitle>
          <DialogDescription>
            A change is recorded as a new revision and applied while the store keeps serving; the revisions list and
            the timeline follow it, and it can be rolled back.
          </DialogDescription>
        </DialogHeader>
        {/* Mounted only while open: every opening starts from what the store runs now. */}
        {open && <ChangeForm store={store} onCancel={() => onOpenChange(false)} onChanged={() => onOpenChange(false)} />}
      </DialogContent>
    </Dialog>
  );
}

/** What the form asks for that differs from what the store runs: only that is sent. */
export function changedFields(store: Store, wanted: { plan: Plan; release: string | null; title: string }): ChangeRequest {
  const body: ChangeRequest = {};
  if (wanted.plan !== store.plan) body.plan = wanted.plan;
  if (wanted.release !== null && wanted.release !== store.release) body.release = wanted.release;
  const title = wanted.title.trim();
  if (title !== store.title) body.title = title;
  return body;
}

export function ChangeForm({
  store,
  onCancel,
  onChanged,
}: {
  store: Store;
  onCancel: () => void;
  onChanged: (response: ChangeResponse) => void;
}) {
  const client = useQueryClient();
  const plans = useQuery({ queryKey: ["plans"], queryFn: api.plans });
  const releases = useQuery({ queryKey: ["releases"], queryFn: api.releases });
  const [plan, setPlan] = useState<Plan>(store.plan);
  const [release, setRelease] = useState<string | null>(store.release);
  const [title, setTitle] = useState(store.title);
  const [reason, setReason] = useState("");
  // The latest revision the person saw when they opened this: sent as If-Match, so a change
  // someone made meanwhile is refused (412) instead of silently overridden.
  const [seen, setSeen] = useState(store.latest_revision);
  const [noop, setNoop] = useState<string | null>(null);
  const ids = { title: useId(), titleError: useId(), reason: useId(), reasonHelp: useId() };

  const changes = changedFields(store, { plan, release, title });
  const nothing = Object.keys(changes).length === 0;

  const change = useMutation({
    mutationFn: () => {
      const body = { ...changes };
      if (reason.trim()) body.reason = reason.trim();
      return api.changeStore(store.id, body, seen);
    },
    onSuccess: (response) => {
      applyStore(client, response.store);
      if (!response.changed) {
        setNoop(noopMessage(response.message));
        return;
      }
      void client.invalidateQueries({ queryKey: ["revisions", store.id] });
      onChanged(response);
    },
    onError: async (error) => {
      if (error instanceof ApiError && error.status === 412) {
        // Show what the store runs now; the next submit is against that.
        const fresh = await api.store(store.id).catch(() => null);
        if (fresh) {
          applyStore(client, fresh);
          setSeen(fresh.latest_revision);
        }
      }
    },
  });

  const apiError = change.error instanceof ApiError && !change.isPending ? change.error : null;
  const fieldError = (field: string) => (apiError?.field === field ? apiError.message : null);
  const formError = change.isError && !change.isPending && !(apiError?.field && FIELDS.includes(apiError.field)) ? describeError(change.error) : null;
  const edited = () => {
    setNoop(null);
    if (change.isError) change.reset();
  };
  const engineReleases = releases.data?.filter((r) => r.engine === store.engine) ?? [];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (nothing || change.isPending) return;
    change.mutate();
  };

  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-5">
      <fieldset className="flex flex-col gap-2">
        <legend className="mb-2 text-sm font-medium">Plan</legend>
        <div className="grid gap-2 sm:grid-cols-3" data-testid="plans" data-engine={store.engine}>
          {PLANS.map((p) => (
            <Choice
              key={p.value}
              name="plan"
              value={p.value}
              checked={plan === p.value}
              onChange={() => {
                setPlan(p.value);
                edited();
              }}
            >
              <span className="flex flex-wrap items-center gap-1.5 font-medium">
                {p.label}
                {store.plan === p.value && <Badge tone="info">Current</Badge>}
              </span>
              <PlanFigures size={sizeOf(plans.data, store.engine, p.value)} loading={plans.isPending} />
            </Choice>
          ))}
        </div>
        <ErrorText>{fieldError("plan")}</ErrorText>
      </fieldset>

      <fieldset className="flex flex-col gap-2">
        <legend className="mb-2 text-sm font-medium">Release</legend>
        {releases.isError ? (
          <ErrorText>{describeError(releases.error)}</ErrorText>
        ) : releases.isPending ? (
          <p className="text-sm text-muted-foreground">Loading the releases…</p>
        ) : (
          <div className="flex flex-col gap-2" data-testid="releases">
            {engineReleases.map((r) => (
              <Choice
                key={r.name}
                name="release"
                value={r.name}
                checked={release === r.name}
                onChange={() => {
                  setRelease(r.name);
                  edited();
                }}
              >
                <ReleaseLabel release={r} current={store.release === r.name} />
              </Choice>
            ))}
          </div>
        )}
        {changes.release !== undefined && (
          <p className="flex items-start gap-1.5 text-xs text-muted-foreground">
            <Info className="mt-px size-3.5 shrink-0" aria-hidden />
            A release change can migrate the store's data: the database is checkpointed first, then the new release's
            upgrade step runs.
          </p>
        )}
        <ErrorText>{fieldError("release")}</ErrorText>
      </fieldset>

      <div className="flex flex-col gap-2">
        <Label htmlFor={ids.title}>Shop title</Label>
        <Input
          id={ids.title}
          autoComplete="off"
          value={title}
          aria-invalid={fieldError("title") ? true : undefined}
          aria-describedby={fieldError("title") ? ids.titleError : undefined}
          onChange={(e) => {
            setTitle(e.target.value);
            edited();
          }}
        />
        <ErrorText id={ids.titleError}>{fieldError("title")}</ErrorText>
      </div>

      <div className="flex flex-col gap-2">
        <Label htmlFor={ids.reason}>
          Reason <span className="font-normal text-muted-foreground">(optional)</span>
        </Label>
        <Input
          id={ids.reason}
          autoComplete="off"
          maxLength={MAX_REASON}
          placeholder="Why, for the history"
          aria-describedby={ids.reasonHelp}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
        <p id={ids.reasonHelp} className="text-xs text-muted-foreground">
          Kept with the revision; {MAX_REASON - reason.length} characters left.
        </p>
      </div>

      {noop && (
        <p role="status" className="flex items-start gap-1.5 rounded-md border bg-muted/50 px-3 py-2 text-sm" data-testid="nothing-to-change">
          <Info className="mt-0.5 size-4 shrink-0" aria-hidden />
          {noop}
        </p>
      )}
      <ErrorText>{formError}</ErrorText>

      <DialogFooter className="items-center">
        {nothing && !noop && <p className="mr-auto text-xs text-muted-foreground">Pick something that differs from what the store runs.</p>}
        <Button variant="outline" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={nothing || change.isPending}>
          {change.isPending && <LoaderCircle className="animate-spin" aria-hidden />}
          Apply change
        </Button>
      </DialogFooter>
    </form>
  );
}

/** The API's own words for a no-op, led by "nothing to change". */
function noopMessage(message: string | undefined): string {
  if (!message) return "Nothing to change: the store already runs these settings.";
  const text = /^nothing to change/i.test(message) ? message : `nothing to change: ${message}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function ReleaseLabel({ release, current }: { release: Release; current: boolean }) {
  const components = Object.entries(release.components);
  return (
    <>
      <span className="flex flex-wrap items-center gap-1.5">
        <span className="font-mono text-sm font-medium">{release.name}</span>
        {current && <Badge tone="info">Current</Badge>}
        {release.default && <Badge tone="success">Default</Badge>}
      </span>
      {components.length > 0 && (
        <span className="text-xs text-muted-foreground wrap-anywhere">
          {components.map(([name, version]) => `${name} ${version}`).join(" · ")}
        </span>
      )}
    </>
  );
}
