// Colours: Grafana's named colours, threshold steps, and the continuous green→yellow→red scale of
// bar gauges.

import type { Thresholds } from "./model";

/** Grafana's named colours (the dark theme's shades). */
const NAMED: Record<string, string> = {
  green: "#73bf69",
  "dark-green": "#37872d",
  "semi-dark-green": "#56a64b",
  "light-green": "#96d98d",
  red: "#f2495c",
  "dark-red": "#c4162a",
  "semi-dark-red": "#e02f44",
  "light-red": "#ff7383",
  yellow: "#fade2a",
  "dark-yellow": "#e0b400",
  "semi-dark-yellow": "#f2cc0c",
  "light-yellow": "#ffee52",
  orange: "#ff9830",
  "dark-orange": "#fa6400",
  "semi-dark-orange": "#ff780a",
  "light-orange": "#ffb357",
  blue: "#5794f2",
  "dark-blue": "#1f60c4",
  "semi-dark-blue": "#3274d9",
  "light-blue": "#8ab8ff",
  purple: "#b877d9",
  "dark-purple": "#8f3bb8",
  "semi-dark-purple": "#a352cc",
  "light-purple": "#ca95e5",
  text: "#d8d9da",
  transparent: "transparent",
};

/** A CSS colour for a Grafana colour name; hex/rgb values pass through; unknown names → text colour. */
export function resolveColor(name: string): string {
  const n = name.trim();
  const named = NAMED[n];
  if (named) return named;
  if (/^#[0-9a-fA-F]{3,8}$/.test(n) || /^rgba?\([\d\s.,%]+\)$/.test(n)) return n;
  return NAMED["text"]!;
}

/** The colour of `value` under the thresholds; percentage mode maps between `min` and `max`. */
export function thresholdColor(value: number | null, t: Thresholds, min = 0, max = 100): string {
  const base = t.steps[0]?.color ?? "green";
  if (value === null || Number.isNaN(value)) return resolveColor(base);
  const v = t.mode === "percentage" ? (max === min ? 0 : ((value - min) / (max - min)) * 100) : value;
  let color = base;
  for (const s of t.steps) {
    if (s.value === null || v >= s.value) color = s.color;
  }
  return resolveColor(color);
}

/** A point of the green→yellow→red scale; `f` in [0, 1]. */
export function greenYellowRed(f: number): string {
  const x = Math.min(Math.max(Number.isFinite(f) ? f : 0, 0), 1);
  const g: [number, number, number] = [0x73, 0xbf, 0x69];
  const y: [number, number, number] = [0xfa, 0xde, 0x2a];
  const r: [number, number, number] = [0xf2, 0x49, 0x5c];
  const [a, b, t] = x < 0.5 ? [g, y, x * 2] : [y, r, (x - 0.5) * 2];
  const mix = (i: 0 | 1 | 2) => Math.round(a[i] + (b[i] - a[i]) * t);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}
