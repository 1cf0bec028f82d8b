// What differs between the engines a store can run, as the dashboard shows it: their names
// and what a store's `url` is. WooCommerce serves a storefront there; Medusa has no
// storefront of its own, so its `url` is the Store API a storefront calls, with the
// store's publishable key in a header.

import type { Engine, Store } from "./types";

export const ENGINE_NAME: Record<Engine, string> = { woocommerce: "WooCommerce", medusa: "Medusa" };

/** What a store's `url` leads to, by engine. */
export const PUBLIC_FACE: Record<Engine, string> = { woocommerce: "Storefront", medusa: "Store API" };

/** The header Medusa's Store API reads the publishable key from. */
export const PUBLISHABLE_KEY_HEADER = "x-publishable-api-key";

/** The engines whose setup publishes a publishable key (into `outputs.publishable_key`). */
export function publishesKey(engine: Engine): boolean {
  return engine === "medusa";
}

/** The store's publishable key, once its setup published it. */
export function publishableKey(store: Store): string | null {
  return store.outputs?.publishable_key || null;
}

/** A store's links, in the order they are shown: its public face, then its admin. */
export function storeLinks(store: Store): { label: string; href: string }[] {
  return [
    { label: PUBLIC_FACE[store.engine], href: store.url },
    { label: "Admin", href: store.admin_url },
  ];
}
