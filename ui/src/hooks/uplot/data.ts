// Turns Prometheus range results into uPlot's column data: one shared, evenly stepped time axis
// (seconds) and one value column per series, with `null` where a series has no sample so that
// uPlot draws a gap instead of a line across missing data.

import type { MatrixSeries } from "../../api/prometheus";

/** Columns for uPlot: `[timestamps, ...values]`. */
export interface AlignedColumns {
  /** Unix seconds, ascending. */
  timestamps: number[];
  /** One column per series, same length as `timestamps`. */
  values: (number | null)[][];
}

/** Parses a Prometheus sample value (`"NaN"`, `"+Inf"` included); NaN becomes a gap. */
export function parseSampleValue(s: string): number | null {
  const v = s === "+Inf" ? Infinity : s === "-Inf" ? -Infinity : Number(s);
  return Number.isNaN(v) ? null : v;
}

/**
 * Aligns series on the steps of a range query. Timestamps that fall between steps (possible only
 * with a different step) go to the nearest step.
 */
export function alignMatrix(series: MatrixSeries[], startMs: number, endMs: number, stepMs: number): AlignedColumns {
  const step = stepMs / 1000;
  const start = startMs / 1000;
  const count = step > 0 ? Math.max(0, Math.floor((endMs - startMs) / stepMs + 1e-9) + 1) : 0;
  const timestamps: number[] = [];
  for (let i = 0; i < count; i++) timestamps.push(start + i * step);
  const values = series.map((s) => {
    const col: (number | null)[] = new Array<number | null>(count).fill(null);
    for (const [t, v] of s.values) {
      const i = Math.round((t - start) / step);
      if (i >= 0 && i < count) col[i] = parseSampleValue(v);
    }
    return col;
  });
  return { timestamps, values };
}
