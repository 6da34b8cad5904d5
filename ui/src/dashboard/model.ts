// The Grafana dashboard JSON subset tetrad renders, parsed into typed values. Parsing never
// throws: fields of the wrong type fall back to Grafana's defaults and are reported in
// `problems`; panel types outside the subset become `unsupported` panels that render a notice.

/** A panel's place on the 24-column grid, in grid units (a row is 30 px high). */
export interface GridPos {
  /** Column, 0–23. */
  x: number;
  /** Row. */
  y: number;
  /** Width in columns, 1–24. */
  w: number;
  /** Height in rows. */
  h: number;
}

/** One PromQL query of a panel. */
export interface Target {
  /** Grafana's query id (`A`, `B`, …). */
  refId: string;
  /** The PromQL expression, variables not yet replaced. */
  expr: string;
  /** Series name template, `{{label}}` replaced by label values. */
  legendFormat: string;
  /** Run as an instant query. */
  instant: boolean;
  /** Minimum step (`interval`, e.g. `30s`), or "". */
  interval: string;
  /** Hidden targets are not run. */
  hide: boolean;
}

/** One threshold step: from `value` upwards (`null` = from −∞) the colour is `color`. */
export interface ThresholdStep {
  /** Colour name or CSS colour. */
  color: string;
  /** Lower bound, `null` for the base step. */
  value: number | null;
}

/** Thresholds of a field. */
export interface Thresholds {
  /** `absolute` values or `percentage` of min–max. */
  mode: "absolute" | "percentage";
  /** Ascending steps. */
  steps: ThresholdStep[];
}

/** The field config defaults the renderer uses. */
export interface FieldConfig {
  /** Unit id (`s`, `percent`, `reqps`, …) or "". */
  unit: string;
  /** Fixed minimum. */
  min: number | undefined;
  /** Fixed maximum. */
  max: number | undefined;
  /** Fixed decimals. */
  decimals: number | undefined;
  /** Thresholds (Grafana's default: green, red from 80). */
  thresholds: Thresholds;
  /** `fixed`, `thresholds`, `palette-classic`, `continuous-GrYlRd`, … */
  colorMode: string;
  /** `linear`, `smooth`, `stepBefore`, `stepAfter`. */
  lineInterpolation: string;
}

/** Panel types rendered. */
export const SUPPORTED_PANEL_TYPES = ["timeseries", "stat", "gauge", "bargauge", "table", "text"] as const;

/** A supported panel type. */
export type PanelType = (typeof SUPPORTED_PANEL_TYPES)[number];

/** A panel. */
export interface Panel {
  /** Panel id (unique within the dashboard). */
  id: number;
  /** A supported type, or `unsupported` with the original in `originalType`. */
  type: PanelType | "unsupported";
  /** The type as written. */
  originalType: string;
  /** Title (variables not yet replaced). */
  title: string;
  /** Description. */
  description: string;
  /** Place on the grid. */
  gridPos: GridPos;
  /** Queries. */
  targets: Target[];
  /** Field defaults. */
  field: FieldConfig;
  /** Panel-wide minimum step (`interval`), or "". */
  interval: string;
  /** `maxDataPoints`, if set. */
  maxDataPoints: number | undefined;
  /** `options.reduceOptions.calcs[0]`, default `lastNotNull`. */
  reduceCalc: string;
  /** Bar gauge `options.displayMode`: `gradient`, `lcd`, `basic`. */
  displayMode: string;
  /** `options.orientation`: `horizontal`, `vertical`, `auto`. */
  orientation: string;
  /** Stat `options.graphMode`: `area` (sparkline) or `none`. */
  graphMode: string;
  /** Text panel `options.mode`: `markdown`, `html`, `code`. */
  textMode: string;
  /** Text panel `options.content`. */
  content: string;
}

/** A row: a collapsible header and the panels under it. */
export interface Row {
  /** Title, or "" for the panels above the first row (no header). */
  title: string;
  /** Whether the row starts collapsed. */
  collapsed: boolean;
  /** Row id (for the collapse state), -1 for the headerless first section. */
  id: number;
  /** Panels, with `gridPos.y` relative to the row's first grid line. */
  panels: Panel[];
}

/** A template variable as written. */
export interface VariableModel {
  /** Name used as `$name`. */
  name: string;
  /** Label shown; the name when empty. */
  label: string;
  /** `query`, `custom`, `constant`, `interval`, `textbox`, `datasource`, … */
  type: string;
  /** The query (`label_values(...)`), the custom list, the constant, the interval list. */
  query: string;
  /** Allow several values. */
  multi: boolean;
  /** Offer "All". */
  includeAll: boolean;
  /** The value used for "All" (e.g. `.*`); when unset, all options joined. */
  allValue: string | undefined;
  /** The saved current value(s). */
  current: string[];
  /** 0 shown, 1 label hidden, 2 variable hidden. */
  hide: number;
  /** Regex filtering query results (Grafana's `regex`), or "". */
  regex: string;
  /** 0 none, 1 alphabetical asc, 2 desc, 3 numerical asc, 4 desc, … (Grafana's `sort`). */
  sort: number;
  /** Interval variables: `auto` option settings. */
  auto: boolean;
  /** Interval variables: number of steps for `auto`. */
  autoCount: number;
  /** Interval variables: smallest `auto` value. */
  autoMin: string;
}

/** A parsed dashboard. */
export interface Dashboard {
  /** uid. */
  uid: string;
  /** Title. */
  title: string;
  /** Default time range. */
  time: { from: string; to: string };
  /** Default refresh, or "". */
  refresh: string;
  /** Template variables in order (later ones may use earlier ones). */
  variables: VariableModel[];
  /** Rows in order. */
  rows: Row[];
  /** What could not be understood, for display. */
  problems: string[];
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown, d = ""): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : d);
const num = (v: unknown): number | undefined => {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};
const bool = (v: unknown, d = false): boolean => (typeof v === "boolean" ? v : d);
const obj = (v: unknown): Json => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Grafana's default thresholds. */
export const DEFAULT_THRESHOLDS: Thresholds = {
  mode: "absolute",
  steps: [
    { color: "green", value: null },
    { color: "red", value: 80 },
  ],
};

function parseThresholds(v: unknown): Thresholds {
  if (!isObj(v)) return DEFAULT_THRESHOLDS;
  const steps = arr(v["steps"])
    .filter(isObj)
    .map((s) => ({ color: str(s["color"], "green"), value: s["value"] === null ? null : (num(s["value"]) ?? null) }));
  if (steps.length === 0) return DEFAULT_THRESHOLDS;
  // The first step is the base whatever its value says, as in Grafana.
  steps[0] = { color: steps[0]!.color, value: null };
  return { mode: v["mode"] === "percentage" ? "percentage" : "absolute", steps };
}

function parseGridPos(v: unknown): GridPos {
  const g = obj(v);
  const clamp = (n: number, lo: number, hi: number) => Math.min(Math.max(Math.round(n), lo), hi);
  const w = clamp(num(g["w"]) ?? 12, 1, 24);
  return {
    x: clamp(num(g["x"]) ?? 0, 0, 24 - w),
    y: clamp(num(g["y"]) ?? 0, 0, 10_000),
    w,
    h: clamp(num(g["h"]) ?? 8, 1, 200),
  };
}

function parseTarget(v: Json, i: number): Target {
  const fmt = str(v["legendFormat"]);
  return {
    refId: str(v["refId"], String.fromCharCode(65 + (i % 26))),
    expr: str(v["expr"]),
    legendFormat: fmt === "__auto" ? "" : fmt,
    instant: bool(v["instant"]) && !bool(v["range"], false),
    interval: str(v["interval"]),
    hide: bool(v["hide"]),
  };
}

/** Old Grafana graph panels are drawn as time series, as Grafana itself migrates them. */
const TYPE_ALIASES: Record<string, PanelType> = { graph: "timeseries", singlestat: "stat" };

function parsePanel(v: Json, fallbackId: number): Panel {
  const originalType = str(v["type"], "unknown");
  const aliased = TYPE_ALIASES[originalType] ?? originalType;
  const type = (SUPPORTED_PANEL_TYPES as readonly string[]).includes(aliased) ? (aliased as PanelType) : "unsupported";
  const defaults = obj(obj(v["fieldConfig"])["defaults"]);
  const custom = obj(defaults["custom"]);
  const options = obj(v["options"]);
  const calcs = arr(obj(options["reduceOptions"])["calcs"]);
  const targets = arr(v["targets"]).filter(isObj).map(parseTarget);
  return {
    id: num(v["id"]) ?? fallbackId,
    type,
    originalType,
    title: str(v["title"]),
    description: str(v["description"]),
    gridPos: parseGridPos(v["gridPos"]),
    targets: type === "table" ? targets.map((t) => ({ ...t, instant: true })) : targets,
    field: {
      unit: str(defaults["unit"]),
      min: num(defaults["min"]),
      max: num(defaults["max"]),
      decimals: num(defaults["decimals"]),
      thresholds: parseThresholds(defaults["thresholds"]),
      colorMode: str(obj(defaults["color"])["mode"], type === "timeseries" ? "palette-classic" : "thresholds"),
      lineInterpolation: str(custom["lineInterpolation"], "linear"),
    },
    interval: str(v["interval"]),
    maxDataPoints: num(v["maxDataPoints"]),
    reduceCalc: str(calcs[0], "lastNotNull"),
    displayMode: str(options["displayMode"], "gradient"),
    orientation: str(options["orientation"], "auto"),
    graphMode: str(options["graphMode"], "area"),
    textMode: str(options["mode"], "markdown"),
    content: str(options["content"]),
  };
}

function parseCurrent(v: unknown): string[] {
  const value = obj(v)["value"];
  if (Array.isArray(value)) return value.map((x) => str(x));
  if (value === undefined || value === null) return [];
  return [str(value)];
}

function parseVariable(v: Json): VariableModel {
  const q = v["query"];
  // Newer Grafana stores Prometheus variable queries as {query, refId}.
  const query = isObj(q) ? str(q["query"]) : str(q, str(v["definition"]));
  return {
    name: str(v["name"]),
    label: str(v["label"]),
    type: str(v["type"], "custom"),
    query,
    multi: bool(v["multi"]),
    includeAll: bool(v["includeAll"]),
    allValue: typeof v["allValue"] === "string" && v["allValue"] !== "" ? v["allValue"] : undefined,
    current: parseCurrent(v["current"]),
    hide: num(v["hide"]) ?? 0,
    regex: str(v["regex"]),
    sort: num(v["sort"]) ?? 0,
    auto: bool(v["auto"]),
    autoCount: num(v["auto_count"]) ?? 30,
    autoMin: str(v["auto_min"], "10s"),
  };
}

/** Most panels rendered; a dashboard with more is cut with a problem noted. */
export const MAX_PANELS = 200;

/** Parses dashboard JSON (already decoded). */
export function parseDashboard(json: unknown, fallbackUid = ""): Dashboard {
  const problems: string[] = [];
  const d = obj(json);
  if (!isObj(json)) problems.push("the dashboard is not a JSON object");
  const time = obj(d["time"]);
  const variables = arr(obj(d["templating"])["list"])
    .filter(isObj)
    .map(parseVariable)
    .filter((v) => {
      if (/^\w+$/.test(v.name)) return true;
      problems.push(`variable name ${JSON.stringify(v.name)} is not a word; skipped`);
      return false;
    });

  const rows: Row[] = [{ title: "", collapsed: false, id: -1, panels: [] }];
  let count = 0;
  const add = (row: Row, p: Json) => {
    if (count >= MAX_PANELS) return;
    count += 1;
    row.panels.push(parsePanel(p, count));
  };
  const top = arr(d["panels"]);
  // Grafana lists panels in any order; rows own the panels below them, so sort by position.
  const sorted = top
    .filter((p, i) => {
      if (isObj(p)) return true;
      problems.push(`panel ${i} is not an object; skipped`);
      return false;
    })
    .map((p) => p as Json)
    .sort((a, b) => {
      const ga = parseGridPos(a["gridPos"]);
      const gb = parseGridPos(b["gridPos"]);
      return ga.y - gb.y || ga.x - gb.x;
    });
  for (const p of sorted) {
    if (p["type"] === "row") {
      const row: Row = {
        title: str(p["title"], "Row"),
        collapsed: bool(p["collapsed"]),
        id: num(p["id"]) ?? -2 - rows.length,
        panels: [],
      };
      rows.push(row);
      // A collapsed row keeps its panels inside itself.
      for (const inner of arr(p["panels"]).filter(isObj)) add(row, inner);
    } else {
      add(rows[rows.length - 1]!, p);
    }
  }
  if (count >= MAX_PANELS) problems.push(`only the first ${MAX_PANELS} panels are shown`);
  // Positions become relative to each row's first line, so collapsing a row moves the rest up.
  for (const row of rows) {
    const minY = Math.min(...row.panels.map((p) => p.gridPos.y));
    for (const p of row.panels) p.gridPos = { ...p.gridPos, y: p.gridPos.y - (Number.isFinite(minY) ? minY : 0) };
  }
  return {
    uid: str(d["uid"], fallbackUid),
    title: str(d["title"], fallbackUid),
    time: { from: str(time["from"], "now-1h"), to: str(time["to"], "now") },
    refresh: str(d["refresh"]),
    variables,
    rows: rows.filter((r) => r.id !== -1 || r.panels.length > 0),
    problems,
  };
}
