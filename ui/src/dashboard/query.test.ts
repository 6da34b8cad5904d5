import { describe, expect, it } from "vitest";
import { alignMatrix, parseSampleValue } from "../hooks/uplot/data";
import { computeTiming } from "./interval";
import { parseDashboard } from "./model";
import { prepareTarget, toColumns, type SeriesFrame } from "./query";
import { ALL, type ResolvedVariable } from "./variables";

describe("panel queries", () => {
  it("interpolates variables and built-ins into the sent expression", () => {
    const d = parseDashboard({
      panels: [
        {
          type: "timeseries",
          gridPos: { x: 0, y: 0, w: 12, h: 8 },
          targets: [{ expr: 'sum(rate(x{service=~"$service"}[$__rate_interval])) / $__range_s' }],
        },
      ],
    });
    const panel = d.rows[0]!.panels[0]!;
    const service: ResolvedVariable = {
      model: {
        name: "service",
        label: "",
        type: "query",
        query: "",
        multi: true,
        includeAll: true,
        allValue: undefined,
        current: [],
        hide: 0,
        regex: "",
        sort: 0,
        auto: false,
        autoCount: 30,
        autoMin: "10s",
      },
      options: [
        { text: "api", value: "api" },
        { text: "web", value: "web" },
      ],
      selected: [ALL],
    };
    const sent = prepareTarget(panel, panel.targets[0]!, {
      variables: { service },
      range: { start: 0, end: 3_600_000 },
      widthPx: 800,
    });
    expect(sent.expr).toBe('sum(rate(x{service=~"(api|web)"}[1m])) / 3600');
    expect(sent.timing.stepMs).toBe(15_000);
  });

  it("aligns series on one time axis with gaps for missing steps", () => {
    const a: SeriesFrame = { refId: "A", name: "a", labels: {}, timestamps: [0, 15], values: [1, 2] };
    const b: SeriesFrame = { refId: "B", name: "b", labels: {}, timestamps: [15, 45], values: [3, 4] };
    const grid = computeTiming({ start: 0, end: 45_000, maxDataPoints: 1000, minInterval: "" });
    const cols = toColumns([a, b], [grid]);
    expect(cols.timestamps).toEqual([0, 15, 30, 45]);
    expect(cols.columns).toEqual([
      [1, 2, null, null],
      [null, 3, null, 4],
    ]);
  });

  it("parses sample values and aligns a matrix on its steps", () => {
    expect(parseSampleValue("NaN")).toBeNull();
    expect(parseSampleValue("+Inf")).toBe(Infinity);
    expect(parseSampleValue("1e3")).toBe(1000);
    const m = alignMatrix([{ metric: {}, values: [[30, "2"]] }], 0, 60_000, 30_000);
    expect(m).toEqual({ timestamps: [0, 30, 60], values: [[null, 2, null]] });
  });
});
