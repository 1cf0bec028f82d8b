import { exactTime, relativeTime } from "@/lib/time";

/** "3 minutes ago"; the exact time on hover and for assistive technology. */
export function RelativeTime({ iso, className }: { iso: string; className?: string }) {
  const full = exactTime(iso);
  return (
    <time dateTime={iso} title={full} aria-label={full} className={className}>
      {relativeTime(iso)}
    </time>
  );
}
