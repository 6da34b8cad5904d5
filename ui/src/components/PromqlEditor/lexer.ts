// A PromQL tokenizer for highlighting and autocomplete. It never fails: text it cannot read
// becomes an `error` token, so a half-typed query still highlights. Identifiers are classified
// by where they stand, as the editor needs: inside `{...}` and `by (...)` they are label names,
// before `(` a known name is a function, aggregation names are keywords, the rest are metric
// names. Offsets are UTF-16 indexes into the text (what a textarea's selection uses).

import { isAggregation, isFunction, isKeyword } from "./functions";

/** What a token is. */
export type TokenKind =
  | "keyword"
  | "function"
  | "metric"
  | "label"
  | "string"
  | "number"
  | "duration"
  | "operator"
  | "paren"
  | "comment"
  | "space"
  | "error";

/** A token: kind and `[start, end)` in the text. */
export interface Token {
  /** Kind. */
  kind: TokenKind;
  /** The text. */
  text: string;
  /** Start offset. */
  start: number;
  /** End offset (exclusive). */
  end: number;
}

const IDENT_START = /[A-Za-z_:]/;
const IDENT_PART = /[A-Za-z0-9_:]/;
const DURATION = /^(?:[0-9]+(?:ms|[smhdwy]))+/;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/;
const OPERATORS = ["==", "!=", "<=", ">=", "=~", "!~", "+", "-", "*", "/", "%", "^", "<", ">", "=", ",", "@", ":"];
/** Keywords after which a parenthesised list holds label names. */
const GROUPING = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

/** Splits `text` into tokens covering all of it. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  // Where label names are expected: inside braces, or in a grouping list.
  let braceDepth = 0;
  let groupingParen = false;
  let bracket = false;
  const push = (kind: TokenKind, end: number) => {
    out.push({ kind, text: text.slice(i, end), start: i, end });
    i = end;
  };
  while (i < text.length) {
    const c = text.charAt(i);
    const rest = text.slice(i);
    if (/\s/.test(c)) {
      const m = /^\s+/.exec(rest);
      push("space", i + (m ? m[0].length : 1));
      continue;
    }
    if (c === "#") {
      const nl = text.indexOf("\n", i);
      push("comment", nl === -1 ? text.length : nl);
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      push("string", stringEnd(text, i));
      continue;
    }
    if (/[0-9.]/.test(c)) {
      const d = DURATION.exec(rest);
      // A duration is a number with units; `5m` outside brackets (e.g. after offset) too.
      if (d) {
        push("duration", i + d[0].length);
        continue;
      }
      const n = NUMBER.exec(rest);
      if (n && n[0] !== ".") {
        push("number", i + n[0].length);
        continue;
      }
    }
    if (IDENT_START.test(c) && !(c === ":" && (braceDepth > 0 || bracket))) {
      let j = i + 1;
      while (j < text.length && IDENT_PART.test(text.charAt(j))) j++;
      // Inside braces and brackets `:` is not part of a name (`[5m:1m]`).
      let word = text.slice(i, j);
      if (braceDepth > 0 || bracket || groupingParen) {
        const colon = word.indexOf(":");
        if (colon > 0) {
          j = i + colon;
          word = word.slice(0, colon);
        }
      }
      push(classify(word, text, j, braceDepth > 0 || groupingParen), j);
      continue;
    }
    if ("(){}[]".includes(c)) {
      if (c === "{") braceDepth++;
      if (c === "}") braceDepth = Math.max(0, braceDepth - 1);
      if (c === "[") bracket = true;
      if (c === "]") bracket = false;
      if (c === "(") groupingParen = previousWord(out) !== null && GROUPING.has(previousWord(out) ?? "");
      if (c === ")") groupingParen = false;
      push("paren", i + 1);
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (op) {
      push("operator", i + op.length);
      continue;
    }
    push("error", i + 1);
  }
  return out;
}

/** The lower-cased text of the last non-space token when it is a keyword, else null. */
function previousWord(tokens: Token[]): string | null {
  for (let k = tokens.length - 1; k >= 0; k--) {
    const t = tokens[k];
    if (!t || t.kind === "space" || t.kind === "comment") continue;
    return t.kind === "keyword" ? t.text.toLowerCase() : null;
  }
  return null;
}

/** End offset of the string starting at `start` (its quote), or the text's end if unclosed. */
export function stringEnd(text: string, start: number): number {
  const q = text.charAt(start);
  let j = start + 1;
  while (j < text.length) {
    const ch = text.charAt(j);
    if (q !== "`" && ch === "\\") {
      j += 2;
      continue;
    }
    if (ch === q) return j + 1;
    if (ch === "\n" && q !== "`") return j;
    j++;
  }
  return text.length;
}

function classify(word: string, text: string, end: number, labelPosition: boolean): TokenKind {
  if (labelPosition) return "label";
  const lower = word.toLowerCase();
  if (lower === "inf" || lower === "nan") return "number";
  if (isKeyword(word) || isAggregation(lower)) return "keyword";
  const next = text.slice(end).trimStart().charAt(0);
  // `start()` and `end()` are the `@` modifier's preprocessors.
  if (next === "(" && (isFunction(word) || word === "start" || word === "end")) return "function";
  return "metric";
}
