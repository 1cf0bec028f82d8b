import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { ownedObjects } from "@/lib/objects";
import { groupTimeline } from "@/lib/timeline-groups";
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
  it("shows every event, oldest first and newest last, the objects of one pass on one line", () => {
    render(<Timeline events={events} />);
    const items = within(screen.getByRole("list", { name: "Timeline" })).getAllByRole("listitem");
    expect(items.map((i) => i.getAttribute("data-kind"))).toEqual(["created", "status_changed", "objects", "retry", "failed"]);
    expect(items[0]).toHaveTextContent("store created");
    expect(items[2]).toHaveTextContent("applied 2 objects, pruned 1");
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

function applied(name: string, pass?: string, outcome = "unchanged"): StoreEvent {
  return event("object_applied", `Deployment ${name} ${outcome}`, { kind: "Deployment", name, outcome, ...(pass ? { pass } : {}) });
}

function revisionStep(revision: number, status: string, message: string): StoreEvent {
  return event("step", message, { step: "revision", revision, status });
}

describe("the timeline of a change", () => {
  const change = [
    revisionStep(2, "pending", "revision 2 recorded: plan small -> medium"),
    revisionStep(2, "applying", "revision 2 is being applied"),
    ...Array.from({ length: 12 }, (_, i) => applied(`web-${i}`, "r2", i < 3 ? "configured" : "unchanged")),
    revisionStep(2, "deployed", "revision 2 deployed; revision 1 superseded"),
  ];

  it("folds the twelve object events of the pass into one line with their count", () => {
    render(<Timeline events={change} />);
    const items = within(screen.getByRole("list", { name: "Timeline" })).getAllByRole("listitem");
    expect(items).toHaveLength(4);
    expect(items[2]).toHaveTextContent("applied 12 objects");
    expect(items[2]).toHaveTextContent("3 configured, 9 unchanged");
    expect(screen.queryByText("Deployment web-0 configured")).toBeNull();
  });

  it("unfolds a pass to list its objects, and folds it again", async () => {
    render(<Timeline events={change} />);
    const toggle = screen.getByRole("button", { name: "applied 12 objects" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    const objects = screen.getByRole("list", { name: "applied 12 objects" });
    expect(within(objects).getAllByRole("listitem")).toHaveLength(12);
    expect(within(objects).getByText("Deployment web-0 configured")).toBeInTheDocument();
    await userEvent.click(toggle);
    expect(screen.queryByRole("list", { name: "applied 12 objects" })).toBeNull();
  });

  it("reads revision steps as headlines", () => {
    render(<Timeline events={change} />);
    const headlines = screen.getAllByRole("listitem").filter((i) => i.getAttribute("data-headline") === "revision");
    expect(headlines.map((h) => h.querySelector("p")?.textContent)).toEqual([
      "revision 2 recorded: plan small -> medium",
      "revision 2 is being applied",
      "revision 2 deployed; revision 1 superseded",
    ]);
  });

  it("keeps two passes apart even when nothing else comes between them", () => {
    const entries = groupTimeline([applied("a", "p1"), applied("b", "p1"), applied("c", "p2"), applied("d", "p2"), applied("e", "p2")]);
    expect(entries.map((e) => (e.type === "objects" ? `${e.pass}:${e.events.length}` : "single"))).toEqual(["p1:2", "p2:3"]);
  });

  it("groups object events without a pass by the events around them", () => {
    const status = event("status_changed", "pending -> provisioning", {});
    const entries = groupTimeline([applied("a"), applied("b"), status, applied("c"), applied("d"), applied("e")]);
    expect(entries.map((e) => (e.type === "event" ? e.event.kind : e.events.length))).toEqual([2, "status_changed", 3]);
  });

  it("leaves a lone object event as it is, and says what a drift pass restored", () => {
    const drift = (name: string) => event("drift_restored", `Deployment ${name} had drifted; restored`, { kind: "Deployment", name, pass: "d7" });
    render(<Timeline events={[applied("solo", "p1"), drift("web"), drift("db")]} />);
    const items = screen.getAllByRole("listitem");
    expect(items[0]).toHaveAttribute("data-kind", "object_applied");
    expect(items[0]).toHaveTextContent("Deployment solo unchanged");
    expect(items[1]).toHaveTextContent("restored 2 drifted objects");
  });

  it("keeps a pass open while live events extend it", async () => {
    const { rerender } = render(<Timeline events={change.slice(0, 5)} />);
    await userEvent.click(screen.getByRole("button", { name: "applied 3 objects" }));
    rerender(<Timeline events={change.slice(0, 7)} />);
    expect(screen.getByRole("button", { name: "applied 5 objects" })).toHaveAttribute("aria-expanded", "true");
  });
});

function backupStep(backup: string, status: string, message: string, actor = "system:worker"): StoreEvent {
  return { ...event("step", message, { step: "backup", backup, kind: "manual", status }), actor };
}

function restoreStep(backup: string, revision: number, status: string, message: string): StoreEvent {
  return event("step", message, { step: "restore_backup", backup, revision, status });
}

describe("the timeline of a backup", () => {
  const backup = [
    backupStep("b1", "requested", "manual backup requested by user:alice", "user:alice"),
    event("status_changed", "drift check: nothing drifted", {}),
    backupStep("b1", "running", "backup running"),
    backupStep("b1", "succeeded", "backup 4f1c2a9b taken: 19.8 MiB, 229 KiB added, in 4.2 s"),
  ];

  it("folds a backup's steps into one line that says how it stands, where its latest step is", () => {
    render(<Timeline events={backup} />);
    const items = within(screen.getByRole("list", { name: "Timeline" })).getAllByRole("listitem");
    expect(items.map((i) => i.getAttribute("data-kind"))).toEqual(["status_changed", "backup"]);
    expect(items[1]).toHaveAttribute("data-status", "succeeded");
    expect(items[1]).toHaveTextContent("backup 4f1c2a9b taken: 19.8 MiB, 229 KiB added, in 4.2 s");
    expect(items[1]).toHaveTextContent("user:alice");
    expect(screen.queryByText("backup running")).toBeNull();
  });

  it("unfolds a backup to list its steps", async () => {
    render(<Timeline events={backup} />);
    await userEvent.click(screen.getByRole("button", { name: "backup 4f1c2a9b taken: 19.8 MiB, 229 KiB added, in 4.2 s" }));
    const steps = screen.getByRole("list", { name: "backup 4f1c2a9b taken: 19.8 MiB, 229 KiB added, in 4.2 s" });
    expect(within(steps).getAllByRole("listitem").map((i) => i.querySelector("span")?.textContent)).toEqual([
      "manual backup requested by user:alice",
      "backup running",
      "backup 4f1c2a9b taken: 19.8 MiB, 229 KiB added, in 4.2 s",
    ]);
  });

  it("keeps two backups, and a restore of one, apart; a lone step is a line of its own", () => {
    const entries = groupTimeline([
      backupStep("b1", "requested", "b1 requested"),
      backupStep("b2", "requested", "b2 requested"),
      backupStep("b1", "failed", "backup failed: restic: repository is locked"),
      restoreStep("b2", 5, "running", "restoring backup b2 (as revision 5)"),
      restoreStep("b2", 5, "succeeded", "backup b2 restored"),
    ]);
    expect(entries.map((e) => (e.type === "backup" ? `${e.step} ${e.backup} ${e.events.length} ${e.status}` : e.type))).toEqual([
      "backup b2 1 requested",
      "backup b1 2 failed",
      "restore_backup b2 2 succeeded",
    ]);
  });

  it("does not split a pass of objects around a backup's earlier step", () => {
    const entries = groupTimeline([applied("a", "r4"), backupStep("b1", "requested", "b1 requested"), applied("b", "r4"), backupStep("b1", "running", "b1 running")]);
    expect(entries.map((e) => e.type)).toEqual(["objects", "backup"]);
  });

  it("reads a failed backup as failed", () => {
    render(<Timeline events={[backupStep("b1", "requested", "b1 requested"), backupStep("b1", "failed", "backup failed: restic: repository is locked")]} />);
    const item = screen.getByRole("listitem");
    expect(item).toHaveAttribute("data-status", "failed");
    expect(screen.getByText("backup failed: restic: repository is locked")).toHaveClass("text-destructive");
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
