import { describe, expect, it } from "vitest";
import { describeRange, formatDuration, parseInterval, parseTime, resolveRange } from "./time";

const NOW = Date.UTC(2024, 0, 10, 12, 34, 56, 789); // a Wednesday

describe("Grafana time syntax", () => {
  it("parses relative times", () => {
    expect(parseTime("now", NOW)).toBe(NOW);
    expect(parseTime("now-1h", NOW)).toBe(NOW - 3_600_000);
    expect(parseTime("now-7d", NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseTime("now+5m", NOW)).toBe(NOW + 300_000);
  });

  it("rounds to unit starts, and to unit ends for `to`", () => {
    expect(parseTime("now/d", NOW)).toBe(Date.UTC(2024, 0, 10));
    expect(parseTime("now/d", NOW, true)).toBe(Date.UTC(2024, 0, 11) - 1);
    expect(parseTime("now-1d/d", NOW)).toBe(Date.UTC(2024, 0, 9));
    expect(parseTime("now/w", NOW)).toBe(Date.UTC(2024, 0, 8)); // Monday
    expect(parseTime("now/M", NOW)).toBe(Date.UTC(2024, 0, 1));
  });

  it("parses epoch milliseconds and ISO dates, refuses junk", () => {
    expect(parseTime("1704067200000", NOW)).toBe(1704067200000);
    expect(parseTime("2024-01-01T00:00:00Z", NOW)).toBe(Date.UTC(2024, 0, 1));
    expect(parseTime("yesterday", NOW)).toBeNull();
    expect(parseTime("now-1x", NOW)).toBeNull();
  });

  it("resolves ranges, swapping reversed ends", () => {
    expect(resolveRange({ from: "now-1h", to: "now" }, NOW)).toEqual({ start: NOW - 3_600_000, end: NOW });
    expect(resolveRange({ from: "2000", to: "1000" }, NOW)).toEqual({ start: 1000, end: 2000 });
  });

  it("parses and formats intervals", () => {
    expect(parseInterval("15s")).toBe(15_000);
    expect(parseInterval("500ms")).toBe(500);
    expect(parseInterval("2")).toBe(2_000);
    expect(parseInterval("1h")).toBe(3_600_000);
    expect(parseInterval("abc")).toBeNull();
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(86_400_000 + 3_600_000)).toBe("1d1h");
  });

  it("describes quick and absolute ranges", () => {
    expect(describeRange({ from: "now-1h", to: "now" })).toBe("Last 1 hour");
    expect(describeRange({ from: "1704067200000", to: "now" })).toBe("2024-01-01T00:00:00Z to now");
  });
});
