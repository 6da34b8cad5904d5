import { describe, expect, it } from "vitest";
import { formatLegend, seriesName } from "./legend";
import { reduce } from "./reduce";
import { greenYellowRed, resolveColor, thresholdColor } from "./thresholds";
import { DEFAULT_THRESHOLDS } from "./model";

describe("legend format", () => {
  it("replaces {{label}} placeholders, missing labels by nothing", () => {
    const labels = { path: "/items/{id}", status_code: "200" };
    expect(formatLegend("{{path}} {{ status_code }}", labels)).toBe("/items/{id} 200");
    expect(formatLegend("{{path}} ({{missing}})", labels)).toBe("/items/{id} ()");
    expect(formatLegend("total", labels)).toBe("total");
  });

  it("names series like Prometheus when no format is given", () => {
    expect(formatLegend("", { __name__: "up", job: "a", instance: "x:1" })).toBe('up{instance="x:1", job="a"}');
    expect(formatLegend("", {}, "sum(rate(x[5m]))")).toBe("sum(rate(x[5m]))");
    expect(seriesName({ a: 'q"uote' })).toBe('{a="q\\"uote"}');
  });
});

describe("reduce calculations", () => {
  const values = [1, null, 5, 3, null];
  it("computes Grafana's calcs", () => {
    expect(reduce(values, "lastNotNull")).toBe(3);
    expect(reduce(values, "last")).toBeNull();
    expect(reduce(values, "first")).toBe(1);
    expect(reduce(values, "mean")).toBe(3);
    expect(reduce(values, "max")).toBe(5);
    expect(reduce(values, "min")).toBe(1);
    expect(reduce(values, "sum")).toBe(9);
    expect(reduce(values, "count")).toBe(3);
    expect(reduce(values, "range")).toBe(4);
    expect(reduce(values, "diff")).toBe(2);
    expect(reduce([], "mean")).toBeNull();
    expect(reduce([null], "lastNotNull")).toBeNull();
  });
});

describe("threshold colours", () => {
  const t = {
    mode: "absolute" as const,
    steps: [
      { color: "red", value: null },
      { color: "orange", value: 0.5 },
      { color: "green", value: 0.85 },
    ],
  };
  it("picks the highest step not above the value", () => {
    expect(thresholdColor(0.2, t)).toBe(resolveColor("red"));
    expect(thresholdColor(0.5, t)).toBe(resolveColor("orange"));
    expect(thresholdColor(0.99, t)).toBe(resolveColor("green"));
    expect(thresholdColor(null, t)).toBe(resolveColor("red"));
  });

  it("maps percentage thresholds between min and max", () => {
    expect(thresholdColor(79, DEFAULT_THRESHOLDS)).toBe(resolveColor("green"));
    expect(thresholdColor(80, DEFAULT_THRESHOLDS)).toBe(resolveColor("red"));
    const pct = { mode: "percentage" as const, steps: DEFAULT_THRESHOLDS.steps };
    expect(thresholdColor(0.9, pct, 0, 1)).toBe(resolveColor("red"));
    expect(thresholdColor(0.7, pct, 0, 1)).toBe(resolveColor("green"));
  });

  it("accepts CSS colours and refuses anything else", () => {
    expect(resolveColor("#ff0000")).toBe("#ff0000");
    expect(resolveColor("rgba(1, 2, 3, 0.5)")).toBe("rgba(1, 2, 3, 0.5)");
    expect(resolveColor("red; background: url(x)")).toBe(resolveColor("text"));
  });

  it("scales green → yellow → red", () => {
    expect(greenYellowRed(0)).toBe("rgb(115, 191, 105)");
    expect(greenYellowRed(0.5)).toBe("rgb(250, 222, 42)");
    expect(greenYellowRed(1)).toBe("rgb(242, 73, 92)");
    expect(greenYellowRed(7)).toBe("rgb(242, 73, 92)");
  });
});
