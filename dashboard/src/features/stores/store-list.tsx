import { ExternalLink } from "lucide-react";
import { memo, useLayoutEffect, useRef, useState } from "react";
import { Link } from "@/components/link";
import { StatusBadge } from "@/components/status-badge";
import { RelativeTime } from "@/components/time";
import { Card } from "@/components/ui/card";
import { ENGINE_NAME, storeLinks } from "@/lib/engines";
import type { Store } from "@/lib/types";

/** Below this many stores every row is rendered; above it, only those near the viewport. */
const WINDOW_FROM = 80;
/** Rows rendered beyond each edge of the viewport, so scrolling and Tab find them ready. */
const OVERSCAN = 10;

/** The stores, one row each: a table on wide screens, stacked cards on a phone. Rows are
 * plain elements (no per-row providers or portals), and a long list renders only the rows
 * near the viewport (every row has the same height at a given width), so a thousand stores
 * cost no more than a screenful. */
export function StoreList({ stores }: { stores: Store[] }) {
  const listRef = useRef<HTMLUListElement>(null);
  const { start, end, rowHeight } = useWindow(listRef, stores.length);
  const windowed = stores.length > WINDOW_FROM;
  const shown = windowed ? stores.slice(start, end) : stores;
  return (
    <Card className="overflow-hidden">
      <div className="hidden grid-cols-[minmax(0,2fr)_minmax(0,1.2fr)_8rem_minmax(0,1.6fr)_8rem] gap-4 border-b bg-muted/50 px-4 py-2 text-xs font-medium text-muted-foreground uppercase tracking-wide md:grid">
        <span>Name</span>
        <span>Engine · plan</span>
        <span>Status</span>
        <span>Links</span>
        <span>Created</span>
      </div>
      <ul
        ref={listRef}
        className="divide-y"
        aria-label="Stores"
        data-testid="store-list"
        data-count={stores.length}
        style={windowed ? { paddingTop: start * rowHeight, paddingBottom: (stores.length - end) * rowHeight } : undefined}
      >
        {shown.map((store, i) => (
          <StoreRow key={store.id} store={store} position={(windowed ? start : 0) + i + 1} total={stores.length} />
        ))}
      </ul>
    </Card>
  );
}

/** The rows of a `count`-row list that are within (or near) the browser's viewport. */
function useWindow(listRef: React.RefObject<HTMLUListElement | null>, count: number) {
  const [rowHeight, setRowHeight] = useState(57);
  const [range, setRange] = useState({ start: 0, end: Math.min(count, 40) });
  useLayoutEffect(() => {
    if (count <= WINDOW_FROM) return;
    let frame = 0;
    const update = () => {
      frame = 0;
      const list = listRef.current;
      if (!list) return;
      const row = list.querySelector<HTMLElement>(":scope > li");
      const height = row ? row.getBoundingClientRect().height : rowHeight;
      if (height > 0 && Math.abs(height - rowHeight) > 0.5) setRowHeight(height);
      const top = list.getBoundingClientRect().top;
      const first = Math.floor(Math.max(0, -top) / height);
      const last = Math.ceil((window.innerHeight - top) / height);
      const next = { start: Math.max(0, first - OVERSCAN), end: Math.min(count, Math.max(0, last) + OVERSCAN) };
      setRange((old) => (old.start === next.start && old.end === next.end ? old : next));
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(update);
    };
    update();
    window.addEventListener("scroll", schedule, { passive: true });
    window.addEventListener("resize", schedule);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener("scroll", schedule);
      window.removeEventListener("resize", schedule);
    };
  }, [listRef, count, rowHeight]);
  return { start: Math.min(range.start, count), end: Math.min(range.end, count), rowHeight };
}

const StoreRow = memo(function StoreRow({ store, position, total }: { store: Store; position: number; total: number }) {
  const href = `/stores/${store.id}`;
  return (
    <li
      className="grid grid-cols-[minmax(0,1fr)_auto] items-center gap-x-4 gap-y-1.5 px-4 py-3 md:grid-cols-[minmax(0,2fr)_minmax(0,1.2fr)_8rem_minmax(0,1.6fr)_8rem]"
      data-store={store.name}
      aria-posinset={position}
      aria-setsize={total}
    >
      <Link
        href={href}
        className="truncate rounded-sm font-medium underline-offset-4 outline-none hover:underline focus-visible:ring-2 focus-visible:ring-ring"
      >
        {store.name}
      </Link>
      <span className="order-3 col-span-2 text-sm text-muted-foreground md:order-none md:col-span-1" data-engine={store.engine}>
        {ENGINE_NAME[store.engine]} · {store.plan}
        {store.release && !store.release_is_default && (
          <span className="text-warning" title={`Runs release ${store.release}, no longer the default for new stores`}>
            {" "}
            · older release
          </span>
        )}
      </span>
      <span className="justify-self-end md:justify-self-start">
        <StatusBadge status={store.status} />
      </span>
      <span className="order-4 col-span-2 flex min-w-0 gap-3 text-sm md:order-none md:col-span-1">
        {storeLinks(store).map((link) => (
          <ExternalLinkTo key={link.label} href={link.href} label={link.label} name={store.name} />
        ))}
      </span>
      <span className="order-5 col-span-2 text-sm text-muted-foreground md:order-none md:col-span-1">
        <span className="md:hidden">Created </span>
        <RelativeTime iso={store.created_at} />
      </span>
    </li>
  );
});

function ExternalLinkTo({ href, label, name }: { href: string; label: string; name: string }) {
  return (
    <a
      href={href}
      target="_blank"
      rel="noreferrer"
      aria-label={`${label} of ${name} (opens in a new tab)`}
      className="inline-flex items-center gap-1 rounded-sm text-muted-foreground underline-offset-4 outline-none hover:text-foreground hover:underline focus-visible:ring-2 focus-visible:ring-ring"
    >
      {label}
      <ExternalLink className="size-3" aria-hidden />
    </a>
  );
}
