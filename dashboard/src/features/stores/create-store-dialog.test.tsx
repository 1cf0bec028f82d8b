import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { renderWithClient, stubApi } from "@/test-support";
import { CreateStoreForm } from "./create-store-dialog";

const catalog = {
  "GET /api/v1/plans": {
    body: [
      { plan: "small", cpu: "2", memory: "2Gi", storage: "4Gi" },
      { plan: "medium", cpu: "4", memory: "4Gi", storage: "20Gi" },
      { plan: "large", cpu: "8", memory: "8Gi", storage: "100Gi" },
    ],
  },
  "GET /api/v1/engines": {
    body: [
      { engine: "woocommerce", available: true },
      { engine: "medusa", available: false },
    ],
  },
};

const store = {
  id: "01936f3e-8b7a-7c2d-9e4f-0123456789ab",
  name: "acme",
  engine: "woocommerce",
  plan: "small",
  status: "pending",
  status_reason: null,
  owner_id: "u",
  namespace: "store-01936f3e8b7a7c2d9e4f0123456789ab",
  url: "http://acme.127.0.0.1.nip.io",
  admin_url: "http://acme.127.0.0.1.nip.io/wp-admin/",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

function renderForm(replies = {}) {
  const calls = stubApi({ ...catalog, ...replies });
  const onCreated = vi.fn();
  renderWithClient(<CreateStoreForm onCancel={() => {}} onCreated={onCreated} />);
  return { calls, onCreated, name: screen.getByLabelText("Name") };
}

describe("the create store form", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("says what is wrong with the name as it is typed, in the API's words", async () => {
    const { name } = renderForm();
    await userEvent.type(name, "Sh");
    expect(screen.getByRole("alert")).toHaveTextContent('invalid store name "Sh": it must be at least 3 characters (got 2)');
    await userEvent.type(name, "op");
    expect(screen.getByRole("alert")).toHaveTextContent('invalid store name "Shop": it must be lowercase');
    expect(name).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("button", { name: "Create store" })).toBeDisabled();

    await userEvent.clear(name);
    await userEvent.type(name, "kube-shop");
    expect(screen.getByRole("alert")).toHaveTextContent('invalid store name "kube-shop": it must not start with "kube-"');

    await userEvent.clear(name);
    await userEvent.type(name, "acme");
    expect(screen.queryByRole("alert")).toBeNull();
    expect(screen.getByRole("button", { name: "Create store" })).toBeEnabled();
  });

  it("shows each plan's size and Medusa as coming soon", async () => {
    renderForm();
    expect(await screen.findByText("2 CPU · 2Gi memory · 4Gi storage")).toBeInTheDocument();
    expect(screen.getByText("8 CPU · 8Gi memory · 100Gi storage")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole("radio", { name: /Medusa/ })).toBeDisabled());
    expect(screen.getByText("Coming soon")).toBeInTheDocument();
    expect(screen.getByRole("radio", { name: /WooCommerce/ })).toBeChecked();
  });

  it("does not send a name the API would refuse", async () => {
    const { calls, name } = renderForm();
    await userEvent.type(name, "www{Enter}");
    expect(screen.getByRole("alert")).toHaveTextContent('invalid store name "www": it is reserved');
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("sends name, engine and plan, and hands back the new store", async () => {
    const { calls, onCreated, name } = renderForm({ "POST /api/v1/stores": { status: 202, body: store } });
    await userEvent.type(name, "acme");
    await userEvent.click(screen.getByRole("radio", { name: /Medium/ }));
    await userEvent.click(screen.getByRole("button", { name: "Create store" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalledWith(store));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ name: "acme", engine: "woocommerce", plan: "medium" });
  });

  it("puts an API error next to the field it is about", async () => {
    const { name } = renderForm({
      "POST /api/v1/stores": {
        status: 409,
        body: { error: { code: "name_taken", message: "a store named \"acme\" already exists", field: "name" } },
      },
    });
    await userEvent.type(name, "acme{Enter}");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent('a store named "acme" already exists');
    expect(name.getAttribute("aria-describedby")).toContain(alert.id);
  });

  it("shows a quota error for the form as a whole", async () => {
    const { name } = renderForm({
      "POST /api/v1/stores": {
        status: 409,
        body: { error: { code: "quota_exceeded", message: "you have 5 live stores, the most allowed" } },
      },
    });
    await userEvent.type(name, "acme{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("you have 5 live stores, the most allowed");
  });
});
