import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Store } from "@/lib/types";
import { PLAN_SIZES, aMedusaStore, aRevision, aStore, renderWithClient, stubApi } from "@/test-support";
import { ChangeForm } from "./change-dialog";

const store = aStore({ plan: "small", release: "wp6.7-wc9.6", title: "Acme", revision: 3, latest_revision: 3, release_is_default: false });
const PATH = `/api/v1/stores/${store.id}`;

const catalog = {
  "GET /api/v1/plans": { body: PLAN_SIZES },
  "GET /api/v1/releases": {
    body: [
      { engine: "woocommerce", name: "wp6.8-wc9.8", default: true, components: { wordpress: "wordpress:6.8.1", woocommerce: "9.8.5" } },
      { engine: "woocommerce", name: "wp6.7-wc9.6", default: false, components: { wordpress: "wordpress:6.7.2", woocommerce: "9.6.2" } },
      { engine: "medusa", name: "medusa2.21", default: true, components: { medusa: "ghcr.io/storeplane/storeplane-medusa:2.21.2", postgres: "postgres:17.5", redis: "redis:7.4.2" } },
    ],
  },
};

const accepted = (overrides = {}) => ({
  status: 202,
  body: { store: aStore({ ...store, latest_revision: 4 }), revision: aRevision(4, { status: "pending", plan: "medium" }), changed: true, ...overrides },
});

function renderForm(replies = {}, of: Store = store) {
  const calls = stubApi({ ...catalog, ...replies });
  const onChanged = vi.fn();
  renderWithClient(<ChangeForm store={of} onCancel={() => {}} onChanged={onChanged} />);
  const patches = () => calls.filter((c) => c.method === "PATCH");
  return { calls, patches, onChanged, apply: screen.getByRole("button", { name: "Apply change" }) };
}

describe("the change form", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("shows the plan sizes side by side and the releases with the current and default ones marked", async () => {
    renderForm();
    expect(await screen.findByText("4 CPU · 4Gi memory · 20Gi storage")).toBeInTheDocument();
    expect(screen.getByText("8 CPU · 8Gi memory · 100Gi storage")).toBeInTheDocument();
    expect(screen.getByRole("radio", { name: /Small/ })).toBeChecked();
    expect(screen.getByRole("radio", { name: /Small/ }).closest("label")).toHaveTextContent("Current");

    const current = await screen.findByRole("radio", { name: /wp6\.7-wc9\.6/ });
    expect(current).toBeChecked();
    expect(current.closest("label")).toHaveTextContent("Current");
    expect(current.closest("label")).not.toHaveTextContent("Default");
    const fresh = screen.getByRole("radio", { name: /wp6\.8-wc9\.8/ });
    expect(fresh.closest("label")).toHaveTextContent("Default");
    expect(fresh.closest("label")).toHaveTextContent("woocommerce 9.8.5");
    // Only this engine's releases are offered.
    expect(within(screen.getByTestId("releases")).getAllByRole("radio")).toHaveLength(2);
  });

  it("shows a Medusa store the sizes and releases of its own engine", async () => {
    renderForm({}, aMedusaStore({ plan: "medium" }));
    expect(await screen.findByText("10 CPU · 10Gi memory · 23Gi storage")).toBeInTheDocument();
    expect(screen.getByText("5 CPU · 5Gi memory · 6Gi storage")).toBeInTheDocument();
    expect(screen.getByText("20 CPU · 20Gi memory · 100Gi storage")).toBeInTheDocument();
    expect(screen.queryByText("4 CPU · 4Gi memory · 20Gi storage")).toBeNull();
    expect(screen.getByRole("radio", { name: /Medium/ }).closest("label")).toHaveTextContent("Current");

    const releases = within(await screen.findByTestId("releases")).getAllByRole("radio");
    expect(releases).toHaveLength(1);
    expect(releases[0]).toBeChecked();
    expect(releases[0].closest("label")).toHaveTextContent("medusa2.21");
    expect(releases[0].closest("label")).toHaveTextContent("postgres postgres:17.5");
  });

  it("cannot be sent until something differs from what the store runs", async () => {
    const { apply, patches } = renderForm();
    expect(apply).toBeDisabled();
    await userEvent.click(screen.getByRole("radio", { name: /Medium/ }));
    expect(apply).toBeEnabled();
    await userEvent.click(screen.getByRole("radio", { name: /Small/ }));
    expect(apply).toBeDisabled();
    expect(patches()).toHaveLength(0);
  });

  it("sends only the changed fields, with the revision it was opened on as If-Match", async () => {
    const { apply, patches, onChanged } = renderForm({ [`PATCH ${PATH}`]: accepted() });
    await userEvent.click(screen.getByRole("radio", { name: /Medium/ }));
    await userEvent.type(screen.getByLabelText(/Reason/), "bigger plan");
    await userEvent.click(apply);
    await waitFor(() => expect(onChanged).toHaveBeenCalledOnce());
    expect(patches()).toHaveLength(1);
    expect(patches()[0].body).toEqual({ plan: "medium", reason: "bigger plan" });
    expect(patches()[0].headers["If-Match"]).toBe('"3"');
  });

  it("sends a new release and title, and leaves the plan out", async () => {
    const { apply, patches, onChanged } = renderForm({ [`PATCH ${PATH}`]: accepted() });
    await userEvent.click(await screen.findByRole("radio", { name: /wp6\.8-wc9\.8/ }));
    expect(screen.getByText(/the database is checkpointed first/)).toBeInTheDocument();
    const title = screen.getByLabelText("Shop title");
    await userEvent.clear(title);
    await userEvent.type(title, "Acme Coffee ");
    await userEvent.click(apply);
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    expect(patches()[0].body).toEqual({ release: "wp6.8-wc9.8", title: "Acme Coffee" });
  });

  it("says there was nothing to change when the API finds the store already runs it", async () => {
    const message = "nothing to change: the store already runs revision 3 with these settings";
    const { apply, onChanged } = renderForm({
      [`PATCH ${PATH}`]: { status: 200, body: { store, revision: aRevision(3), changed: false, message } },
    });
    await userEvent.click(screen.getByRole("radio", { name: /Large/ }));
    await userEvent.click(apply);
    expect(await screen.findByTestId("nothing-to-change")).toHaveTextContent(
      "Nothing to change: the store already runs revision 3 with these settings",
    );
    expect(onChanged).not.toHaveBeenCalled();
  });

  it("on a stale revision (412) says the store changed, shows it as it is now, and tries again against that", async () => {
    const now = aStore({ ...store, plan: "large", latest_revision: 5, revision: 5, updated_at: "2026-01-01T01:00:00Z" });
    const { apply, patches, onChanged } = renderForm({
      [`PATCH ${PATH}`]: [
        { status: 412, body: { error: { code: "stale_revision", message: "the latest revision is 5, not 3" } } },
        accepted(),
      ],
      [`GET ${PATH}`]: { body: now },
    });
    await userEvent.click(screen.getByRole("radio", { name: /Medium/ }));
    await userEvent.click(apply);
    expect(await screen.findByRole("alert")).toHaveTextContent("the store changed since you opened this; review and try again");
    expect(onChanged).not.toHaveBeenCalled();

    await userEvent.click(apply);
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    expect(patches().map((p) => p.headers["If-Match"])).toEqual(['"3"', '"5"']);
  });

  it("says another operation is in progress (409)", async () => {
    const { apply } = renderForm({
      [`PATCH ${PATH}`]: {
        status: 409,
        body: { error: { code: "operation_in_progress", message: "revision 4 is being applied" } },
      },
    });
    await userEvent.click(screen.getByRole("radio", { name: /Medium/ }));
    await userEvent.click(apply);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("another operation is in progress on this store; try again once it finishes");
    expect(alert).toHaveTextContent("revision 4 is being applied");
  });

  it("puts a refused value (422) next to its field", async () => {
    const { apply } = renderForm({
      [`PATCH ${PATH}`]: {
        status: 422,
        body: { error: { code: "invalid_title", message: "a title must be at most 100 characters", field: "title" } },
      },
    });
    const title = screen.getByLabelText("Shop title");
    await userEvent.type(title, "!");
    await userEvent.click(apply);
    expect(await screen.findByRole("alert")).toHaveTextContent("a title must be at most 100 characters");
    expect(title).toHaveAttribute("aria-invalid", "true");
  });
});
