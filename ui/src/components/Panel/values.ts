// The single values of stat, gauge and bar gauge panels: one per series (reduced with the
// panel's calculation) or per instant row.

import type { Panel } from "../../dashboard/model";
import type { PanelData } from "../../dashboard/query";
import { reduce } from "../../dashboard/reduce";

/** One displayed value. */
export interface DisplayValue {
  /** Series name. */
  name: string;
  /** The reduced value. */
  value: number | null;
  /** The series' values, for a sparkline (empty for instant rows). */
  history: (number | null)[];
}

/** The values to display, in data order. */
export function displayValues(panel: Panel, data: PanelData): DisplayValue[] {
  const out: DisplayValue[] = data.series.map((s) => ({
    name: s.name,
    value: reduce(s.values, panel.reduceCalc),
    history: s.values,
  }));
  for (const r of data.rows) out.push({ name: r.name, value: r.value, history: [] });
  return out;
}

/** Min and max for gauges and bars: the field's, else 0 and the largest value (or 1/100 for percentages). */
export function valueBounds(panel: Panel, values: DisplayValue[]): [number, number] {
  const nums = values.map((v) => v.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const min = panel.field.min ?? Math.min(0, ...nums);
  const unitMax = panel.field.unit === "percent" ? 100 : panel.field.unit === "percentunit" ? 1 : undefined;
  const max = panel.field.max ?? unitMax ?? Math.max(min + 1e-9, ...nums);
  return [min, max > min ? max : min + 1];
}
