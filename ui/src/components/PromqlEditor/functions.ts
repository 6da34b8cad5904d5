// The functions and aggregation operators of PromQL as Prometheus 2.42 knows them, with their
// signatures, for autocomplete and highlighting. Generated once from crates/promql-syntax's
// function table (functions.rs), which the differential tests keep exact; later functions
// (sort_by_label, mad_over_time, ...) are absent because 2.42 rejects them.

/** [name, signature] of every PromQL function in 2.42. */
export const FUNCTIONS: readonly (readonly [string, string])[] = [
  ["abs", "abs(instant-vector) → instant-vector"],
  ["absent", "absent(instant-vector) → instant-vector"],
  ["absent_over_time", "absent_over_time(range-vector) → instant-vector"],
  ["acos", "acos(instant-vector) → instant-vector"],
  ["acosh", "acosh(instant-vector) → instant-vector"],
  ["asin", "asin(instant-vector) → instant-vector"],
  ["asinh", "asinh(instant-vector) → instant-vector"],
  ["atan", "atan(instant-vector) → instant-vector"],
  ["atanh", "atanh(instant-vector) → instant-vector"],
  ["avg_over_time", "avg_over_time(range-vector) → instant-vector"],
  ["ceil", "ceil(instant-vector) → instant-vector"],
  ["changes", "changes(range-vector) → instant-vector"],
  ["clamp", "clamp(instant-vector, scalar, scalar) → instant-vector"],
  ["clamp_max", "clamp_max(instant-vector, scalar) → instant-vector"],
  ["clamp_min", "clamp_min(instant-vector, scalar) → instant-vector"],
  ["cos", "cos(instant-vector) → instant-vector"],
  ["cosh", "cosh(instant-vector) → instant-vector"],
  ["count_over_time", "count_over_time(range-vector) → instant-vector"],
  ["day_of_month", "day_of_month([instant-vector]) → instant-vector"],
  ["day_of_week", "day_of_week([instant-vector]) → instant-vector"],
  ["day_of_year", "day_of_year([instant-vector]) → instant-vector"],
  ["days_in_month", "days_in_month([instant-vector]) → instant-vector"],
  ["deg", "deg(instant-vector) → instant-vector"],
  ["delta", "delta(range-vector) → instant-vector"],
  ["deriv", "deriv(range-vector) → instant-vector"],
  ["exp", "exp(instant-vector) → instant-vector"],
  ["floor", "floor(instant-vector) → instant-vector"],
  ["histogram_count", "histogram_count(instant-vector) → instant-vector"],
  ["histogram_fraction", "histogram_fraction(scalar, scalar, instant-vector) → instant-vector"],
  ["histogram_quantile", "histogram_quantile(scalar, instant-vector) → instant-vector"],
  ["histogram_sum", "histogram_sum(instant-vector) → instant-vector"],
  ["holt_winters", "holt_winters(range-vector, scalar, scalar) → instant-vector"],
  ["hour", "hour([instant-vector]) → instant-vector"],
  ["idelta", "idelta(range-vector) → instant-vector"],
  ["increase", "increase(range-vector) → instant-vector"],
  ["irate", "irate(range-vector) → instant-vector"],
  ["label_join", "label_join(instant-vector, string, string, [string...]) → instant-vector"],
  ["label_replace", "label_replace(instant-vector, string, string, string, string) → instant-vector"],
  ["last_over_time", "last_over_time(range-vector) → instant-vector"],
  ["ln", "ln(instant-vector) → instant-vector"],
  ["log10", "log10(instant-vector) → instant-vector"],
  ["log2", "log2(instant-vector) → instant-vector"],
  ["max_over_time", "max_over_time(range-vector) → instant-vector"],
  ["min_over_time", "min_over_time(range-vector) → instant-vector"],
  ["minute", "minute([instant-vector]) → instant-vector"],
  ["month", "month([instant-vector]) → instant-vector"],
  ["pi", "pi() → scalar"],
  ["predict_linear", "predict_linear(range-vector, scalar) → instant-vector"],
  ["present_over_time", "present_over_time(range-vector) → instant-vector"],
  ["quantile_over_time", "quantile_over_time(scalar, range-vector) → instant-vector"],
  ["rad", "rad(instant-vector) → instant-vector"],
  ["rate", "rate(range-vector) → instant-vector"],
  ["resets", "resets(range-vector) → instant-vector"],
  ["round", "round(instant-vector, [scalar]) → instant-vector"],
  ["scalar", "scalar(instant-vector) → scalar"],
  ["sgn", "sgn(instant-vector) → instant-vector"],
  ["sin", "sin(instant-vector) → instant-vector"],
  ["sinh", "sinh(instant-vector) → instant-vector"],
  ["sort", "sort(instant-vector) → instant-vector"],
  ["sort_desc", "sort_desc(instant-vector) → instant-vector"],
  ["sqrt", "sqrt(instant-vector) → instant-vector"],
  ["stddev_over_time", "stddev_over_time(range-vector) → instant-vector"],
  ["stdvar_over_time", "stdvar_over_time(range-vector) → instant-vector"],
  ["sum_over_time", "sum_over_time(range-vector) → instant-vector"],
  ["tan", "tan(instant-vector) → instant-vector"],
  ["tanh", "tanh(instant-vector) → instant-vector"],
  ["time", "time() → scalar"],
  ["timestamp", "timestamp(instant-vector) → instant-vector"],
  ["vector", "vector(scalar) → instant-vector"],
  ["year", "year([instant-vector]) → instant-vector"],
];

/** Aggregation operators with their signatures. */
export const AGGREGATIONS: readonly (readonly [string, string])[] = [
  ["sum", "sum [by|without (labels)] (instant-vector)"],
  ["min", "min [by|without (labels)] (instant-vector)"],
  ["max", "max [by|without (labels)] (instant-vector)"],
  ["avg", "avg [by|without (labels)] (instant-vector)"],
  ["group", "group [by|without (labels)] (instant-vector)"],
  ["stddev", "stddev [by|without (labels)] (instant-vector)"],
  ["stdvar", "stdvar [by|without (labels)] (instant-vector)"],
  ["count", "count [by|without (labels)] (instant-vector)"],
  ["count_values", "count_values [by|without (labels)] (string, instant-vector)"],
  ["bottomk", "bottomk [by|without (labels)] (scalar, instant-vector)"],
  ["topk", "topk [by|without (labels)] (scalar, instant-vector)"],
  ["quantile", "quantile [by|without (labels)] (scalar, instant-vector)"],
];

/** Keywords that are neither functions nor aggregations. */
export const KEYWORDS: readonly string[] = [
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "and",
  "or",
  "unless",
  "atan2",
];

const FUNCTION_NAMES = new Set(FUNCTIONS.map(([n]) => n));
const AGGREGATION_NAMES = new Set(AGGREGATIONS.map(([n]) => n));
const KEYWORD_SET = new Set(KEYWORDS);

/** Whether `name` is a 2.42 function. */
export function isFunction(name: string): boolean {
  return FUNCTION_NAMES.has(name);
}

/** Whether `name` is an aggregation operator. */
export function isAggregation(name: string): boolean {
  return AGGREGATION_NAMES.has(name);
}

/** Whether `name` is a keyword (case-insensitive, as in PromQL). */
export function isKeyword(name: string): boolean {
  return KEYWORD_SET.has(name.toLowerCase());
}
