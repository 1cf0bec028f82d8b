// Store names, checked as the API checks them (crates/domain/src/name.rs): the same rules,
// in the same order, with the same messages, so the form never disagrees with the server.

export const MIN_LEN = 3;
export const MAX_LEN = 40;

const RESERVED_WORDS = new Set([
  "admin",
  "api",
  "app",
  "dashboard",
  "default",
  "mail",
  "root",
  "status",
  "storeplane",
  "www",
]);

const RESERVED_PREFIXES = ["kube-", "xn--"];

/** The message the API gives for `raw`, or `null` when the name is valid. */
export function storeNameError(raw: string): string | null {
  const rule = brokenRule(raw);
  return rule === null ? null : `invalid store name ${debugString(raw)}: it ${rule}`;
}

function brokenRule(raw: string): string | null {
  const chars = Array.from(raw);
  const len = chars.length;
  if (len < MIN_LEN) return `must be at least ${MIN_LEN} characters (got ${len})`;
  if (len > MAX_LEN) return `must be at most ${MAX_LEN} characters (got ${len})`;
  if (chars.some((c) => c >= "A" && c <= "Z")) return "must be lowercase";
  const bad = chars.find((c) => !/^[a-z0-9-]$/.test(c));
  if (bad !== undefined) {
    return `may contain only lowercase letters, digits and '-' (found ${debugChar(bad)})`;
  }
  if (raw.startsWith("-") || raw.endsWith("-")) return "must start and end with a letter or digit";
  if (RESERVED_WORDS.has(raw)) return "is reserved";
  const prefix = RESERVED_PREFIXES.find((p) => raw.startsWith(p));
  if (prefix !== undefined) return `must not start with ${debugString(prefix)}`;
  return null;
}

// Rust's `{:?}` escapes control characters, combining marks and other invisible
// characters as `\u{…}`; printable characters are shown as they are.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Mn}\p{Me}]/u;

function escapeChar(c: string, quote: '"' | "'"): string {
  switch (c) {
    case "\t":
      return "\\t";
    case "\r":
      return "\\r";
    case "\n":
      return "\\n";
    case "\\":
      return "\\\\";
    case "\0":
      return "\\0";
    case quote:
      return `\\${quote}`;
  }
  if (INVISIBLE.test(c)) return `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`;
  return c;
}

function debugString(s: string): string {
  return `"${Array.from(s, (c) => escapeChar(c, '"')).join("")}"`;
}

function debugChar(c: string): string {
  return `'${escapeChar(c, "'")}'`;
}
