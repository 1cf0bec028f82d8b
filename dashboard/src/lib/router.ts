// Two routes need no router library: the list at `/`, a store at `/stores/{id}`.

import { useSyncExternalStore } from "react";

export type Route = { page: "stores" } | { page: "store"; id: string } | { page: "not-found" };

export function parseRoute(pathname: string): Route {
  if (pathname === "/" || pathname === "") return { page: "stores" };
  const match = /^\/stores\/([^/]+)\/?$/.exec(pathname);
  if (match) return { page: "store", id: decodeURIComponent(match[1]) };
  return { page: "not-found" };
}

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
}

export function navigate(to: string): void {
  if (to === window.location.pathname) return;
  window.history.pushState(null, "", to);
  window.scrollTo(0, 0);
  listeners.forEach((l) => l());
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}
