import type { Plan, PlanSize } from "@/lib/types";

export const PLANS: { value: Plan; label: string }[] = [
  { value: "small", label: "Small" },
  { value: "medium", label: "Medium" },
  { value: "large", label: "Large" },
];

/** What a plan gives a store: "2 CPU · 2Gi memory · 4Gi storage". */
export function PlanFigures({ size, loading }: { size: PlanSize | undefined; loading: boolean }) {
  if (!size) return <span className="text-xs text-muted-foreground">{loading ? "…" : ""}</span>;
  return (
    <span className="text-xs text-muted-foreground" data-testid={`plan-${size.plan}`}>
      {size.cpu} CPU · {size.memory} memory · {size.storage} storage
    </span>
  );
}
