import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { aMedusaStore, aStore } from "@/test-support";
import { StoreList } from "./store-list";

describe("the store list", () => {
  it("names each store's engine and links to what its engine serves", () => {
    render(<StoreList stores={[aMedusaStore({ id: "m", plan: "medium" }), aStore({ id: "w" })]} />);
    const row = (name: string) => within(screen.getByRole("list", { name: "Stores" }).querySelector<HTMLElement>(`[data-store="${name}"]`)!);
    const medusa = row("headless");
    expect(medusa.getByText(/Medusa · medium/)).toBeInTheDocument();
    expect(medusa.getByRole("link", { name: "Store API of headless (opens in a new tab)" })).toHaveAttribute(
      "href",
      "http://headless.127.0.0.1.nip.io/store",
    );
    expect(medusa.getByRole("link", { name: "Admin of headless (opens in a new tab)" })).toHaveAttribute(
      "href",
      "http://headless.127.0.0.1.nip.io/app",
    );
    expect(medusa.queryByRole("link", { name: /Storefront/ })).toBeNull();

    const woo = row("acme");
    expect(woo.getByText(/WooCommerce · small/)).toBeInTheDocument();
    expect(woo.getByRole("link", { name: "Storefront of acme (opens in a new tab)" })).toHaveAttribute("href", "http://acme.127.0.0.1.nip.io");
    expect(woo.getByRole("link", { name: "Admin of acme (opens in a new tab)" })).toHaveAttribute("href", "http://acme.127.0.0.1.nip.io/wp-admin/");
  });
});
