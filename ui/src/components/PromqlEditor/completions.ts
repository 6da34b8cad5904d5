// Ranking of completion candidates: names that start with the typed prefix first — the
// functions people reach for most (`rate`, `sum`, `histogram_quantile`, ...) ahead of the rest,
// then shortest first, then alphabetical — then names that merely contain it; at most
// MAX_SUGGESTIONS.

import { AGGREGATIONS, FUNCTIONS } from "./functions";

/** Most suggestions shown at once. */
export const MAX_SUGGESTIONS = 50;

/** Functions and aggregations ranked first among equal prefix matches, most used first. */
const POPULAR = [
  "rate",
  "sum",
  "histogram_quantile",
  "increase",
  "irate",
  "avg",
  "max",
  "min",
  "count",
  "topk",
  "absent",
  "label_replace",
  "delta",
  "deriv",
];
const POPULARITY = new Map(POPULAR.map((n, i) => [n, i]));

/** One suggestion. */
export interface Suggestion {
  /** Inserted text. */
  text: string;
  /** What it is: `metric`, `function`, `aggregation`, `label`, `value`. */
  kind: string;
  /** A signature or note. */
  detail: string;
}

/** Filters and ranks `items` by `prefix` (case-insensitive). */
export function rank(items: Suggestion[], prefix: string): Suggestion[] {
  const p = prefix.toLowerCase();
  const starts: Suggestion[] = [];
  const contains: Suggestion[] = [];
  const seen = new Set<string>();
  for (const s of items) {
    const key = `${s.kind}\u0000${s.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const t = s.text.toLowerCase();
    if (t.startsWith(p)) starts.push(s);
    else if (p !== "" && t.includes(p)) contains.push(s);
  }
  const popularity = (s: Suggestion) =>
    s.kind === "function" || s.kind === "aggregation" ? (POPULARITY.get(s.text) ?? POPULAR.length) : POPULAR.length;
  const byLen = (a: Suggestion, b: Suggestion) =>
    popularity(a) - popularity(b) || a.text.length - b.text.length || a.text.localeCompare(b.text);
  starts.sort(byLen);
  contains.sort(byLen);
  // An exact match alone offers nothing to complete.
  const out = [...starts, ...contains];
  if (out.length === 1 && out[0]?.text === prefix) return [];
  return out.slice(0, MAX_SUGGESTIONS);
}

/** Function and aggregation suggestions. */
export function functionSuggestions(): Suggestion[] {
  return [
    ...AGGREGATIONS.map(([text, detail]) => ({ text, kind: "aggregation", detail })),
    ...FUNCTIONS.map(([text, detail]) => ({ text, kind: "function", detail })),
  ];
}

/** Quotes a label value for insertion into a matcher (`"` with `\` and `"` escaped). */
export function quoteLabelValue(v: string, quote = '"'): string {
  const esc = v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  return quote + (quote === "`" ? v : esc.split(quote).join(`\\${quote}`)) + quote;
}
