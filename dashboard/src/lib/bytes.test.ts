import { describe, expect, it } from "vitest";
import { formatBytes } from "./bytes";
import { duration } from "./time";

describe("sizes", () => {
  it("read as restic's timeline lines say them", () => {
    expect(formatBytes(20_761_421)).toBe("19.8 MiB");
    expect(formatBytes(234_567)).toBe("229 KiB");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1024)).toBe("1.0 KiB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GiB");
  });
});

describe("durations", () => {
  it("read in the unit that suits them", () => {
    expect(duration(850)).toBe("850 ms");
    expect(duration(4210)).toBe("4.2 s");
    expect(duration(192_000)).toBe("3 min 12 s");
    expect(duration(3_900_000)).toBe("1 h 5 min");
  });
});
