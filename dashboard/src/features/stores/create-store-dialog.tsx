import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { LoaderCircle } from "lucide-react";
import { type FormEvent, useId, useState } from "react";
import { ErrorText } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Choice } from "@/components/ui/choice";
import { Input, Label } from "@/components/ui/input";
import { PLANS, PlanFigures, sizeOf } from "@/components/plan-figures";
import { ApiError, api, describeError } from "@/lib/api";
import { applyStore } from "@/lib/live";
import { MAX_LEN, storeNameError } from "@/lib/store-name";
import type { Engine, Plan, Store } from "@/lib/types";

const ENGINES: { value: Engine; label: string; blurb: string }[] = [
  { value: "woocommerce", label: "WooCommerce", blurb: "WordPress and WooCommerce on MariaDB: a storefront and its admin" },
  { value: "medusa", label: "Medusa", blurb: "Headless, on PostgreSQL and Redis: a Store API and its admin" },
];

interface Props {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  /** Called with the store the API accepted. */
  onCreated?: (store: Store) => void;
}

export function CreateStoreDialog({ open, onOpenChange, onCreated }: Props) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Create a store</DialogTitle>
          <DialogDescription>
            It gets its own namespace and address; its timeline shows every step as it happens.
          </DialogDescription>
        </DialogHeader>
        {/* Mounted only while open, so every opening starts from a blank form. */}
        {open && (
          <CreateStoreForm
            onCancel={() => onOpenChange(false)}
            onCreated={(store) => {
              onOpenChange(false);
              onCreated?.(store);
            }}
          />
        )}
      </DialogContent>
    </Dialog>
  );
}

export function CreateStoreForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (store: Store) => void }) {
  const client = useQueryClient();
  const plans = useQuery({ queryKey: ["plans"], queryFn: api.plans });
  const engines = useQuery({ queryKey: ["engines"], queryFn: api.engines });
  const [name, setName] = useState("");
  const [touched, setTouched] = useState(false);
  const [engine, setEngine] = useState<Engine>("woocommerce");
  const [plan, setPlan] = useState<Plan>("small");
  // One key per form: a double submit or a retried request creates one store.
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const ids = { name: useId(), nameHelp: useId(), nameError: useId() };

  const create = useMutation({
    mutationFn: () => api.createStore({ name, engine, plan }, idempotencyKey),
    onSuccess: (store) => {
      applyStore(client, store);
      onCreated(store);
    },
  });

  const nameError = touched ? storeNameError(name) : null;
  const apiError = create.error instanceof ApiError ? create.error : null;
  const fieldError = (field: string) =>
    apiError?.field === field && !create.isPending ? apiError.message : null;
  const formError =
    create.error && !create.isPending && !(apiError?.field && ["name", "engine", "plan"].includes(apiError.field))
      ? describeError(create.error)
      : null;
  const shownNameError = nameError ?? fieldError("name");
  // Until the server says which engines it provisions, only WooCommerce, which it always does.
  const available = (e: Engine) => engines.data?.find((x) => x.engine === e)?.available ?? e === "woocommerce";

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (storeNameError(name) !== null || !available(engine) || create.isPending) return;
    create.mutate();
  };

  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-5">
      <div className="flex flex-col gap-2">
        <Label htmlFor={ids.name}>Name</Label>
        <Input
          id={ids.name}
          name="name"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          maxLength={MAX_LEN + 20}
          placeholder="acme"
          value={name}
          aria-invalid={shownNameError ? true : undefined}
          aria-describedby={shownNameError ? `${ids.nameError} ${ids.nameHelp}` : ids.nameHelp}
          onChange={(e) => {
            setName(e.target.value);
            setTouched(true);
            if (create.isError) create.reset();
          }}
        />
        <p id={ids.nameHelp} className="text-xs text-muted-foreground">
          3 to 40 lowercase letters, digits and '-'. The store will be at <span className="font-mono">{name || "name"}.&lt;your domain&gt;</span>.
        </p>
        <ErrorText id={ids.nameError}>{shownNameError}</ErrorText>
      </div>

      <fieldset className="flex flex-col gap-2">
        <legend className="mb-2 text-sm font-medium">Engine</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          {ENGINES.map((e) => {
            const enabled = available(e.value);
            return (
              <Choice
                key={e.value}
                name="engine"
                value={e.value}
                checked={engine === e.value}
                disabled={!enabled}
                onChange={() => {
                  setEngine(e.value);
                  if (create.isError) create.reset();
                }}
              >
                <span className="flex items-center gap-2 font-medium">
                  {e.label}
                  {engines.data && !enabled && <Badge>Coming soon</Badge>}
                </span>
                <span className="text-xs text-muted-foreground">{e.blurb}</span>
              </Choice>
            );
          })}
        </div>
        <ErrorText>{fieldError("engine")}</ErrorText>
      </fieldset>

      <fieldset className="flex flex-col gap-2">
        <legend className="mb-2 text-sm font-medium">Plan</legend>
        {/* Each engine sizes its plans: the figures are those of the engine chosen above. */}
        <div className="grid gap-2 sm:grid-cols-3" data-testid="plans" data-engine={engine}>
          {PLANS.map((p) => (
            <Choice key={p.value} name="plan" value={p.value} checked={plan === p.value} onChange={() => setPlan(p.value)}>
              <span className="font-medium">{p.label}</span>
              <PlanFigures size={sizeOf(plans.data, engine, p.value)} loading={plans.isPending} />
            </Choice>
          ))}
        </div>
        <ErrorText>{fieldError("plan")}</ErrorText>
      </fieldset>

      <ErrorText>{formError}</ErrorText>

      <DialogFooter>
        <Button variant="outline" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={create.isPending || (touched && nameError !== null)}>
          {create.isPending && <LoaderCircle className="animate-spin" aria-hidden />}
          Create store
        </Button>
      </DialogFooter>
    </form>
  );
}
