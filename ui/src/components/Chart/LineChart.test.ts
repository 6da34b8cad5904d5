import { describe, expect, it } from "vitest";
import { yRange } from "./LineChart";

describe("chart y range", () => {
  it("starts at zero with headroom, honours fixed ends", () => {
    expect(yRange(2, 2, undefined, undefined)).toEqual([0, 2.1]);
    expect(yRange(-4, 6, undefined, undefined)).toEqual([-4, 6.5]);
    expect(yRange(0.2, 0.9, 0, 1)).toEqual([0, 1]);
    expect(yRange(null, null, undefined, undefined)).toEqual([0, 1.05]);
    expect(yRange(5, 5, 10, undefined)).toEqual([10, 11]);
  });
});
