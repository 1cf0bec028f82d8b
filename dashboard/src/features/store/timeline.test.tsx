import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { ownedObjects } from "@/lib/objects";
import type { StoreEvent } from "@/lib/types";
import { Timeline } from "./timeline";

let seq = 0;
function event(kind: StoreEvent["kind"], message: string, detail: unknown = {}): StoreEvent {
  seq += 1;
  return { seq, store_id: "s", at: `2026-01-01T10:00:0${seq % 10}Z`, kind, message, detail, actor: "system:worker" };
}

const events = [
  event("created", "store created", {}),
  event("status_changed", "pending -> provisioning", { from: "pending", to: "provisioning" }),
  event("object_applied", "Namespace store-1 created", { kind: "Namespace", name: "store-1", outcome: "created" }),
  event("object_applied", "Secret old created", { kind: "Secret", name: "old", outcome: "created" }),
  event("object_applied", "Secret old pruned (no longer desired)", { step: "prune", kind: "Secret", name: "old" }),
  event("retry", "attempt 1 failed: timeout; retrying", { attempt: 1 }),
  event("failed", "the setup job failed: BackoffLimitExceeded", { job: "setup", reason: "BackoffLimitExceeded" }),
];

describe("the timeline", () => {
  it("shows every event, oldest first and newest last", () => {
    render(<Timeline events={events} />);
    const items = within(screen.getByRole("list", { name: "Timeline" })).getAllByRole("listitem");
    expect(items).toHaveLength(events.length);
    expect(items[0]).toHaveTextContent("store created");
    expect(items.at(-1)).toHaveTextContent("the setup job failed: BackoffLimitExceeded");
  });

  it("highlights a failure with its reason", () => {
    render(<Timeline events={events} />);
    const failure = screen.getByRole("alert");
    expect(failure).toHaveTextContent("Failed:");
    expect(failure).toHaveTextContent("the setup job failed: BackoffLimitExceeded");
    expect(failure.closest("li")).toHaveAttribute("data-kind", "failed");
  });

  it("folds structured detail away until asked", async () => {
    render(<Timeline events={[events[1]]} />);
    const summary = screen.getByText("Details");
    const details = summary.closest("details");
    expect(details).not.toHaveAttribute("open");
    await userEvent.click(summary);
    expect(details).toHaveAttribute("open");
    expect(within(details as HTMLElement).getByText("from")).toBeInTheDocument();
    expect(within(details as HTMLElement).getByText("provisioning")).toBeInTheDocument();
  });

  it("says so when nothing happened yet", () => {
    render(<Timeline events={[]} />);
    expect(screen.getByText("Nothing has happened yet.")).toBeInTheDocument();
  });
});

describe("the objects a store owns", () => {
  it("are those applied and not pruned since", () => {
    expect(ownedObjects(events).map((o) => `${o.kind}/${o.name} ${o.outcome}`)).toEqual(["Namespace/store-1 created"]);
  });

  it("are none once the store is deleted", () => {
    const deleted = event("status_changed", "deleting -> deleted", { from: "deleting", to: "deleted" });
    expect(ownedObjects([...events, deleted])).toEqual([]);
  });
});
