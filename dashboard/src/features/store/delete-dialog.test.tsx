import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { aStore, renderWithClient, stubApi } from "@/test-support";
import { DeleteDialog } from "./delete-dialog";

function renderDialog(store = aStore()) {
  const calls = stubApi({ [`DELETE /api/v1/stores/${store.id}`]: { status: 202, body: { ...store, status: "deleting" } } });
  const onOpenChange = vi.fn();
  renderWithClient(<DeleteDialog store={store} open onOpenChange={onOpenChange} />);
  return { deletes: () => calls.filter((c) => c.method === "DELETE"), onOpenChange };
}

/** A store whose deleted backups are kept `days` days. */
const keeping = (days: number) => aStore({ backup: { ...aStore().backup, keep_after_delete_days: days } });

describe("the delete confirmation", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("says the store's backups are kept, and restorable as a new store, for the days configured", () => {
    renderDialog();
    const dialog = screen.getByRole("dialog", { name: "Delete acme?" });
    expect(dialog).toHaveTextContent("Its backups are kept for 30 days: until then a backup can be restored as a new store.");
    expect(screen.getByTestId("backups-kept")).toHaveTextContent(
      "Its backups are kept for 30 days: until then a backup can be restored as a new store.",
    );
  });

  it("says the days the store's own summary gives", () => {
    renderDialog(keeping(7));
    expect(screen.getByTestId("backups-kept")).toHaveTextContent("Its backups are kept for 7 days:");
  });

  it("says one day, not one days", () => {
    renderDialog(keeping(1));
    expect(screen.getByTestId("backups-kept")).toHaveTextContent(
      "Its backups are kept for 1 day: until then a backup can be restored as a new store.",
    );
  });

  it("does not promise a restore when deleted stores' backups are not kept", () => {
    renderDialog(keeping(0));
    const kept = screen.getByTestId("backups-kept");
    expect(kept).toHaveTextContent("Its backups are purged with it: none can be restored once it is deleted.");
    expect(kept).not.toHaveTextContent("kept for");
  });

  it("still deletes only once the store's name is typed", async () => {
    const { deletes, onOpenChange } = renderDialog();
    const remove = screen.getByRole("button", { name: "Delete store" });
    expect(remove).toBeDisabled();
    await userEvent.type(screen.getByLabelText("Type acme to confirm"), "acme");
    await userEvent.click(remove);
    await waitFor(() => expect(onOpenChange).toHaveBeenCalledWith(false));
    expect(deletes().map((c) => c.path)).toEqual(["/api/v1/stores/01936f3e-8b7a-7c2d-9e4f-0123456789ab"]);
  });
});
