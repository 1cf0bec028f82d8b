import type { Engine, Plan, PlanSize } from "@/lib/types";

export const PLANS: { value: Plan; label: string }[] = [
  { value: "small", label: "Small" },
  { value: "medium", label: "Medium" },
  { value: "large", label: "Large" },
];

/** The size of `plan` for stores of `engine`: every engine has its own table. */
export function sizeOf(sizes: readonly PlanSize[] | undefined, engine: Engine, plan: Plan): PlanSize | undefined {
  return sizes?.find((s) => s.engine === engine && s.plan === plan);
}

/** What a plan gives a store: "2 CPU · 2Gi memory · 4Gi storage". */
export function PlanFigures({ size, loading }: { size: PlanSize | undefined; loading: boolean }) {
  if (!size) return <span className="text-xs text-muted-foreground">{loading ? "…" : ""}</span>;
  return (
    <span className="text-xs text-muted-foreground" data-testid={`plan-${size.plan}`}>
      {size.cpu} CPU · {size.memory} memory · {size.storage} storage
    </span>
  );
}
