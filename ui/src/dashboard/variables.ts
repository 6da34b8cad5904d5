// Template variables: their options, their current values (from the URL's `var-<name>` or the
// dashboard's saved value), and the replacement of `$name`, `${name}`, `${name:format}` and
// `[[name]]` in queries, titles and legends.
//
// Values are formatted as Grafana's Prometheus data source does: a variable that allows several
// values or "All" is a regex alternative — each value regex-escaped, several joined as `(a|b)` —
// ready for `label=~"$var"`; "All" is the variable's `allValue` (e.g. `.*`) when set, else every
// option joined. A single-valued variable is inserted with only `\` and `"` escaped so it stays
// valid inside a PromQL string.

import type { VariableModel } from "./model";
import { parseInterval } from "../state/time";
import { promDuration, roundInterval } from "./interval";

/** Grafana's token for "All" in URLs and saved values. */
export const ALL = "$__all";

/** One option of a variable. */
export interface VariableOption {
  /** Text shown. */
  text: string;
  /** Value inserted. */
  value: string;
}

/** A variable with its options and current selection. */
export interface ResolvedVariable {
  /** The model. */
  model: VariableModel;
  /** Options (without "All"). */
  options: VariableOption[];
  /** Selected values; `[ALL]` for "All". */
  selected: string[];
  /** Why the options could not be loaded, if they could not. */
  error?: string;
}

/** The values a template can use: resolved variables plus built-ins such as `__interval`. */
export interface InterpolationContext {
  /** Variables by name. */
  variables: Record<string, ResolvedVariable>;
  /** Built-in variables by name (without `$`). */
  builtins: Record<string, string>;
}

/** Escapes a value for a PromQL double-quoted string. */
export function escapePromqlString(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

/**
 * Escapes a value to match literally inside `=~"..."`: regex metacharacters get a backslash, and
 * every backslash is doubled again for the PromQL string (so `a.b` becomes `a\\.b`).
 */
export function escapePromqlRegex(v: string): string {
  const re = v.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`);
  return escapePromqlString(re);
}

/** Parses Grafana's custom variable list: comma-separated, `text : value` pairs, `\,` escapes a comma. */
export function parseCustomOptions(query: string): VariableOption[] {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < query.length; i++) {
    const c = query[i]!;
    if (c === "\\" && query[i + 1] === ",") {
      cur += ",";
      i += 1;
    } else if (c === ",") {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  parts.push(cur);
  return parts
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => {
      const m = /^(.*\S)\s+:\s+(\S.*)$/.exec(p);
      return m && m[1] && m[2] ? { text: m[1], value: m[2] } : { text: p, value: p };
    });
}

/** A `label_values` query: optional series selector and the label. */
export interface LabelValuesQuery {
  /** Series selector (metric or `metric{...}`), or undefined for all series. */
  selector: string | undefined;
  /** Label whose values are the options. */
  label: string;
}

/** Parses `label_values(label)` and `label_values(selector, label)`; other queries give null. */
export function parseLabelValuesQuery(query: string): LabelValuesQuery | null {
  const m = /^\s*label_values\s*\(\s*(.*?)\s*\)\s*$/s.exec(query);
  if (!m) return null;
  const inner = m[1] ?? "";
  // The label is after the last comma outside braces and quotes.
  let depth = 0;
  let quote = "";
  let split = -1;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (quote) {
      if (c === "\\") i += 1;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "{" || c === "(") depth += 1;
    else if (c === "}" || c === ")") depth -= 1;
    else if (c === "," && depth === 0) split = i;
  }
  const label = (split >= 0 ? inner.slice(split + 1) : inner).trim();
  const selector = split >= 0 ? inner.slice(0, split).trim() : undefined;
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label)) return null;
  return { selector: selector === "" ? undefined : selector, label };
}

/** Options of an interval variable; `auto` first when enabled. */
export function intervalOptions(model: VariableModel, rangeMs: number): VariableOption[] {
  const opts = parseCustomOptions(model.query);
  if (!model.auto) return opts;
  const minMs = parseInterval(model.autoMin) ?? 10_000;
  const auto = promDuration(Math.max(roundInterval(rangeMs / Math.max(model.autoCount, 1)), minMs));
  return [{ text: "auto", value: auto }, ...opts];
}

/** Sorts query results as Grafana's `sort` setting says. */
export function sortOptions(values: string[], sort: number): string[] {
  const out = [...values];
  const numeric = (s: string) => {
    const m = /-?\d+(\.\d+)?/.exec(s);
    return m ? Number(m[0]) : Number.NaN;
  };
  switch (sort) {
    case 1:
    case 5:
      out.sort((a, b) => a.localeCompare(b));
      break;
    case 2:
    case 6:
      out.sort((a, b) => b.localeCompare(a));
      break;
    case 3:
      out.sort((a, b) => numeric(a) - numeric(b));
      break;
    case 4:
      out.sort((a, b) => numeric(b) - numeric(a));
      break;
    default:
      break;
  }
  return out;
}

/** Filters query results by the variable's `regex` (`/re/flags`); a capture group picks the value. */
export function applyRegex(values: string[], regex: string): string[] {
  if (!regex) return values;
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
  let re: RegExp;
  try {
    re = m ? new RegExp(m[1] ?? "", (m[2] ?? "").replace("g", "")) : new RegExp(regex);
  } catch {
    // An invalid regex filters nothing rather than hiding every option.
    return values;
  }
  const out: string[] = [];
  for (const v of values) {
    const hit = re.exec(v);
    if (hit) out.push(hit[1] ?? hit[0]);
  }
  return [...new Set(out)];
}

/**
 * Picks the selection: the URL's values if any, else the saved current value, else "All" when
 * offered, else the first option. Values no longer among the options are dropped (a single value
 * falls back to the first option) unless the options are unknown.
 */
export function chooseSelection(model: VariableModel, options: VariableOption[], fromUrl: string[]): string[] {
  const wanted = fromUrl.length > 0 ? fromUrl : model.current;
  const values = new Set(options.map((o) => o.value));
  const isAll = (v: string) => v === ALL || v === "All" || v === "$__all";
  if (wanted.some(isAll) && model.includeAll) return [ALL];
  const kept = options.length === 0 ? wanted.filter((v) => !isAll(v)) : wanted.filter((v) => values.has(v));
  if (kept.length > 0) return model.multi ? kept : kept.slice(0, 1);
  if (model.includeAll) return [ALL];
  const first = options[0];
  return first ? [first.value] : [];
}

/** The values a selection stands for; "All" expands to every option. */
function selectedValues(v: ResolvedVariable): string[] {
  if (v.selected.includes(ALL)) return v.options.map((o) => o.value);
  return v.selected;
}

/** Formats a variable's value for a query (see the module comment), or with an explicit format. */
export function formatVariable(v: ResolvedVariable, format?: string): string {
  const all = v.selected.includes(ALL);
  if (all && v.model.allValue !== undefined && format === undefined) return v.model.allValue;
  const values = selectedValues(v);
  switch (format) {
    case "raw":
    case "text":
      return values.join(",");
    case "csv":
      return values.join(",");
    case "pipe":
      return values.join("|");
    case "regex":
      return values.length === 1 ? escapePromqlRegex(values[0]!) : `(${values.map(escapePromqlRegex).join("|")})`;
    case "json":
      return JSON.stringify(values);
    default:
      break;
  }
  if (!v.model.multi && !v.model.includeAll) return escapePromqlString(values[0] ?? "");
  if (values.length === 1) return escapePromqlRegex(values[0]!);
  // No values (e.g. no options yet): match nothing rather than everything.
  if (values.length === 0) return "";
  return `(${values.map(escapePromqlRegex).join("|")})`;
}

const VAR_PATTERN = /\$(\w+)|\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]/g;

/** Replaces variables in `text`; unknown names are left as written. */
export function interpolate(text: string, ctx: InterpolationContext, plain = false): string {
  return text.replace(VAR_PATTERN, (whole, a?: string, b?: string, bfmt?: string, c?: string, cfmt?: string) => {
    const name = a ?? b ?? c ?? "";
    const fmt = bfmt ?? cfmt;
    const builtin = ctx.builtins[name];
    if (builtin !== undefined) return builtin;
    const v = ctx.variables[name];
    if (!v) return whole;
    if (plain) {
      // Titles and legends show the selection as text.
      return v.selected.includes(ALL) ? "All" : selectedValues(v).join(" + ");
    }
    return formatVariable(v, fmt);
  });
}

/** The `var-<name>` URL parameter name. */
export function urlParamName(name: string): string {
  return `var-${name}`;
}
