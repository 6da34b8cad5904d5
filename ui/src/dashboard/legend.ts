// Series names: Grafana's `legendFormat` with `{{label}}` placeholders, or Prometheus' own
// `metric{a="b"}` form when no format is given.

import type { Labels } from "../api/prometheus";

/** `metric{a="b", c="d"}`, Prometheus' way of naming a series; `{}` when there are no labels. */
export function seriesName(labels: Labels): string {
  const name = labels["__name__"] ?? "";
  const rest = Object.entries(labels)
    .filter(([k]) => k !== "__name__")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (rest.length === 0) return name || "{}";
  return `${name}{${rest.join(", ")}}`;
}

/** Applies a legend format; `{{ label }}` with spaces works, a missing label gives "". */
export function formatLegend(format: string, labels: Labels, fallback = ""): string {
  if (format.trim() === "") return Object.keys(labels).length > 0 ? seriesName(labels) : fallback || "{}";
  return format.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_m, name: string) => labels[name] ?? "");
}
