import { useQuery } from "@tanstack/react-query";
import { Plus, Search, Store as StoreIcon } from "lucide-react";
import { useDeferredValue, useMemo, useState } from "react";
import { ErrorText } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, Skeleton } from "@/components/ui/card";
import { Input, Label, Select } from "@/components/ui/input";
import { api, describeError } from "@/lib/api";
import type { Store, StoreStatus } from "@/lib/types";
import { cn } from "@/lib/utils";
import { CreateStoreDialog } from "./create-store-dialog";
import { StoreList } from "./store-list";

type Filter = "live" | StoreStatus;

const FILTERS: { value: Filter; label: string }[] = [
  { value: "live", label: "All statuses" },
  { value: "pending", label: "Pending" },
  { value: "provisioning", label: "Provisioning" },
  { value: "ready", label: "Ready" },
  { value: "failed", label: "Failed" },
  { value: "deleting", label: "Deleting" },
  { value: "deleted", label: "Deleted" },
];

export function StoresPage() {
  const stores = useQuery({ queryKey: ["stores"], queryFn: api.stores });
  const [creating, setCreating] = useState(false);
  const [search, setSearch] = useState("");
  const [filter, setFilter] = useState<Filter>("live");
  const query = useDeferredValue(search.trim().toLowerCase());

  const live = useMemo(() => (stores.data ?? []).filter((s) => s.status !== "deleted"), [stores.data]);
  const shown = useMemo(() => {
    const pool = filter === "deleted" ? (stores.data ?? []).filter((s) => s.status === "deleted") : live;
    return pool.filter(
      (s) => (filter === "live" || filter === "deleted" || s.status === filter) && (!query || s.name.includes(query)),
    );
  }, [stores.data, live, filter, query]);

  return (
    <div className="flex flex-col gap-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Stores</h1>
          <p className="text-sm text-muted-foreground">Every store you run, live as it changes.</p>
        </div>
        <Button onClick={() => setCreating(true)}>
          <Plus aria-hidden />
          Create store
        </Button>
      </div>

      <Counters stores={live} loading={stores.isPending} />

      {stores.isError ? (
        <Card className="p-5">
          <ErrorText>{`Failed to load your stores: ${describeError(stores.error)}`}</ErrorText>
          <Button variant="outline" className="mt-3" onClick={() => void stores.refetch()}>
            Try again
          </Button>
        </Card>
      ) : stores.isPending ? (
        <ListSkeleton />
      ) : live.length === 0 && filter === "live" ? (
        <EmptyState onCreate={() => setCreating(true)} />
      ) : (
        <div className="flex flex-col gap-3">
          <div className="flex flex-col gap-2 sm:flex-row">
            <div className="relative flex-1">
              <Label htmlFor="store-search" className="sr-only">
                Search stores by name
              </Label>
              <Search className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-muted-foreground" aria-hidden />
              <Input
                id="store-search"
                type="search"
                placeholder="Search by name"
                className="pl-8"
                value={search}
                onChange={(e) => setSearch(e.target.value)}
              />
            </div>
            <Label htmlFor="status-filter" className="sr-only">
              Filter by status
            </Label>
            <Select id="status-filter" value={filter} onChange={(e) => setFilter(e.target.value as Filter)}>
              {FILTERS.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </Select>
          </div>
          <p className="sr-only" aria-live="polite">
            {`${shown.length} ${shown.length === 1 ? "store" : "stores"} shown`}
          </p>
          {shown.length === 0 ? (
            <Card className="p-8 text-center text-sm text-muted-foreground">No store matches.</Card>
          ) : (
            <StoreList stores={shown} />
          )}
        </div>
      )}
      <CreateStoreDialog open={creating} onOpenChange={setCreating} />
    </div>
  );
}

function Counters({ stores, loading }: { stores: Store[]; loading: boolean }) {
  const count = (statuses: StoreStatus[]) => stores.filter((s) => statuses.includes(s.status)).length;
  const counters = [
    { label: "Total", value: stores.length, tone: "" },
    { label: "Ready", value: count(["ready"]), tone: "text-success" },
    { label: "Provisioning", value: count(["pending", "provisioning"]), tone: "text-info" },
    { label: "Failed", value: count(["failed"]), tone: "text-destructive" },
  ];
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
      {counters.map((c) => (
        <Card key={c.label} className="px-4 py-3">
          <dt className="text-xs font-medium text-muted-foreground uppercase tracking-wide">{c.label}</dt>
          <dd className={cn("mt-1 text-2xl font-semibold tabular-nums", c.tone)} data-testid={`count-${c.label.toLowerCase()}`}>
            {loading ? <Skeleton className="h-7 w-10" /> : c.value}
          </dd>
        </Card>
      ))}
    </dl>
  );
}

function ListSkeleton() {
  return (
    <Card className="divide-y" aria-busy="true" aria-label="Loading stores">
      {[0, 1, 2, 3].map((i) => (
        <div key={i} className="flex items-center gap-4 px-4 py-4">
          <Skeleton className="h-4 w-32" />
          <Skeleton className="h-4 w-20" />
          <Skeleton className="ml-auto h-5 w-20 rounded-full" />
        </div>
      ))}
    </Card>
  );
}

function EmptyState({ onCreate }: { onCreate: () => void }) {
  return (
    <Card className="flex flex-col items-center gap-3 px-6 py-14 text-center">
      <div className="rounded-full bg-accent p-3">
        <StoreIcon className="size-6 text-accent-foreground" aria-hidden />
      </div>
      <h2 className="text-lg font-semibold">No stores yet</h2>
      <p className="max-w-sm text-sm text-muted-foreground">
        Create your first store: a WooCommerce shop or a headless Medusa store, each in its own namespace.
      </p>
      <Button onClick={onCreate}>
        <Plus aria-hidden />
        Create your first store
      </Button>
    </Card>
  );
}
