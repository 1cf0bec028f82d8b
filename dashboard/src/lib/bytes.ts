// Sizes as people read them: "19.8 MiB", "229 KiB". Binary units, as restic counts them,
// so the figures match what the backup's own timeline line says.

const UNITS = ["KiB", "MiB", "GiB", "TiB", "PiB"];

/** "512 B", "229 KiB", "19.8 MiB": one decimal below 100, none from there. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = "B";
  for (const next of UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}
