import { describe, expect, it } from "vitest";
import { applyParamUpdate, buildHref, decodeParams, encodeParams, firstParam } from "./url";

describe("URL state", () => {
  it("round-trips repeated and special-character parameters", () => {
    const params = {
      from: ["now-6h"],
      to: ["now"],
      "var-service": ["api", "web worker"],
      expr: ['sum(rate(x{a=~"b|c"}[5m])) & 1'],
    };
    const decoded = decodeParams(`?${encodeParams(params)}`);
    expect(decoded).toEqual(params);
  });

  it("updates set, replace and remove values", () => {
    const p = decodeParams("from=now-1h&to=now&var-project=a&var-project=b&refresh=5s");
    const next = applyParamUpdate(p, { from: "now-6h", "var-project": ["c"], refresh: null });
    expect(next).toEqual({ from: ["now-6h"], to: ["now"], "var-project": ["c"] });
    // The input is not modified: history entries keep their own state.
    expect(firstParam(p, "refresh")).toBe("5s");
  });

  it("builds hrefs without a dangling question mark", () => {
    expect(buildHref("/explore")).toBe("/explore");
    expect(buildHref("/explore", { expr: ["up == 1"] })).toBe("/explore?expr=up+%3D%3D+1");
  });
});
