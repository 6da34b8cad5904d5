// Runs a panel's targets: variables replaced, step and range computed per target, then range
// results turned into series and instant results into rows, named by the legend format.

import { query, queryRange, type Labels, type QueryResult } from "../api/prometheus";
import { parseSampleValue } from "../hooks/uplot/data";
import type { TimeRange } from "../state/time";
import { builtinVariables, computeTiming, type QueryTiming } from "./interval";
import { formatLegend } from "./legend";
import type { Panel, Target } from "./model";
import { interpolate, type InterpolationContext, type ResolvedVariable } from "./variables";

/** Most series a panel draws; more are cut with a notice (a browser draws thousands slowly). */
export const MAX_SERIES_PER_PANEL = 300;

/** One series of a range query. */
export interface SeriesFrame {
  /** Target id. */
  refId: string;
  /** Legend name. */
  name: string;
  /** Labels. */
  labels: Labels;
  /** Unix seconds. */
  timestamps: number[];
  /** Values, null for NaN. */
  values: (number | null)[];
}

/** One element of an instant query. */
export interface InstantRow {
  /** Target id. */
  refId: string;
  /** Legend name. */
  name: string;
  /** Labels. */
  labels: Labels;
  /** Value. */
  value: number | null;
}

/** A query as it was sent, for the panel's Explore link. */
export interface SentQuery {
  /** Target id. */
  refId: string;
  /** The expression with variables replaced. */
  expr: string;
  /** Step used (range queries). */
  timing: QueryTiming;
}

/** What a panel's queries returned. */
export interface PanelData {
  /** Range series. */
  series: SeriesFrame[];
  /** Instant rows. */
  rows: InstantRow[];
  /** The queries sent. */
  sent: SentQuery[];
  /** Errors by target. */
  errors: string[];
  /** Notices (e.g. series cut). */
  notices: string[];
}

/** Variables a panel needs. */
export interface PanelQueryContext {
  /** Resolved variables. */
  variables: Record<string, ResolvedVariable>;
  /** The dashboard's range. */
  range: TimeRange;
  /** Width of the panel in pixels (its default max data points). */
  widthPx: number;
}

/** The expression and timing a target will be sent with. */
export function prepareTarget(panel: Panel, target: Target, ctx: PanelQueryContext): SentQuery {
  const base: InterpolationContext = { variables: ctx.variables, builtins: {} };
  const minInterval = interpolate(target.interval || panel.interval, base);
  const timing = computeTiming({
    start: ctx.range.start,
    end: ctx.range.end,
    maxDataPoints: panel.maxDataPoints ?? Math.max(ctx.widthPx, 50),
    minInterval,
  });
  const expr = interpolate(target.expr, { variables: ctx.variables, builtins: builtinVariables(timing) });
  return { refId: target.refId, expr, timing };
}

function legendContext(ctx: PanelQueryContext): InterpolationContext {
  return { variables: ctx.variables, builtins: {} };
}

function toSeries(res: QueryResult, target: Target, ctx: PanelQueryContext, fallback: string): SeriesFrame[] {
  const fmt = interpolate(target.legendFormat, legendContext(ctx), true);
  if (res.resultType === "matrix") {
    return res.result.map((s) => ({
      refId: target.refId,
      name: formatLegend(fmt, s.metric, fallback),
      labels: s.metric,
      timestamps: s.values.map((v) => v[0]),
      values: s.values.map((v) => parseSampleValue(v[1])),
    }));
  }
  if (res.resultType === "scalar") {
    return [
      {
        refId: target.refId,
        name: formatLegend(fmt, {}, fallback),
        labels: {},
        timestamps: [res.result[0]],
        values: [parseSampleValue(res.result[1])],
      },
    ];
  }
  return [];
}

function toRows(res: QueryResult, target: Target, ctx: PanelQueryContext, fallback: string): InstantRow[] {
  const fmt = interpolate(target.legendFormat, legendContext(ctx), true);
  if (res.resultType === "vector") {
    return res.result.map((s) => ({
      refId: target.refId,
      name: formatLegend(fmt, s.metric, fallback),
      labels: s.metric,
      value: parseSampleValue(s.value[1]),
    }));
  }
  if (res.resultType === "scalar") {
    return [{ refId: target.refId, name: formatLegend(fmt, {}, fallback), labels: {}, value: parseSampleValue(res.result[1]) }];
  }
  if (res.resultType === "matrix") {
    // A range vector from an instant query: its last sample per series.
    return res.result.map((s) => {
      const last = s.values[s.values.length - 1];
      return {
        refId: target.refId,
        name: formatLegend(fmt, s.metric, fallback),
        labels: s.metric,
        value: last ? parseSampleValue(last[1]) : null,
      };
    });
  }
  return [];
}

/** Runs every visible target of `panel`; failures are collected per target, never thrown. */
export async function runPanelQueries(panel: Panel, ctx: PanelQueryContext, signal: AbortSignal): Promise<PanelData> {
  const out: PanelData = { series: [], rows: [], sent: [], errors: [], notices: [] };
  const targets = panel.targets.filter((t) => !t.hide && t.expr.trim() !== "");
  const answers = await Promise.all(
    targets.map(async (t) => {
      const sent = prepareTarget(panel, t, ctx);
      try {
        const res = t.instant
          ? await query(sent.expr, ctx.range.end, signal)
          : await queryRange(sent.expr, sent.timing.start, sent.timing.end, sent.timing.stepMs, signal);
        return { t, sent, res, error: undefined };
      } catch (e) {
        if (signal.aborted) throw e;
        return { t, sent, res: undefined, error: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
  for (const a of answers) {
    out.sent.push(a.sent);
    if (a.error !== undefined || !a.res) {
      out.errors.push(`${a.t.refId}: ${a.error ?? "no result"}`);
      continue;
    }
    if (a.t.instant) out.rows.push(...toRows(a.res, a.t, ctx, a.sent.expr));
    else out.series.push(...toSeries(a.res, a.t, ctx, a.sent.expr));
  }
  if (out.series.length > MAX_SERIES_PER_PANEL) {
    out.notices.push(`showing ${MAX_SERIES_PER_PANEL} of ${out.series.length} series`);
    out.series = out.series.slice(0, MAX_SERIES_PER_PANEL);
  }
  if (out.rows.length > MAX_SERIES_PER_PANEL * 10) {
    out.notices.push(`showing ${MAX_SERIES_PER_PANEL * 10} of ${out.rows.length} rows`);
    out.rows = out.rows.slice(0, MAX_SERIES_PER_PANEL * 10);
  }
  return out;
}

/**
 * Puts series with their own timestamps on one shared, sorted time axis, with nulls where a
 * series has no sample. `grids` (the steps of the queries sent) add every step to the axis, so a
 * step without any sample is a gap in the chart rather than a line drawn across it.
 */
export function toColumns(
  series: SeriesFrame[],
  grids: QueryTiming[] = [],
): { timestamps: number[]; columns: (number | null)[][] } {
  const all = new Set<number>();
  for (const g of grids) {
    if (g.stepMs <= 0) continue;
    // Bounded by computeTiming: at most MAX_POINTS steps per range.
    for (let t = g.start; t <= g.end; t += g.stepMs) all.add(Math.round(t) / 1000);
  }
  for (const s of series) for (const t of s.timestamps) all.add(t);
  const timestamps = [...all].sort((a, b) => a - b);
  const index = new Map(timestamps.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const col = new Array<number | null>(timestamps.length).fill(null);
    s.timestamps.forEach((t, i) => {
      const at = index.get(t);
      if (at !== undefined) col[at] = s.values[i] ?? null;
    });
    return col;
  });
  return { timestamps, columns };
}
