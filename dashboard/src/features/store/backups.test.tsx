import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { takeEvent } from "@/lib/live";
import type { Backup, Store } from "@/lib/types";
import { aBackup, aRevision, aStore, renderWithClient, stubApi } from "@/test-support";
import { Backups, IN_FLIGHT_POLL_MS } from "./backups";

const store = aStore();
const BASE = `/api/v1/stores/${store.id}`;
const succeeded = aBackup();
const failed = aBackup({
  id: "0193a6c4-5d2e-7f10-8a3b-00000000000b",
  kind: "scheduled",
  status: "failed",
  actor: "system:scheduler",
  reason: null,
  snapshot: null,
  size_bytes: null,
  added_bytes: null,
  duration_ms: 1200,
  failure: "restic: repository is locked by another process",
});
const checkpoint = aBackup({ id: "0193a6c4-5d2e-7f10-8a3b-00000000000c", kind: "checkpoint", actor: "system:worker", reason: null, revision: 2 });
const running = aBackup({
  id: "0193a6c4-5d2e-7f10-8a3b-00000000000d",
  kind: "scheduled",
  status: "running",
  actor: "system:scheduler",
  reason: null,
  snapshot: null,
  size_bytes: null,
  added_bytes: null,
  duration_ms: null,
  finished_at: null,
});

function renderSection(shown: Store = store, items: Backup[] | Backup[][] = [succeeded, failed, checkpoint], replies = {}) {
  const lists = Array.isArray(items[0]) ? (items as Backup[][]) : [items as Backup[]];
  const calls = stubApi({ [`GET ${BASE}/backups`]: lists.map((list) => ({ body: { items: list } })), ...replies });
  const { client } = renderWithClient(<Backups store={shown} />);
  return { calls, client, reads: () => calls.filter((c) => c.method === "GET" && c.path === `${BASE}/backups`).length };
}

const row = (id: string) => screen.getByTestId("backups").querySelector(`tr[data-backup-id="${id}"]`) as HTMLElement;

describe("the backups section", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("shows the schedule and the last successful backup, and no warning while backups are on time", async () => {
    renderSection();
    const section = await screen.findByRole("region", { name: "Backups" });
    expect(within(section).getByRole("heading", { name: "Backups" })).toBeInTheDocument();
    expect(screen.getByTestId("backup-schedule")).toHaveTextContent(/^Scheduled every 24 h · next at .+/);
    expect(screen.getByTestId("backup-schedule").querySelector("time")).toHaveAttribute("datetime", "2026-01-02T01:00:00Z");
    expect(screen.getByTestId("backup-last-succeeded").querySelector("time")).toHaveAttribute("datetime", "2026-01-01T01:00:00Z");
    await screen.findByTestId("backups");
    expect(screen.queryByTestId("backup-warning")).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("warns, prominently, when backups fell behind", async () => {
    const warning = "no successful backup for 2 days, more than twice the schedule (every 24 h)";
    renderSection(aStore({ backup: { ...store.backup, warning } }));
    expect(await screen.findByRole("alert")).toHaveTextContent(`Backups need attention: ${warning}`);
  });

  it("says when scheduled backups are off, and when none succeeded yet", async () => {
    renderSection(aStore({ backup: { schedule: null, next_scheduled_at: null, last_succeeded_at: null, warning: null, keep_after_delete_days: 30 } }), []);
    expect(await screen.findByText("No backup yet.")).toBeInTheDocument();
    expect(screen.getByTestId("backup-schedule")).toHaveTextContent(/^Scheduled backups off$/);
    expect(screen.getByTestId("backup-last-succeeded")).toHaveTextContent("none yet");
  });

  it("lists each backup: kind, status, sizes as people read them, how long, snapshot, who and why", async () => {
    renderSection();
    await screen.findByTestId("backups");
    const ok = row(succeeded.id);
    expect(ok).toHaveTextContent("Manual");
    expect(within(ok).getByText("Succeeded")).toBeInTheDocument();
    expect(within(ok).getByTestId("backup-size")).toHaveTextContent("19.8 MiB");
    expect(within(ok).getByTestId("backup-added")).toHaveTextContent("229 KiB");
    expect(within(ok).getByTestId("backup-duration")).toHaveTextContent("4.2 s");
    expect(within(ok).getByTestId("backup-snapshot")).toHaveTextContent("4f1c2a9b");
    expect(ok).toHaveTextContent("at revision 3");
    expect(ok).toHaveTextContent("user:alice");
    expect(ok).toHaveTextContent("“before the plugin update”");
    expect(ok.querySelector("time")).toHaveAttribute("datetime", succeeded.created_at);
    expect(row(checkpoint.id)).toHaveTextContent("Checkpoint");
  });

  it("shows a snapshot as restic does, by its first 8 hex digits, the whole id on hover", async () => {
    const full = "007dbc7d2fb842315f635de35b95065a007dbc7d2fb842315f635de35b95065a";
    renderSection(store, [aBackup({ snapshot: full })]);
    await screen.findByTestId("backups");
    const snapshot = within(row(succeeded.id)).getByTestId("backup-snapshot");
    expect(snapshot).toHaveTextContent(/^007dbc7d$/);
    expect(snapshot.querySelector("code")).toHaveAttribute("title", full);
  });

  it("shows why a backup failed, and no sizes it never had", async () => {
    renderSection();
    await screen.findByTestId("backups");
    const bad = row(failed.id);
    expect(within(bad).getByText("Failed")).toBeInTheDocument();
    expect(within(bad).getByTestId("backup-failure")).toHaveTextContent("restic: repository is locked by another process");
    expect(within(bad).getByTestId("backup-size")).toHaveTextContent("—");
    expect(within(bad).getByTestId("backup-snapshot")).toHaveTextContent("—");
    expect(row(succeeded.id).querySelector("[data-testid=backup-failure]")).toBeNull();
  });

  it("offers to restore only the backups that succeeded", async () => {
    renderSection(store, [running, succeeded, failed, checkpoint]);
    await screen.findByTestId("backups");
    expect(within(row(succeeded.id)).getByRole("button", { name: "Restore" })).toBeInTheDocument();
    expect(within(row(checkpoint.id)).getByRole("button", { name: "Restore" })).toBeInTheDocument();
    expect(within(row(failed.id)).queryByRole("button", { name: "Restore" })).toBeNull();
    expect(within(row(running.id)).queryByRole("button", { name: "Restore" })).toBeNull();
  });

  it("holds Back up now and Restore while an operation is in progress, and says why", async () => {
    renderSection(aStore({ operation: { kind: "change", revision: 4, description: "updating to revision 4" } }));
    await screen.findByTestId("backups");
    const backUp = screen.getByRole("button", { name: "Back up now" });
    expect(backUp).toBeDisabled();
    expect(backUp).toHaveAttribute("title", "Wait for the operation in progress to finish");
    expect(within(row(succeeded.id)).getByRole("button", { name: "Restore" })).toBeDisabled();
  });

  it("holds Back up now while a backup is running", async () => {
    renderSection(store, [running, succeeded]);
    await screen.findByTestId("backups");
    const backUp = screen.getByRole("button", { name: "Back up now" });
    expect(backUp).toBeDisabled();
    expect(backUp).toHaveAttribute("title", "Wait for the backup in progress to finish");
  });

  it("holds Back up now while the store is not ready", async () => {
    renderSection(aStore({ status: "failed", status_reason: "the setup job failed" }));
    await screen.findByTestId("backups");
    const backUp = screen.getByRole("button", { name: "Back up now" });
    expect(backUp).toBeDisabled();
    expect(backUp).toHaveAttribute("title", "Only a ready store can be backed up or restored");
  });

  it("of a deleted store, says when each backup is purged and offers neither backup nor restore", async () => {
    const expiring = aBackup({ expires_at: "2026-02-01T00:00:00Z" });
    renderSection(aStore({ status: "deleted" }), [expiring]);
    await screen.findByTestId("backups");
    expect(within(row(expiring.id)).getByTestId("backup-expires")).toHaveTextContent(/^purged /);
    expect(screen.queryByRole("button", { name: "Back up now" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Restore" })).toBeNull();
  });

  it("is read again when a backup or restore step arrives on the event stream, and only then", async () => {
    const { client, reads } = renderSection();
    await screen.findByTestId("backups");
    expect(reads()).toBe(1);
    const at = "2026-01-01T02:00:00Z";
    const event = (seq: number, store_id: string, detail: unknown) =>
      ({ seq, store_id, at, kind: "step", message: "step", detail, actor: "user:alice" }) as const;
    takeEvent(client, event(90, store.id, { step: "revision", revision: 4, status: "pending" }));
    takeEvent(client, event(91, "another-store", { step: "backup", backup: "x", kind: "manual", status: "requested" }));
    await new Promise((r) => setTimeout(r, 50));
    expect(reads()).toBe(1);
    takeEvent(client, event(92, store.id, { step: "backup", backup: "x", kind: "manual", status: "requested" }));
    await waitFor(() => expect(reads()).toBe(2));
    takeEvent(client, event(93, store.id, { step: "restore_backup", backup: succeeded.id, revision: 4, status: "running" }));
    await waitFor(() => expect(reads()).toBe(3));
  });

  describe("while a backup is in flight", () => {
    beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }));
    afterEach(() => vi.useRealTimers());

    it("is read again every few seconds, until it settled", async () => {
      const done = { ...running, status: "succeeded" as const, snapshot: "9e8d7c6b", size_bytes: 20_800_000, added_bytes: 1024, duration_ms: 3900 };
      const { reads } = renderSection(store, [[running, succeeded], [done, succeeded]]);
      await screen.findByTestId("backups");
      expect(row(running.id)).toHaveAttribute("data-backup-status", "running");
      await act(() => vi.advanceTimersByTimeAsync(IN_FLIGHT_POLL_MS));
      await waitFor(() => expect(row(running.id)).toHaveAttribute("data-backup-status", "succeeded"));
      const settled = reads();
      await act(() => vi.advanceTimersByTimeAsync(IN_FLIGHT_POLL_MS * 3));
      expect(reads()).toBe(settled);
    });
  });

  it("takes a backup now with the reason given, and lists it at once", async () => {
    const pending = aBackup({ id: "0193a6c4-5d2e-7f10-8a3b-00000000000e", status: "pending", reason: "before the plugin update", snapshot: null, size_bytes: null, added_bytes: null, duration_ms: null, started_at: null, finished_at: null });
    const { calls } = renderSection(store, [[succeeded], [pending, succeeded]], { [`POST ${BASE}/backups`]: { status: 202, body: pending } });
    await userEvent.click(await screen.findByRole("button", { name: "Back up now" }));
    const dialog = screen.getByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText(/Reason/), "before the plugin update");
    await userEvent.click(within(dialog).getByRole("button", { name: "Start backup" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.filter((c) => c.method === "POST").map((c) => [c.path, c.body])).toEqual([[`${BASE}/backups`, { reason: "before the plugin update" }]]);
    expect(within(row(pending.id)).getByText("Pending")).toBeInTheDocument();
  });

  it("restores a backup once the store's name is typed, and closes to let the timeline tell how it goes", async () => {
    const { calls } = renderSection(store, [succeeded], { [`POST ${BASE}/restore`]: { status: 202, body: aRevision(4, { status: "pending" }) } });
    await screen.findByTestId("backups");
    await userEvent.click(within(row(succeeded.id)).getByRole("button", { name: "Restore" }));
    const dialog = screen.getByRole("dialog");
    expect(within(dialog).getByTestId("restore-loss")).toHaveTextContent("Orders, customers and uploads written since then are lost.");
    const confirm = within(dialog).getByRole("button", { name: "Restore backup" });
    expect(confirm).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText(/to confirm/), "acme");
    await userEvent.click(confirm);
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.filter((c) => c.method === "POST").map((c) => [c.path, c.body])).toEqual([[`${BASE}/restore`, { backup: succeeded.id }]]);
  });
});
