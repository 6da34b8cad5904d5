import { describe, expect, it } from "vitest";
import { formatValue } from "./units";

describe("unit formatting", () => {
  it("formats durations in seconds and milliseconds", () => {
    expect(formatValue(0.25, "s")).toBe("250 ms");
    expect(formatValue(2.5, "s")).toBe("2.5 s");
    expect(formatValue(90, "s")).toBe("1.5 min");
    expect(formatValue(7200, "s")).toBe("2 hour");
    expect(formatValue(0, "s")).toBe("0 s");
    expect(formatValue(0.0004, "s")).toBe("0.400 ms");
    expect(formatValue(1500, "ms")).toBe("1.5 s");
    expect(formatValue(12, "ms")).toBe("12 ms");
  });

  it("formats percentages, rates, counts and bytes", () => {
    expect(formatValue(12.345, "percent")).toBe("12.3%");
    expect(formatValue(0.5, "percentunit")).toBe("50%");
    expect(formatValue(0.9876, "percentunit", 1)).toBe("98.8%");
    expect(formatValue(1234, "reqps")).toBe("1.23 K req/s");
    expect(formatValue(3.5, "reqps")).toBe("3.5 req/s");
    expect(formatValue(2_500_000, "short")).toBe("2.5 Mil");
    expect(formatValue(999, "short")).toBe("999");
    expect(formatValue(1536, "bytes")).toBe("1.5 KiB");
    expect(formatValue(5, "bytes")).toBe("5 B");
  });

  it("honours fixed decimals and handles special values", () => {
    expect(formatValue(0.85123, "none", 2)).toBe("0.85");
    expect(formatValue(2012, "short", 0)).toBe("2 K");
    expect(formatValue(null, "s")).toBe("No data");
    expect(formatValue(Number.NaN)).toBe("NaN");
    expect(formatValue(Infinity, "s")).toBe("+Inf");
    expect(formatValue(-Infinity)).toBe("-Inf");
    expect(formatValue(3, "widgets")).toBe("3 widgets");
  });
});
