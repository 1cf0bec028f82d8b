import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { exactTime } from "@/lib/time";
import { aBackup, aRevision, aStore, renderWithClient, stubApi } from "@/test-support";
import { RestoreDialog } from "./restore-dialog";

const store = aStore();
const PATH = `/api/v1/stores/${store.id}/restore`;
const backup = aBackup({ revision: 3, started_at: "2026-01-01T01:00:01Z" });
const accepted = { status: 202, body: aRevision(4, { status: "pending", changes: `restore backup ${backup.id}` }) };

function renderDialog(replies: Parameters<typeof stubApi>[0] = { [`POST ${PATH}`]: accepted }, target = backup) {
  const calls = stubApi(replies);
  const onClose = vi.fn();
  renderWithClient(<RestoreDialog store={store} target={target} onClose={onClose} />);
  return { posts: () => calls.filter((c) => c.method === "POST"), onClose };
}

const confirm = () => screen.getByRole("button", { name: "Restore backup" });

describe("the restore confirmation", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("says exactly what is replaced, what is lost, and that it can be rolled back", () => {
    renderDialog();
    expect(screen.getByTestId("restore-replaces")).toHaveTextContent(
      `The store's database and files are replaced by this backup from ${exactTime(backup.started_at!)} (revision 3).`,
    );
    const loss = screen.getByTestId("restore-loss");
    expect(loss).toHaveTextContent("Orders, customers and uploads written since then are lost.");
    expect(loss).toHaveTextContent("The storefront shows a maintenance page until the restore is done.");
    expect(loss).toHaveTextContent("The restore is recorded as a revision you can roll back.");
  });

  it("confirms only once the store's name is typed exactly", async () => {
    const { posts } = renderDialog();
    const name = screen.getByLabelText("Type acme to confirm");
    expect(confirm()).toBeDisabled();
    await userEvent.type(name, "acm");
    expect(confirm()).toBeDisabled();
    await userEvent.type(name, "e");
    expect(confirm()).toBeEnabled();
    await userEvent.type(name, "x");
    expect(confirm()).toBeDisabled();
    expect(posts()).toHaveLength(0);
  });

  it("posts the backup's id, with the reason if one is given, and closes", async () => {
    const { posts, onClose } = renderDialog();
    await userEvent.type(screen.getByLabelText("Type acme to confirm"), "acme");
    await userEvent.click(confirm());
    await waitFor(() => expect(onClose).toHaveBeenCalledOnce());
    expect(posts().map((p) => [p.path, p.body])).toEqual([[PATH, { backup: backup.id }]]);
  });

  it("sends the reason given", async () => {
    const { posts, onClose } = renderDialog();
    await userEvent.type(screen.getByLabelText(/Reason/), "the plugin update broke checkout");
    await userEvent.type(screen.getByLabelText("Type acme to confirm"), "acme{Enter}");
    await waitFor(() => expect(onClose).toHaveBeenCalledOnce());
    expect(posts()[0].body).toEqual({ backup: backup.id, reason: "the plugin update broke checkout" });
  });

  it("shows the API's refusal as it words it, and stays open", async () => {
    const { onClose } = renderDialog({
      [`POST ${PATH}`]: { status: 409, body: { error: { code: "revision_in_flight", message: "revision 5 is being applied; restore once it is done" } } },
    });
    await userEvent.type(screen.getByLabelText("Type acme to confirm"), "acme");
    await userEvent.click(confirm());
    expect(await screen.findByRole("alert")).toHaveTextContent("revision 5 is being applied; restore once it is done");
    expect(onClose).not.toHaveBeenCalled();
  });
});
