// Text forms of query results for the Explore page: a series' labels as PromQL writes them,
// and the step of a graph for a time range.

import type { Labels } from "../../api/prometheus";

/** `name{a="x", b="y"}` with Prometheus' escaping; `{}` for an empty set. */
export function formatSeries(metric: Labels): string {
  const name = metric["__name__"] ?? "";
  const pairs = Object.entries(metric)
    .filter(([k]) => k !== "__name__")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (pairs.length === 0) return name === "" ? "{}" : name;
  return `${name}{${pairs.join(", ")}}`;
}

/** Points a graph aims for across its width. */
export const GRAPH_POINTS = 250;

/** A range query step in ms: the range over GRAPH_POINTS, rounded to whole seconds, at least 1 s. */
export function graphStep(startMs: number, endMs: number): number {
  const raw = Math.max(0, endMs - startMs) / GRAPH_POINTS;
  return Math.max(1000, Math.round(raw / 1000) * 1000);
}
