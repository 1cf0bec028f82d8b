import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { aRevision, aStore, renderWithClient, stubApi } from "@/test-support";
import { RollbackForm } from "./rollback-dialog";

const store = aStore({ release: "wp6.8-wc9.8", revision: 3, latest_revision: 3 });
const PATH = `/api/v1/stores/${store.id}/rollback`;
const accepted = { status: 202, body: { store: aStore({ latest_revision: 4 }), revision: aRevision(4, { status: "pending", rollback_of: 2 }), changed: true } };
const wouldLoseData = {
  status: 409,
  body: {
    error: {
      code: "would_lose_data",
      message:
        "revision 3 migrated the store's data to release wp6.8-wc9.8; ask to restore the checkpoint taken before revision 3 (orders written since are lost)",
    },
  },
};

function renderForm(replies: Parameters<typeof stubApi>[0], target = aRevision(2, { status: "superseded", release: "wp6.7-wc9.6" })) {
  const calls = stubApi(replies);
  const onDone = vi.fn();
  renderWithClient(<RollbackForm store={store} target={target} onCancel={() => {}} onDone={onDone} />);
  return { posts: () => calls.filter((c) => c.method === "POST"), onDone };
}

describe("the rollback confirmation", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("says the store's data is kept and rolls back to the revision", async () => {
    const { posts, onDone } = renderForm({ [`POST ${PATH}`]: accepted }, aRevision(2, { status: "superseded" }));
    expect(screen.getByTestId("data-kept")).toHaveTextContent("The store's data is kept");
    await userEvent.type(screen.getByLabelText(/Reason/), "the new plan is too costly");
    await userEvent.click(screen.getByRole("button", { name: "Roll back" }));
    await waitFor(() => expect(onDone).toHaveBeenCalledOnce());
    expect(posts()[0].body).toEqual({ revision: 2, reason: "the new plan is too costly" });
  });

  it("when going back would lose data, shows why and restores the checkpoint only once the loss is acknowledged", async () => {
    const { posts, onDone } = renderForm({ [`POST ${PATH}`]: [wouldLoseData, accepted] });
    await userEvent.click(screen.getByRole("button", { name: "Roll back" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("revision 3 migrated the store's data to release wp6.8-wc9.8");
    expect(screen.queryByTestId("data-kept")).toBeNull();
    expect(screen.getByTestId("data-loss")).toHaveTextContent("orders and other data written since are lost");
    const confirm = screen.getByRole("button", { name: "Roll back and restore the checkpoint" });
    expect(confirm).toBeDisabled();
    expect(onDone).not.toHaveBeenCalled();
    expect(posts()).toHaveLength(1);

    await userEvent.click(screen.getByRole("checkbox", { name: "Restore the checkpoint (orders written since it are lost)" }));
    expect(confirm).toBeEnabled();
    await userEvent.click(confirm);
    await waitFor(() => expect(onDone).toHaveBeenCalledOnce());
    expect(posts().map((p) => p.body)).toEqual([{ revision: 2 }, { revision: 2, restore_checkpoint: true }]);
  });

  it("unticking the acknowledgement stops the restore again", async () => {
    const { posts } = renderForm({ [`POST ${PATH}`]: wouldLoseData });
    await userEvent.click(screen.getByRole("button", { name: "Roll back" }));
    const restore = await screen.findByRole("checkbox", { name: /Restore the checkpoint/ });
    await userEvent.click(restore);
    await userEvent.click(restore);
    expect(screen.getByRole("button", { name: "Roll back and restore the checkpoint" })).toBeDisabled();
    expect(posts()).toHaveLength(1);
  });

  it("shows any other refusal as the API words it", async () => {
    renderForm({
      [`POST ${PATH}`]: { status: 409, body: { error: { code: "already_deployed", message: "the store already runs revision 2" } } },
    });
    await userEvent.click(screen.getByRole("button", { name: "Roll back" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("the store already runs revision 2");
    expect(screen.queryByRole("checkbox")).toBeNull();
  });
});
