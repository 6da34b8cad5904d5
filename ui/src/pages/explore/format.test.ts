import { describe, expect, it } from "vitest";
import { formatSeries, graphStep } from "./format";

describe("formatSeries", () => {
  it("writes labels sorted, quoted and escaped, name first", () => {
    expect(formatSeries({ job: "api", __name__: "up", a: 'x"<script>' })).toBe('up{a="x\\"<script>", job="api"}');
    expect(formatSeries({ __name__: "up" })).toBe("up");
    expect(formatSeries({})).toBe("{}");
    expect(formatSeries({ job: "a" })).toBe('{job="a"}');
  });
});

describe("graphStep", () => {
  it("aims for 250 points in whole seconds, at least one", () => {
    expect(graphStep(0, 3_600_000)).toBe(14_000);
    expect(graphStep(0, 60_000)).toBe(1000);
    expect(graphStep(5, 5)).toBe(1000);
  });
});
