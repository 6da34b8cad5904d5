// Reducing a series to one value for stat, gauge and bar gauge panels: Grafana's calculations
// of `options.reduceOptions.calcs`.

/** Calculations supported; others fall back to lastNotNull. */
export const REDUCERS = [
  "lastNotNull",
  "last",
  "firstNotNull",
  "first",
  "mean",
  "max",
  "min",
  "sum",
  "count",
  "range",
  "diff",
] as const;

/** Reduces values (nulls are gaps) with `calc`; null when there is nothing to reduce. */
export function reduce(values: (number | null)[], calc: string): number | null {
  const nums = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  switch (calc) {
    case "last":
      return values.length > 0 ? (values[values.length - 1] ?? null) : null;
    case "first":
      return values.length > 0 ? (values[0] ?? null) : null;
    case "firstNotNull":
      return nums[0] ?? null;
    case "mean":
    case "avg":
      return nums.length > 0 ? nums.reduce((a, b) => a + b, 0) / nums.length : null;
    case "max":
      return nums.length > 0 ? Math.max(...nums) : null;
    case "min":
      return nums.length > 0 ? Math.min(...nums) : null;
    case "sum":
    case "total":
      return nums.length > 0 ? nums.reduce((a, b) => a + b, 0) : null;
    case "count":
      return nums.length;
    case "range":
      return nums.length > 0 ? Math.max(...nums) - Math.min(...nums) : null;
    case "diff":
      return nums.length > 0 ? nums[nums.length - 1]! - nums[0]! : null;
    default:
      return nums.length > 0 ? nums[nums.length - 1]! : null;
  }
}
