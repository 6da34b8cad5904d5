// A sparkline for stat panels: an SVG area under the series, scaled to the box. Cheaper than a
// uPlot instance per stat, and there is nothing to interact with.

/** Props of Sparkline. */
export interface SparklineProps {
  /** Values in time order; nulls are skipped. */
  values: (number | null)[];
  /** Line colour. */
  color: string;
}

/** Builds the SVG path of the line in a 100×30 box; "" when fewer than two points. */
export function sparklinePath(values: (number | null)[]): string {
  const pts = values.map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null && Number.isFinite(p[1]));
  if (pts.length < 2) return "";
  const ys = pts.map((p) => p[1]);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const n = Math.max(values.length - 1, 1);
  const y = (v: number) => (hi === lo ? 15 : 28 - ((v - lo) / (hi - lo)) * 26);
  return pts.map(([i, v], k) => `${k === 0 ? "M" : "L"}${((i / n) * 100).toFixed(2)},${y(v).toFixed(2)}`).join(" ");
}

/** A sparkline. */
export function Sparkline({ values, color }: SparklineProps) {
  const d = sparklinePath(values);
  if (!d) return null;
  const first = /^M([\d.]+)/.exec(d)?.[1] ?? "0";
  const last = /L([\d.]+),[\d.]+$/.exec(d)?.[1] ?? "100";
  return (
    <svg class="sparkline" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true">
      <path d={`${d} L${last},30 L${first},30 Z`} fill={color} fill-opacity="0.15" stroke="none" />
      <path d={d} fill="none" stroke={color} stroke-width="1" vector-effect="non-scaling-stroke" />
    </svg>
  );
}
