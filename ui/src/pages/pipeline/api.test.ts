import { describe, expect, it } from "vitest";
import { formatThroughput, groupByKind, type PipelineComponent } from "./api";

function c(kind: string, name: string): PipelineComponent {
  return { id: `${kind}.${name}`, kind, name, state: "healthy", throughput: null, unit: "", errors: 0, detail: {} };
}

describe("pipeline", () => {
  it("groups by kind in a fixed order, unknown kinds last", () => {
    const g = groupByKind([c("store", "metrics"), c("zeta", "z"), c("scrape", "web"), c("scrape", "api"), c("receiver", "otlp_http")]);
    expect(g.map((x) => [x.title, x.items.map((i) => i.name)])).toEqual([
      ["Receivers", ["otlp_http"]],
      ["Scrape jobs", ["api", "web"]],
      ["Stores", ["metrics"]],
      ["zeta", ["z"]],
    ]);
  });

  it("formats throughput", () => {
    expect(formatThroughput({ throughput: null, unit: "samples/s" })).toBe("—");
    expect(formatThroughput({ throughput: 1234.4, unit: "samples/s" })).toBe("1234 samples/s");
    expect(formatThroughput({ throughput: 0.5, unit: "records/s" })).toBe("0.50 records/s");
  });
});
