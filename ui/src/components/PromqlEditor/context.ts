// What to complete at the cursor. The tokens before the cursor decide: inside `{...}` after a
// matcher operator the user types a label value, elsewhere in braces or in `by (...)` a label
// name, inside `[...]` a duration (nothing to suggest), and in any other place where a name can
// start a metric name, function or aggregation. The selector's metric name is carried along so
// label suggestions can be narrowed with `match[]`.

import { tokenize, type Token } from "./lexer";

/** A completion context. */
export type CompletionContext =
  | {
      /** Metric names, functions and aggregations. */
      kind: "metric-or-function";
      /** The partial word before the cursor. */
      prefix: string;
      /** Where the replacement starts. */
      from: number;
    }
  | {
      /** Label names. */
      kind: "label-name";
      prefix: string;
      from: number;
      /** The selector's metric name, when the braces follow one. */
      metric: string;
    }
  | {
      /** Values of `label`. */
      kind: "label-value";
      prefix: string;
      from: number;
      metric: string;
      /** The label. */
      label: string;
      /** The quote the value is in (`"` when the user has not typed one yet). */
      quote: string;
      /** Whether the user already typed the opening quote. */
      quoted: boolean;
    }
  | { kind: "none" };

const MATCH_OPS = new Set(["=", "!=", "=~", "!~"]);
const GROUPING = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

/** The completion context at `cursor` in `text`. */
export function completionContext(text: string, cursor: number): CompletionContext {
  const before = text.slice(0, cursor);
  const tokens = tokenize(before);
  const last = tokens[tokens.length - 1];
  // An unclosed string before the cursor: a label value being typed, or nothing.
  if (last && last.kind === "string" && !isClosedString(last)) {
    const inBraces = braceStart(tokens, tokens.length - 1);
    if (inBraces === null) return { kind: "none" };
    const m = matcherBefore(tokens, tokens.length - 1);
    if (!m) return { kind: "none" };
    return {
      kind: "label-value",
      prefix: last.text.slice(1),
      from: last.start + 1,
      metric: metricBefore(tokens, inBraces),
      label: m,
      quote: last.text.charAt(0),
      quoted: true,
    };
  }
  if (last && (last.kind === "comment" || last.kind === "string" || last.kind === "number" || last.kind === "duration")) {
    return { kind: "none" };
  }
  const wordToken = last && (last.kind === "metric" || last.kind === "label" || last.kind === "function" || last.kind === "keyword") ? last : null;
  const prefix = wordToken ? wordToken.text : "";
  const from = wordToken ? wordToken.start : cursor;
  const idx = wordToken ? tokens.length - 1 : tokens.length;
  if (insideBrackets(tokens, idx)) return { kind: "none" };
  const brace = braceStart(tokens, idx);
  if (brace !== null) {
    const metric = metricBefore(tokens, brace);
    const m = matcherBefore(tokens, idx);
    if (m !== null) {
      return { kind: "label-value", prefix, from, metric, label: m, quote: '"', quoted: false };
    }
    const prev = previousSignificant(tokens, idx);
    if (prev === null || prev.text === "{" || prev.text === ",") {
      return { kind: "label-name", prefix, from, metric };
    }
    return { kind: "none" };
  }
  if (insideGrouping(tokens, idx)) return { kind: "label-name", prefix, from, metric: "" };
  const prev = previousSignificant(tokens, idx);
  // A name cannot follow a complete operand directly (e.g. `up foo`), except keywords.
  if (prev && (prev.kind === "metric" || prev.kind === "number" || prev.text === "}" || prev.text === "]" || prev.text === ")")) {
    return { kind: "none" };
  }
  return { kind: "metric-or-function", prefix, from };
}

function isClosedString(t: Token): boolean {
  const q = t.text.charAt(0);
  for (let j = 1; j < t.text.length; j++) {
    const ch = t.text.charAt(j);
    if (q !== "`" && ch === "\\") {
      j++;
      continue;
    }
    if (ch === q) return true;
  }
  return false;
}

function previousSignificant(tokens: Token[], idx: number): Token | null {
  for (let k = idx - 1; k >= 0; k--) {
    const t = tokens[k];
    if (t && t.kind !== "space" && t.kind !== "comment") return t;
  }
  return null;
}

/** Index of the unclosed `{` enclosing position `idx`, or null. */
function braceStart(tokens: Token[], idx: number): number | null {
  let depth = 0;
  for (let k = idx - 1; k >= 0; k--) {
    const t = tokens[k];
    if (!t || t.kind !== "paren") continue;
    if (t.text === "}") depth++;
    if (t.text === "{") {
      if (depth === 0) return k;
      depth--;
    }
  }
  return null;
}

function insideBrackets(tokens: Token[], idx: number): boolean {
  for (let k = idx - 1; k >= 0; k--) {
    const t = tokens[k];
    if (!t || t.kind !== "paren") continue;
    if (t.text === "]") return false;
    if (t.text === "[") return true;
  }
  return false;
}

/** Whether `idx` is inside the parentheses of `by (...)`, `on (...)` and the like. */
function insideGrouping(tokens: Token[], idx: number): boolean {
  for (let k = idx - 1; k >= 0; k--) {
    const t = tokens[k];
    if (!t || t.kind !== "paren") continue;
    if (t.text !== "(") return false;
    const kw = previousSignificant(tokens, k);
    return kw !== null && kw.kind === "keyword" && GROUPING.has(kw.text.toLowerCase());
  }
  return false;
}

/** The metric name right before the brace at `brace`, or "". */
function metricBefore(tokens: Token[], brace: number): string {
  const t = previousSignificant(tokens, brace);
  return t && t.kind === "metric" && t.end === tokens[brace]?.start ? t.text : "";
}

/** The label name when `idx` follows `label <op>`, else null. */
function matcherBefore(tokens: Token[], idx: number): string | null {
  const op = previousSignificant(tokens, idx);
  if (!op || op.kind !== "operator" || !MATCH_OPS.has(op.text)) return null;
  const label = previousSignificant(tokens, tokens.indexOf(op));
  return label && label.kind === "label" ? label.text : null;
}
