import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { aBackup, aStore, renderWithClient, stubApi } from "@/test-support";
import { BackUpForm } from "./back-up-dialog";

const store = aStore();
const PATH = `/api/v1/stores/${store.id}/backups`;
const accepted = { status: 202, body: aBackup({ status: "pending", snapshot: null, size_bytes: null, added_bytes: null, duration_ms: null }) };

function renderForm(replies: Parameters<typeof stubApi>[0]) {
  const calls = stubApi(replies);
  const onDone = vi.fn();
  renderWithClient(<BackUpForm store={store} onCancel={() => {}} onDone={onDone} />);
  return { posts: () => calls.filter((c) => c.method === "POST"), onDone };
}

describe("taking a backup now", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("sends the reason given", async () => {
    const { posts, onDone } = renderForm({ [`POST ${PATH}`]: accepted });
    await userEvent.type(screen.getByLabelText(/Reason/), "  before the plugin update ");
    await userEvent.click(screen.getByRole("button", { name: "Start backup" }));
    await waitFor(() => expect(onDone).toHaveBeenCalledOnce());
    expect(posts().map((p) => [p.path, p.body])).toEqual([[PATH, { reason: "before the plugin update" }]]);
  });

  it("sends no reason when none is given", async () => {
    const { posts, onDone } = renderForm({ [`POST ${PATH}`]: accepted });
    await userEvent.click(screen.getByRole("button", { name: "Start backup" }));
    await waitFor(() => expect(onDone).toHaveBeenCalledOnce());
    expect(posts()[0].body).toEqual({});
  });

  it("shows the API's refusal as it words it, and stays open", async () => {
    const { onDone } = renderForm({
      [`POST ${PATH}`]: { status: 409, body: { error: { code: "backup_in_progress", message: "backup 0193a6c4 of this store is already running" } } },
    });
    await userEvent.click(screen.getByRole("button", { name: "Start backup" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("backup 0193a6c4 of this store is already running");
    expect(onDone).not.toHaveBeenCalled();
    expect(screen.getByRole("button", { name: "Start backup" })).toBeEnabled();
  });
});
