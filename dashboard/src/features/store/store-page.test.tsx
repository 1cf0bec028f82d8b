import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { applyStore } from "@/lib/live";
import type { Store, StoreEvent } from "@/lib/types";
import { aBackup, aMedusaStore, aRevision, aStore, renderWithClient, stubApi } from "@/test-support";
import StorePage, { credentialsHistory } from "./store-page";

const BASE = `/api/v1/stores/${aStore().id}`;

function renderPage(store: Store, replies = {}, events: StoreEvent[] = []) {
  const calls = stubApi({
    [`GET ${BASE}`]: { body: store },
    [`GET ${BASE}/events`]: { body: { items: events, next_cursor: null } },
    [`GET ${BASE}/revisions`]: { body: { items: [aRevision(3)], next_cursor: null } },
    [`GET ${BASE}/backups`]: { body: { items: [aBackup()] } },
    ...replies,
  });
  const { client } = renderWithClient(<StorePage id={store.id} />);
  return Object.assign(calls, { client });
}

const step = (seq: number, kind: StoreEvent["kind"], detail: unknown = {}): StoreEvent => ({
  seq,
  store_id: aStore().id,
  at: "2026-01-01T00:00:00Z",
  kind,
  message: kind,
  detail,
  actor: "user:alice",
});

describe("the store page", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("shows the revision, the release and when drift was last checked", async () => {
    renderPage(aStore({ revision: 3, latest_revision: 3, release: "wp6.8-wc9.8", release_is_default: true }));
    expect(await screen.findByTestId("revision")).toHaveTextContent("3");
    expect(screen.getByTestId("release")).toHaveTextContent("wp6.8-wc9.8");
    expect(screen.queryByText("not the default release")).toBeNull();
    expect(screen.getByText("Last drift check").nextElementSibling?.querySelector("time")).toHaveAttribute("datetime", "2026-01-01T00:05:00Z");
  });

  it("flags a release that is no longer the default", async () => {
    renderPage(aStore({ release: "wp6.7-wc9.6", release_is_default: false }));
    expect(await screen.findByText("not the default release")).toBeInTheDocument();
  });

  it("shows the operation in progress and holds further changes until it is done", async () => {
    renderPage(aStore({ latest_revision: 4, operation: { kind: "change", revision: 4, description: "updating to revision 4" } }));
    expect(await screen.findByTestId("operation")).toHaveTextContent("Updating to revision 4");
    expect(screen.getByRole("button", { name: "Change" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Reset password" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Back up now" })).toBeDisabled();
    expect(screen.getByTestId("revision").parentElement).toHaveTextContent("3 (latest 4)");
  });

  it("shows the store's backups, and a backup in progress as its operation", async () => {
    renderPage(aStore({ operation: { kind: "backup", revision: null, description: "taking a manual backup" } }));
    const backups = await screen.findByRole("region", { name: "Backups" });
    expect(await within(backups).findByText("19.8 MiB")).toBeInTheDocument();
    expect(screen.getByTestId("operation")).toHaveTextContent("Taking a manual backup");
    expect(within(backups).getByRole("button", { name: "Back up now" })).toBeDisabled();
  });

  it("resets the password after asking, and says the new one can be revealed once when done", async () => {
    const store = aStore();
    const resetting = aStore({ operation: { kind: "password_reset", revision: null, description: "resetting the admin password" } });
    const calls = renderPage(store, { [`POST ${BASE}/credentials/reset`]: { status: 202, body: { store: resetting } } }, [step(1, "credentials_revealed")]);
    await userEvent.click(await screen.findByRole("button", { name: "Reset password" }));
    const dialog = screen.getByRole("dialog");
    expect(dialog).toHaveTextContent("the current one stops working");
    await userEvent.click(within(dialog).getByRole("button", { name: "Reset password" }));
    expect(await screen.findByTestId("reset-requested")).toHaveTextContent("When the reset completes, the new admin password can be revealed once");
    expect(calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual([`${BASE}/credentials/reset`]);
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(screen.queryByRole("button", { name: "Reveal admin credentials" })).toBeNull();
  });
});

describe("the store page's links", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("are a WooCommerce store's storefront and admin, with no publishable key", async () => {
    renderPage(aStore());
    expect(await screen.findByTestId("link-storefront")).toHaveAttribute("href", "http://acme.127.0.0.1.nip.io");
    expect(screen.getByTestId("link-admin")).toHaveAttribute("href", "http://acme.127.0.0.1.nip.io/wp-admin/");
    expect(screen.getByTestId("engine")).toHaveTextContent("WooCommerce");
    expect(screen.queryByText("Store API")).toBeNull();
    expect(screen.queryByText("Publishable key")).toBeNull();
  });

  it("are a Medusa store's Store API and admin, beside its publishable key, which copies", async () => {
    const user = userEvent.setup();
    renderPage(aMedusaStore());
    const api = await screen.findByTestId("link-store-api");
    expect(api).toHaveAttribute("href", "http://headless.127.0.0.1.nip.io/store");
    expect(screen.getByText("Store API", { selector: "dt" })).toBeInTheDocument();
    expect(screen.getByTestId("link-admin")).toHaveAttribute("href", "http://headless.127.0.0.1.nip.io/app");
    expect(screen.queryByTestId("link-storefront")).toBeNull();
    expect(screen.getByTestId("engine")).toHaveTextContent("Medusa");

    const key = screen.getByTestId("publishable-key");
    expect(key).toHaveTextContent("pk_0123456789abcdef0123456789abcdef");
    const field = key.closest("dd");
    expect(field).toHaveTextContent("Store API requests send it as x-publishable-api-key.");
    await user.click(screen.getByRole("button", { name: "Copy publishable key" }));
    expect(await navigator.clipboard.readText()).toBe("pk_0123456789abcdef0123456789abcdef");
    expect(screen.getByRole("button", { name: "Publishable key copied" })).toBeInTheDocument();
  });

  it("say the publishable key comes when setup finishes, and show it as soon as the store says it", async () => {
    const provisioning = aMedusaStore({ status: "provisioning", outputs: {}, revision: null, latest_revision: 1 });
    const { client } = renderPage(provisioning);
    expect(await screen.findByTestId("publishable-key-pending")).toHaveTextContent("published when setup finishes");
    expect(screen.queryByRole("button", { name: "Copy publishable key" })).toBeNull();

    act(() =>
      applyStore(client, { ...provisioning, status: "ready", outputs: { publishable_key: "pk_fresh" }, updated_at: "2026-01-01T00:01:00Z" }),
    );
    expect(await screen.findByTestId("publishable-key")).toHaveTextContent("pk_fresh");
    expect(screen.queryByTestId("publishable-key-pending")).toBeNull();
    expect(screen.getByRole("button", { name: "Reveal admin credentials" })).toBeInTheDocument();
  });
});

describe("the admin credentials", () => {
  it("are gone once revealed, and revealable again after a password reset", () => {
    const revealed = credentialsHistory([step(1, "credentials_revealed")]);
    expect(revealed.revealedAt > revealed.resetAt).toBe(true);
    const reset = credentialsHistory([step(1, "credentials_revealed"), step(2, "step", { step: "password_reset" })]);
    expect(reset.revealedAt > reset.resetAt).toBe(false);
  });
});
