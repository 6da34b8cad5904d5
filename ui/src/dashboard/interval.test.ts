import { describe, expect, it } from "vitest";
import { builtinVariables, computeTiming, promDuration, roundInterval } from "./interval";

const HOUR = 3_600_000;

describe("Grafana's query timing", () => {
  it("rounds raw intervals to nice values", () => {
    expect(roundInterval(3_000)).toBe(2_000);
    expect(roundInterval(4_000)).toBe(5_000);
    expect(roundInterval(16_000)).toBe(15_000);
    expect(roundInterval(50_000)).toBe(60_000);
    expect(roundInterval(100_000)).toBe(120_000);
    expect(roundInterval(1e12)).toBe(31_536_000_000);
  });

  it("keeps the scrape interval as the minimum step", () => {
    // 1 h over 1000 px is 3.6 s, rounded to 5 s, raised to the 15 s scrape interval.
    const t = computeTiming({ start: 0, end: HOUR, maxDataPoints: 1000, minInterval: "" });
    expect(t.stepMs).toBe(15_000);
    // $__rate_interval = max(15 s + 15 s, 4 × 15 s) = 60 s.
    expect(t.rateIntervalMs).toBe(60_000);
    expect(builtinVariables(t)).toMatchObject({ __interval: "15s", __rate_interval: "1m", __range: "3600s" });
  });

  it("grows the step with the range and uses it in $__rate_interval", () => {
    // 7 d over 500 px is 1209.6 s, rounded to 20 min.
    const t = computeTiming({ start: 0, end: 7 * 24 * HOUR, maxDataPoints: 500, minInterval: "" });
    expect(t.stepMs).toBe(1_200_000);
    expect(t.rateIntervalMs).toBe(1_215_000);
    expect(builtinVariables(t)["__rate_interval"]).toBe("1215s");
  });

  it("honours a target's min interval and aligns the range to the step", () => {
    const t = computeTiming({ start: 1_000_123, end: 1_000_123 + HOUR, maxDataPoints: 1000, minInterval: "1m" });
    expect(t.stepMs).toBe(60_000);
    expect(t.start % 60_000).toBe(0);
    expect(t.end % 60_000).toBe(0);
    expect(t.start).toBeLessThanOrEqual(1_000_123);
    // The rate interval follows the min step: max(60 s + 15 s, 60 s).
    expect(t.rateIntervalMs).toBe(75_000);
  });

  it("never asks for more than 11,000 points", () => {
    const t = computeTiming({ start: 0, end: 30 * 24 * HOUR, maxDataPoints: 100_000, minInterval: "1s" });
    expect((t.end - t.start) / t.stepMs).toBeLessThanOrEqual(11_000);
  });

  it("writes durations in PromQL syntax", () => {
    expect(promDuration(15_000)).toBe("15s");
    expect(promDuration(120_000)).toBe("2m");
    expect(promDuration(7_200_000)).toBe("2h");
    expect(promDuration(1_500)).toBe("1500ms");
  });
});
