// Time ranges as Grafana writes them in URLs: `from`/`to` are either relative expressions
// (`now`, `now-1h`, `now-1d/d`) or absolute epoch milliseconds. The raw strings stay in the URL
// (so a shared link keeps meaning "the last hour"); they are resolved to numbers per refresh.

import { firstParam, type ParamMap } from "./url";

/** A time range as written in the URL. */
export interface RawTimeRange {
  /** Start: `now-1h`, epoch ms, … */
  from: string;
  /** End: `now`, epoch ms, … */
  to: string;
}

/** A resolved time range in epoch milliseconds. */
export interface TimeRange {
  /** Start, ms. */
  start: number;
  /** End, ms. */
  end: number;
}

/** The default range, like Grafana's dashboards: the last hour. */
export const DEFAULT_RANGE: RawTimeRange = { from: "now-1h", to: "now" };

/** Milliseconds per unit of Grafana's relative time and interval syntax. */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
};

const RELATIVE = /^now(?:([-+])(\d+)(ms|[smhdwMy]))?(?:\/([smhdwMy]))?$/;

/** Start of `unit` containing `t` (UTC), or its end when `roundUp`. */
function roundToUnit(t: number, unit: string, roundUp: boolean): number {
  const d = new Date(t);
  switch (unit) {
    case "y":
      d.setUTCMonth(0, 1);
      d.setUTCHours(0, 0, 0, 0);
      if (roundUp) d.setUTCFullYear(d.getUTCFullYear() + 1);
      break;
    case "M":
      d.setUTCDate(1);
      d.setUTCHours(0, 0, 0, 0);
      if (roundUp) d.setUTCMonth(d.getUTCMonth() + 1);
      break;
    case "w": {
      // Weeks start on Monday, as in ISO 8601.
      d.setUTCHours(0, 0, 0, 0);
      const dow = (d.getUTCDay() + 6) % 7;
      d.setUTCDate(d.getUTCDate() - dow);
      if (roundUp) d.setUTCDate(d.getUTCDate() + 7);
      break;
    }
    default: {
      const size = UNIT_MS[unit] ?? 1;
      const floored = Math.floor(t / size) * size;
      return roundUp ? floored + size - 1 : floored;
    }
  }
  return roundUp ? d.getTime() - 1 : d.getTime();
}

/**
 * Resolves one end of a range: `now[±N unit][/unit]`, epoch milliseconds, or an ISO date.
 * `roundUp` rounds `/unit` to the end of the unit (Grafana does this for `to`).
 * Returns `null` for text that is none of these.
 */
export function parseTime(text: string, now: number, roundUp = false): number | null {
  const s = text.trim();
  if (s === "") return null;
  if (/^\d+$/.test(s)) return Number(s);
  const m = RELATIVE.exec(s);
  if (m) {
    let t = now;
    const [, sign, amount, unit, round] = m;
    if (sign && amount && unit) {
      const delta = Number(amount) * (UNIT_MS[unit] ?? 0);
      t = sign === "-" ? t - delta : t + delta;
    }
    if (round) t = roundToUnit(t, round, roundUp);
    return t;
  }
  const parsed = Date.parse(s);
  return Number.isNaN(parsed) ? null : parsed;
}

/** Whether a raw time is relative to now (it then moves on refresh). */
export function isRelative(text: string): boolean {
  return text.trim().startsWith("now");
}

/** Resolves a raw range; unparsable ends fall back to the default range's. */
export function resolveRange(raw: RawTimeRange, now: number): TimeRange {
  const end = parseTime(raw.to, now, true) ?? now;
  const start = parseTime(raw.from, now, false) ?? end - UNIT_MS.h!;
  // A reversed range is swapped rather than refused: it is what a user dragging right-to-left means.
  return start <= end ? { start, end } : { start: end, end: start };
}

/** The raw range in the URL parameters, defaulting to the last hour. */
export function rangeFromParams(params: ParamMap): RawTimeRange {
  return {
    from: firstParam(params, "from", DEFAULT_RANGE.from),
    to: firstParam(params, "to", DEFAULT_RANGE.to),
  };
}

/** Parses a Grafana/Prometheus interval like `15s`, `1m`, `500ms`, `2h`; bare numbers are seconds. */
export function parseInterval(text: string): number | null {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|[smhdwMy])$/.exec(s);
  if (!m || !m[1] || !m[2]) return null;
  return Number(m[1]) * (UNIT_MS[m[2]] ?? 0);
}

/** Formats milliseconds as a Prometheus duration (`1h30m`, `15s`, `500ms`). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0s";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, secs] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= secs) {
      parts.push(`${Math.floor(rest / secs)}${unit}`);
      rest %= secs;
    }
  }
  return parts.join("");
}

/** A quick range of the time picker. */
export interface QuickRange {
  /** Label shown. */
  label: string;
  /** Raw `from`. */
  from: string;
}

/** The picker's quick ranges, all ending `now`. */
export const QUICK_RANGES: QuickRange[] = [
  { label: "Last 5 minutes", from: "now-5m" },
  { label: "Last 15 minutes", from: "now-15m" },
  { label: "Last 30 minutes", from: "now-30m" },
  { label: "Last 1 hour", from: "now-1h" },
  { label: "Last 3 hours", from: "now-3h" },
  { label: "Last 6 hours", from: "now-6h" },
  { label: "Last 12 hours", from: "now-12h" },
  { label: "Last 24 hours", from: "now-24h" },
  { label: "Last 2 days", from: "now-2d" },
  { label: "Last 7 days", from: "now-7d" },
];

/** Auto-refresh choices (`refresh` URL parameter); "" is off. */
export const REFRESH_CHOICES = ["", "5s", "10s", "30s", "1m"] as const;

/** A human description of a raw range: the quick range's label or the two ends. */
export function describeRange(raw: RawTimeRange): string {
  if (raw.to === "now") {
    const q = QUICK_RANGES.find((r) => r.from === raw.from);
    if (q) return q.label;
  }
  const show = (s: string) => (/^\d+$/.test(s) ? new Date(Number(s)).toISOString().replace(".000Z", "Z") : s);
  return `${show(raw.from)} to ${show(raw.to)}`;
}
