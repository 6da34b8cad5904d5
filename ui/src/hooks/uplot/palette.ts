// Series colours: a fixed cycle so the same series keeps its colour across refreshes.

/** The colour cycle (Grafana's classic palette order). */
export const PALETTE = [
  "#7eb26d",
  "#eab839",
  "#6ed0e0",
  "#ef843c",
  "#e24d42",
  "#1f78c1",
  "#ba43a9",
  "#705da0",
  "#508642",
  "#cca300",
  "#447ebc",
  "#c15c17",
  "#890f02",
  "#0a437c",
  "#6d1f62",
  "#584477",
];

/** The colour of series `i`. */
export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length] ?? "#7eb26d";
}
