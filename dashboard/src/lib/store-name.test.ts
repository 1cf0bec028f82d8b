import { describe, expect, it } from "vitest";
import { storeNameError } from "./store-name";

// The messages of crates/domain/src/name.rs, as the API sends them in `invalid_name` errors.
describe("storeNameError", () => {
  it("accepts a plain lowercase name and names at the length bounds", () => {
    expect(storeNameError("acme-shop-2")).toBeNull();
    expect(storeNameError("abc")).toBeNull();
    expect(storeNameError("a".repeat(40))).toBeNull();
  });

  it.each([
    ["ab", 'invalid store name "ab": it must be at least 3 characters (got 2)'],
    ["a".repeat(41), `invalid store name "${"a".repeat(41)}": it must be at most 40 characters (got 41)`],
    ["Shop", 'invalid store name "Shop": it must be lowercase'],
    ["acme_shop", "invalid store name \"acme_shop\": it may contain only lowercase letters, digits and '-' (found '_')"],
    ["acme.shop", "invalid store name \"acme.shop\": it may contain only lowercase letters, digits and '-' (found '.')"],
    ["café", "invalid store name \"café\": it may contain only lowercase letters, digits and '-' (found 'é')"],
    ["it's", "invalid store name \"it's\": it may contain only lowercase letters, digits and '-' (found '\\'')"],
    ["-acme", 'invalid store name "-acme": it must start and end with a letter or digit'],
    ["acme-", 'invalid store name "acme-": it must start and end with a letter or digit'],
    ["admin", 'invalid store name "admin": it is reserved'],
    ["www", 'invalid store name "www": it is reserved'],
    ["kube-x", 'invalid store name "kube-x": it must not start with "kube-"'],
    ["xn--80ak6aa92e", 'invalid store name "xn--80ak6aa92e": it must not start with "xn--"'],
  ])("rejects %j with the API's message", (name, message) => {
    expect(storeNameError(name)).toBe(message);
  });

  it("counts characters, not UTF-16 units, like the API", () => {
    expect(storeNameError("é")).toBe('invalid store name "é": it must be at least 3 characters (got 1)');
  });
});
