// Query step and the `$__interval`, `$__rate_interval` and `$__range` variables, computed the
// way Grafana's Prometheus data source does, so a dashboard shows the same curves here as in
// Grafana:
//
// - interval = the range divided by the panel's max data points, rounded to a "nice" value
//   (1s, 2s, 5s, 10s, 15s, 20s, 30s, 1m, 2m, 5m, …), never below the minimum interval (the
//   target's or panel's `interval`, else the scrape interval, 15s);
// - step = max(interval, minimum interval, range / 11000) — Prometheus refuses more than 11,000
//   points per series;
// - $__rate_interval = max(step + scrape interval, 4 × scrape interval), so that `rate()` always
//   sees at least four samples and never skips one between steps;
// - start and end are aligned down to a multiple of the step, so refreshes reuse the same grid.

import { parseInterval } from "../state/time";

/** Grafana's Prometheus data source default scrape interval. */
export const DEFAULT_SCRAPE_INTERVAL_MS = 15_000;

/** Prometheus' limit of points per series in a range query. */
export const MAX_POINTS = 11_000;

/**
 * "Nice" intervals: a raw interval below `below` becomes `value`. The boundaries sit between
 * neighbouring nice values, so the raw interval goes to the nearest one.
 */
const NICE_INTERVALS: [below: number, value: number][] = [
  [10, 1],
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1_500, 1_000],
  [3_500, 2_000],
  [7_500, 5_000],
  [12_500, 10_000],
  [17_500, 15_000],
  [25_000, 20_000],
  [45_000, 30_000],
  [90_000, 60_000],
  [210_000, 120_000],
  [450_000, 300_000],
  [750_000, 600_000],
  [1_050_000, 900_000],
  [1_500_000, 1_200_000],
  [2_700_000, 1_800_000],
  [5_400_000, 3_600_000],
  [9_000_000, 7_200_000],
  [16_200_000, 10_800_000],
  [32_400_000, 21_600_000],
  [86_400_000, 43_200_000],
  [604_800_000, 86_400_000],
  [1_814_400_000, 604_800_000],
  [3_628_800_000, 2_592_000_000],
];

/** Rounds a raw interval (ms) to Grafana's nice values. */
export function roundInterval(ms: number): number {
  for (const [below, value] of NICE_INTERVALS) if (ms < below) return value;
  return 31_536_000_000;
}

/** Formats milliseconds as a PromQL duration in one unit: `15s`, `500ms`, `1m`, `90s`. */
export function promDuration(ms: number): string {
  const r = Math.max(1, Math.round(ms));
  if (r % 1000 !== 0) return `${r}ms`;
  const s = r / 1000;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** What the interval computation needs. */
export interface IntervalInput {
  /** Range start, ms. */
  start: number;
  /** Range end, ms. */
  end: number;
  /** Max data points (panel width in px unless set). */
  maxDataPoints: number;
  /** Target or panel `interval` ("" when unset); may contain variables already replaced. */
  minInterval: string;
  /** Scrape interval of the data source, ms. */
  scrapeIntervalMs?: number;
}

/** The computed query timing. */
export interface QueryTiming {
  /** `$__interval`, ms. */
  intervalMs: number;
  /** Step of the range query, ms. */
  stepMs: number;
  /** `$__rate_interval`, ms. */
  rateIntervalMs: number;
  /** `$__range`, ms. */
  rangeMs: number;
  /** Aligned start, ms. */
  start: number;
  /** Aligned end, ms. */
  end: number;
}

/** Computes step, intervals and the aligned range for one query. */
export function computeTiming(input: IntervalInput): QueryTiming {
  const scrape = input.scrapeIntervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS;
  const rangeMs = Math.max(input.end - input.start, 1);
  const minMs = (input.minInterval && parseInterval(input.minInterval)) || scrape;
  const points = Math.max(1, Math.floor(input.maxDataPoints) || 1);
  const intervalMs = Math.max(roundInterval(rangeMs / points), minMs);
  let safeMs = rangeMs / MAX_POINTS;
  // Grafana rounds the safe interval up to whole seconds once it exceeds a second.
  if (safeMs > 1000) safeMs = Math.ceil(safeMs / 1000) * 1000;
  const stepMs = Math.max(intervalMs, minMs, safeMs);
  const rateIntervalMs = Math.max(stepMs + scrape, 4 * scrape);
  const start = Math.floor(input.start / stepMs) * stepMs;
  const end = Math.floor(input.end / stepMs) * stepMs;
  return { intervalMs: stepMs, stepMs, rateIntervalMs, rangeMs, start, end: Math.max(end, start) };
}

/** The built-in variables for a query with this timing. */
export function builtinVariables(t: QueryTiming): Record<string, string> {
  const rangeS = Math.round(t.rangeMs / 1000);
  return {
    __interval: promDuration(t.intervalMs),
    __interval_ms: String(Math.round(t.intervalMs)),
    __rate_interval: promDuration(t.rateIntervalMs),
    __rate_interval_ms: String(Math.round(t.rateIntervalMs)),
    __range: `${rangeS}s`,
    __range_s: String(rangeS),
    __range_ms: String(Math.round(t.rangeMs)),
  };
}
