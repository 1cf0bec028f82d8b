import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { takeEvent } from "@/lib/live";
import { aRevision, aStore, renderWithClient, stubApi } from "@/test-support";
import { Revisions } from "./revisions";

const store = aStore({ revision: 3, latest_revision: 4 });
const BASE = `/api/v1/stores/${store.id}`;
const history = [
  aRevision(4, { status: "failed", release: "wp6.9-wc10.0", changes: "release wp6.8-wc9.8 -> wp6.9-wc10.0", failure: "ImagePullBackOff: wordpress:6.9 not found", actor: "user:bob" }),
  aRevision(3, { status: "deployed", changes: "rollback to revision 1: plan medium -> small", rollback_of: 1, reason: "too costly" }),
  aRevision(2, { status: "superseded", plan: "medium", changes: "plan small -> medium" }),
  aRevision(1, { status: "superseded", changes: "", reason: "first provisioning" }),
];

function renderList(replies = {}, shown = store) {
  const calls = stubApi({ [`GET ${BASE}/revisions`]: { body: { items: history, next_cursor: null } }, ...replies });
  const { client } = renderWithClient(<Revisions store={shown} />);
  return { calls, client };
}

const row = (n: number) => screen.getByTestId("revisions").querySelector(`tr[data-revision="${n}"]`) as HTMLElement;

describe("the revisions list", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("shows each revision: number, what changed, status, who, reason and failure", async () => {
    renderList();
    await screen.findByTestId("revisions");
    expect(row(1)).toHaveTextContent("first provisioning");
    expect(row(2)).toHaveTextContent("plan small -> medium");
    expect(row(3)).toHaveTextContent("roll back to revision 1 (plan medium -> small)");
    expect(row(3)).toHaveTextContent("“too costly”");
    expect(row(3).textContent?.match(/roll(ed)? ?back to revision 1/gi)?.length, "the rollback is named once").toBe(1);
    expect(row(1).textContent?.match(/first provisioning/g)?.length, "a reason that repeats what changed is not shown twice").toBe(1);
    expect(within(row(3)).getByText("Deployed")).toBeInTheDocument();
    expect(within(row(4)).getByText("Failed")).toBeInTheDocument();
    expect(row(4)).toHaveTextContent("ImagePullBackOff: wordpress:6.9 not found");
    expect(row(4)).toHaveTextContent("user:bob");
  });

  it("names the backup a restore puts back, not the spec it leaves as it is", async () => {
    const restore = aRevision(5, { changes: "no change to the spec", restores_backup: "01a23ed5-b697-74e2-931b-9632e204f8f0", reason: "the sale went wrong" });
    renderList({ [`GET ${BASE}/revisions`]: { body: { items: [restore, ...history], next_cursor: null } } });
    await screen.findByTestId("revisions");
    expect(row(5)).toHaveTextContent("restore backup e204f8f0");
    expect(row(5)).not.toHaveTextContent("no change to the spec");
    expect(row(5)).toHaveTextContent("“the sale went wrong”");
  });

  it("offers to go back to any revision but the one deployed", async () => {
    renderList({ [`GET ${BASE}/revisions`]: { body: { items: history.slice(1), next_cursor: null } } }, aStore({ ...store, latest_revision: 3 }));
    await screen.findByTestId("revisions");
    expect(screen.getByRole("button", { name: "Roll back to revision 1" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Roll back to revision 2" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /(Roll back to|Apply) revision 3/ })).toBeNull();
  });

  it("after a failed change, offers to apply it again or to re-apply the one deployed", async () => {
    renderList();
    await screen.findByTestId("revisions");
    expect(screen.getByRole("button", { name: "Apply revision 4 again" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Roll back to revision 3" })).toBeInTheDocument();
  });

  it("opens the rollback confirmation for the revision picked", async () => {
    renderList();
    await userEvent.click(await screen.findByRole("button", { name: "Roll back to revision 2" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getByText("Roll back to revision 2?")).toBeInTheDocument();
    expect(dialog).toHaveTextContent("revision 2's settings (medium plan, release wp6.8-wc9.8");
    expect(within(dialog).getByTestId("data-kept")).toHaveTextContent("The store's data is kept");
  });

  it("offers nothing to go back to while an operation is in progress", async () => {
    renderList({}, aStore({ ...store, operation: { kind: "change", revision: 5, description: "updating to revision 5" } }));
    await screen.findByTestId("revisions");
    expect(screen.queryByRole("button", { name: /Roll back to/ })).toBeNull();
  });

  it("compares the two revisions picked, older first", async () => {
    const { calls } = renderList({
      [`GET ${BASE}/revisions/1/diff/2`]: { body: { from: 1, to: 2, identical: false, diff: "--- revision 1\n+++ revision 2\n-a\n+b\n" } },
    });
    await screen.findByTestId("revisions");
    const compare = screen.getByRole("button", { name: "Compare two" });
    expect(compare).toBeDisabled();
    await userEvent.click(screen.getByRole("checkbox", { name: "Compare revision 2" }));
    await userEvent.click(screen.getByRole("checkbox", { name: "Compare revision 1" }));
    await userEvent.click(screen.getByRole("button", { name: "Compare 1 and 2" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getByText("Revision 1 → revision 2")).toBeInTheDocument();
    expect(await within(dialog).findByText("+b")).toHaveAttribute("data-line", "add");
    expect(calls.some((c) => c.path === `${BASE}/revisions/1/diff/2`)).toBe(true);
  });

  it("shows a revision with its manifest, or says the manifest is no longer kept", async () => {
    renderList({
      [`GET ${BASE}/revisions/2`]: { body: { ...history[2], manifest: "kind: ResourceQuota\nspec: {}\n" } },
      [`GET ${BASE}/revisions/1`]: { body: { ...history[3], manifest_kept: false, manifest: null } },
    });
    await userEvent.click(await screen.findByRole("button", { name: "Show revision 2" }));
    const dialog = await screen.findByRole("dialog");
    expect(await within(dialog).findByTestId("manifest")).toHaveTextContent("kind: ResourceQuota");
    expect(dialog).toHaveTextContent("medium");
    await userEvent.click(within(dialog).getAllByRole("button", { name: "Close" })[0]);
    await userEvent.click(screen.getByRole("button", { name: "Show revision 1" }));
    expect(await screen.findByText("The manifest of revision 1 is no longer kept.")).toBeInTheDocument();
  });

  it("keeps the last two picked when a third is ticked", async () => {
    renderList();
    await screen.findByTestId("revisions");
    for (const n of [1, 2, 4]) await userEvent.click(screen.getByRole("checkbox", { name: `Compare revision ${n}` }));
    expect(screen.getByRole("checkbox", { name: "Compare revision 1" })).not.toBeChecked();
    expect(screen.getByRole("button", { name: "Compare 2 and 4" })).toBeEnabled();
  });

  it("is read again when a revision step arrives on the event stream, and only then", async () => {
    const { calls, client } = renderList();
    await screen.findByTestId("revisions");
    const reads = () => calls.filter((c) => c.path === `${BASE}/revisions`).length;
    expect(reads()).toBe(1);
    const at = "2026-01-01T00:10:00Z";
    takeEvent(client, { seq: 90, store_id: store.id, at, kind: "object_applied", message: "Deployment web unchanged", detail: { pass: "r5" }, actor: "system:worker" });
    takeEvent(client, { seq: 91, store_id: "another-store", at, kind: "step", message: "revision 2 recorded", detail: { step: "revision", revision: 2, status: "pending" }, actor: "user:bob" });
    await new Promise((r) => setTimeout(r, 50));
    expect(reads()).toBe(1);
    takeEvent(client, { seq: 92, store_id: store.id, at, kind: "step", message: "revision 5 recorded", detail: { step: "revision", revision: 5, status: "pending" }, actor: "user:bob" });
    await waitFor(() => expect(reads()).toBe(2));
  });
});
