import { CircleCheck, CircleDashed, CircleX, LoaderCircle, Trash2 } from "lucide-react";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import type { StoreStatus } from "@/lib/types";

const LOOK: Record<StoreStatus, { label: string; tone: BadgeTone; Icon: typeof CircleCheck; spin?: boolean }> = {
  pending: { label: "Pending", tone: "neutral", Icon: CircleDashed },
  provisioning: { label: "Provisioning", tone: "info", Icon: LoaderCircle, spin: true },
  ready: { label: "Ready", tone: "success", Icon: CircleCheck },
  failed: { label: "Failed", tone: "danger", Icon: CircleX },
  deleting: { label: "Deleting", tone: "warning", Icon: LoaderCircle, spin: true },
  deleted: { label: "Deleted", tone: "neutral", Icon: Trash2 },
};

export function statusLabel(status: StoreStatus): string {
  return LOOK[status].label;
}

export function StatusBadge({ status }: { status: StoreStatus }) {
  const { label, tone, Icon, spin } = LOOK[status];
  return (
    <Badge tone={tone} data-status={status}>
      <Icon aria-hidden className={spin ? "animate-spin motion-reduce:animate-none" : undefined} />
      {label}
    </Badge>
  );
}
