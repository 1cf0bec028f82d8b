import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { PLAN_SIZES, renderWithClient, stubApi } from "@/test-support";
import { CreateStoreForm } from "./create-store-dialog";

const catalog = {
  "GET /api/v1/plans": { body: PLAN_SIZES },
  "GET /api/v1/engines": {
    body: [
      { engine: "woocommerce", available: true },
      { engine: "medusa", available: true },
    ],
  },
};

/** A server that does not provision Medusa stores. */
const withoutMedusa = {
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
  outputs: {},
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

  it("shows each plan's size for the engine chosen, and the sizes of the other when it is switched", async () => {
    renderForm();
    expect(screen.getByRole("radio", { name: /WooCommerce/ })).toBeChecked();
    expect(await screen.findByText("2 CPU · 2Gi memory · 4Gi storage")).toBeInTheDocument();
    expect(screen.getByText("8 CPU · 8Gi memory · 100Gi storage")).toBeInTheDocument();
    expect(screen.queryByText("5 CPU · 5Gi memory · 6Gi storage")).toBeNull();

    const medusa = screen.getByRole("radio", { name: /Medusa/ });
    await waitFor(() => expect(medusa).toBeEnabled());
    expect(screen.queryByText("Coming soon")).toBeNull();
    await userEvent.click(medusa);
    expect(medusa).toBeChecked();
    expect(screen.getByTestId("plans")).toHaveAttribute("data-engine", "medusa");
    expect(screen.getByText("5 CPU · 5Gi memory · 6Gi storage")).toBeInTheDocument();
    expect(screen.getByText("10 CPU · 10Gi memory · 23Gi storage")).toBeInTheDocument();
    expect(screen.getByText("20 CPU · 20Gi memory · 100Gi storage")).toBeInTheDocument();
    expect(screen.queryByText("2 CPU · 2Gi memory · 4Gi storage")).toBeNull();

    await userEvent.click(screen.getByRole("radio", { name: /WooCommerce/ }));
    expect(screen.getByText("2 CPU · 2Gi memory · 4Gi storage")).toBeInTheDocument();
    expect(screen.queryByText("5 CPU · 5Gi memory · 6Gi storage")).toBeNull();
  });

  it("shows an engine the server does not provision as coming soon, and does not offer it", async () => {
    renderForm(withoutMedusa);
    expect(await screen.findByText("Coming soon")).toBeInTheDocument();
    expect(screen.getByRole("radio", { name: /Medusa/ })).toBeDisabled();
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

  it("sends a Medusa store with the plan picked against Medusa's sizes", async () => {
    const medusa = { ...store, name: "headless", engine: "medusa", url: "http://headless.127.0.0.1.nip.io/store", outputs: {} };
    const { calls, onCreated, name } = renderForm({ "POST /api/v1/stores": { status: 202, body: medusa } });
    await userEvent.type(name, "headless");
    const engine = screen.getByRole("radio", { name: /Medusa/ });
    await waitFor(() => expect(engine).toBeEnabled());
    await userEvent.click(engine);
    await userEvent.click(screen.getByRole("radio", { name: /Large/ }));
    expect(screen.getByRole("radio", { name: /Large/ }).closest("label")).toHaveTextContent("20 CPU · 20Gi memory · 100Gi storage");
    await userEvent.click(screen.getByRole("button", { name: "Create store" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalledWith(medusa));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ name: "headless", engine: "medusa", plan: "large" });
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
