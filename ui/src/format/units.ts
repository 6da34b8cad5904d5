// Value formatting for Grafana's field-config units. The subset: `s`, `ms`, `percent` (0–100),
// `percentunit` (0–1), `reqps`, `short`, `bytes` (IEC, 1024-based like Grafana's "bytes"),
// `none`; unknown units print the number followed by the unit text. `decimals` fixes the digits;
// otherwise the digits depend on the size of the value so that small values keep precision.

/** Units this formatter knows; others are shown as a suffix. */
export const KNOWN_UNITS = ["s", "ms", "percent", "percentunit", "reqps", "short", "bytes", "none"] as const;

/** Fixed decimals, or automatic ones: fewer digits for larger numbers. */
function fixed(v: number, decimals: number | undefined): string {
  if (decimals !== undefined && decimals >= 0) return v.toFixed(Math.min(decimals, 20));
  const a = Math.abs(v);
  let d: number;
  if (a === 0 || a >= 100) d = 0;
  else if (a >= 10) d = 1;
  else if (a >= 1) d = 2;
  else if (a >= 0.01) d = 3;
  else d = 4;
  // Automatic digits drop trailing zeros: 2.50 → 2.5.
  const s = v.toFixed(d);
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** Scales by `factor` steps through `suffixes` (the first for unscaled values). */
function scaled(v: number, factor: number, suffixes: string[], decimals: number | undefined): string {
  let i = 0;
  let x = v;
  while (Math.abs(x) >= factor && i < suffixes.length - 1) {
    x /= factor;
    i += 1;
  }
  return fixed(x, decimals) + (suffixes[i] ?? "");
}

const DURATION_STEPS: [number, string][] = [
  [1, " ms"],
  [1_000, " s"],
  [60_000, " min"],
  [3_600_000, " hour"],
  [86_400_000, " day"],
  [604_800_000, " week"],
  [31_536_000_000, " year"],
];

/** Milliseconds to the largest unit that keeps the value ≥ 1 (sub-millisecond stays in ms). */
function duration(ms: number, decimals: number | undefined): string {
  const a = Math.abs(ms);
  if (a === 0) return "0 s";
  let step = DURATION_STEPS[0]!;
  for (const s of DURATION_STEPS) if (a >= s[0]) step = s;
  if (a < 1) {
    // Below a millisecond Grafana switches to µs; keeping ms with more digits reads as well.
    return fixed(ms, decimals ?? 3) + " ms";
  }
  return fixed(ms / step[0], decimals) + step[1];
}

/** Formats `v` in `unit`; `null`/NaN become "No data"/"NaN", infinities "+Inf"/"-Inf". */
export function formatValue(v: number | null | undefined, unit = "", decimals?: number): string {
  if (v === null || v === undefined) return "No data";
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  switch (unit) {
    case "":
    case "none":
      return fixed(v, decimals);
    case "short":
      return scaled(v, 1000, ["", " K", " Mil", " Bil", " Tri"], decimals);
    case "percent":
      return `${fixed(v, decimals)}%`;
    case "percentunit":
      return `${fixed(v * 100, decimals)}%`;
    case "reqps":
      return `${scaled(v, 1000, ["", " K", " Mil", " Bil"], decimals)} req/s`;
    case "bytes":
      return scaled(v, 1024, [" B", " KiB", " MiB", " GiB", " TiB", " PiB"], decimals);
    case "s":
      return duration(v * 1000, decimals);
    case "ms":
      return duration(v, decimals);
    default:
      return `${fixed(v, decimals)} ${unit}`;
  }
}
