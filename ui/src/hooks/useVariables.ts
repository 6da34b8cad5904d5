// Resolves a dashboard's template variables in order (a later variable's query may use an
// earlier one's value): options from label values, custom lists, constants and intervals; the
// selection from the URL's `var-<name>` parameters. Query variables reload when the URL's
// variables or the time range change, like Grafana's "refresh on time range change".

import { useEffect, useState } from "preact/hooks";
import { labelNames, labelValues } from "../api/prometheus";
import type { Dashboard, VariableModel } from "../dashboard/model";
import {
  applyRegex,
  chooseSelection,
  intervalOptions,
  interpolate,
  parseCustomOptions,
  parseLabelValuesQuery,
  sortOptions,
  urlParamName,
  type ResolvedVariable,
  type VariableOption,
} from "../dashboard/variables";
import type { ParamMap } from "../state/url";
import type { TimeRange } from "../state/time";

/** Most options a query variable keeps. */
export const MAX_OPTIONS = 10_000;

/** The outcome of resolving. */
export interface VariablesState {
  /** Variables in dashboard order. */
  list: ResolvedVariable[];
  /** By name. */
  byName: Record<string, ResolvedVariable>;
  /** False until the first resolution finished. */
  ready: boolean;
}

async function queryOptions(
  model: VariableModel,
  byName: Record<string, ResolvedVariable>,
  range: TimeRange,
  signal: AbortSignal,
): Promise<VariableOption[]> {
  const q = interpolate(model.query, { variables: byName, builtins: {} });
  const lv = parseLabelValuesQuery(q);
  let values: string[];
  if (lv) {
    values = await labelValues(
      lv.label,
      { match: lv.selector ? [lv.selector] : undefined, startMs: range.start, endMs: range.end },
      signal,
    );
  } else if (/^\s*label_names\s*\(\s*\)\s*$/.test(q)) {
    values = await labelNames({ startMs: range.start, endMs: range.end }, signal);
  } else {
    const m = /^\s*metrics\s*\(\s*(.*?)\s*\)\s*$/.exec(q);
    if (!m) throw new Error(`unsupported variable query ${JSON.stringify(q)}: use label_values(...), label_names() or metrics(...)`);
    const names = await labelValues("__name__", { startMs: range.start, endMs: range.end }, signal);
    values = applyRegex(names, m[1] ?? "");
  }
  values = sortOptions(applyRegex(values, model.regex), model.sort).slice(0, MAX_OPTIONS);
  return values.map((v) => ({ text: v, value: v }));
}

/** Resolves all variables once. */
export async function resolveVariables(
  dash: Dashboard,
  params: ParamMap,
  range: TimeRange,
  signal: AbortSignal,
): Promise<VariablesState> {
  const list: ResolvedVariable[] = [];
  const byName: Record<string, ResolvedVariable> = {};
  for (const model of dash.variables) {
    const fromUrl = params[urlParamName(model.name)] ?? [];
    let options: VariableOption[] = [];
    let error: string | undefined;
    try {
      switch (model.type) {
        case "query":
          options = await queryOptions(model, byName, range, signal);
          break;
        case "custom":
          options = parseCustomOptions(model.query);
          break;
        case "constant":
          options = [{ text: model.query, value: model.query }];
          break;
        case "interval":
          options = intervalOptions(model, range.end - range.start);
          break;
        case "textbox": {
          const v = fromUrl[0] ?? model.current[0] ?? model.query;
          options = [{ text: v, value: v }];
          break;
        }
        default:
          // Data source and ad-hoc variables have no meaning here (one data source).
          break;
      }
    } catch (e) {
      if (signal.aborted) throw e;
      error = e instanceof Error ? e.message : String(e);
    }
    const selected =
      model.type === "constant" ? [model.query] : chooseSelection(model, options, model.type === "textbox" ? [] : fromUrl);
    const resolved: ResolvedVariable = error === undefined ? { model, options, selected } : { model, options, selected, error };
    list.push(resolved);
    byName[model.name] = resolved;
  }
  return { list, byName, ready: true };
}

/** Hook: the dashboard's variables, re-resolved when their URL values or the range change. */
export function useVariables(dash: Dashboard | undefined, params: ParamMap, range: TimeRange, rangeKey: string): VariablesState {
  const [state, setState] = useState<VariablesState>({ list: [], byName: {}, ready: false });
  const varKey = JSON.stringify(
    Object.entries(params)
      .filter(([k]) => k.startsWith("var-"))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  useEffect(() => {
    if (!dash) return undefined;
    const ctrl = new AbortController();
    resolveVariables(dash, params, range, ctrl.signal).then(
      (s) => {
        if (!ctrl.signal.aborted) setState(s);
      },
      () => {
        // Only an abort rejects (errors are kept per variable); the next run replaces it.
      },
    );
    return () => ctrl.abort();
  }, [dash, varKey, rangeKey]);
  return state;
}
