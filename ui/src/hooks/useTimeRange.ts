// The page's time range from the URL (`from`, `to`, `refresh`), resolved against a `now` that
// advances when the raw range changes, on each auto-refresh tick, and on a manual refresh.

import { useEffect, useMemo, useState } from "preact/hooks";
import { firstParam, updateParams, useLocation } from "../state/url";
import { parseInterval, rangeFromParams, resolveRange, type RawTimeRange, type TimeRange } from "../state/time";

/** What useTimeRange gives a page. */
export interface TimeRangeState {
  /** As in the URL. */
  raw: RawTimeRange;
  /** Resolved, ms. */
  range: TimeRange;
  /** Auto-refresh interval as in the URL (`""` = off). */
  refresh: string;
  /** Increases on every refresh, so loaders can depend on it. */
  tick: number;
}

let manualTick = 0;
const manualListeners = new Set<() => void>();

/** Asks every page using useTimeRange to reload now. */
export function refreshNow(): void {
  manualTick += 1;
  for (const l of manualListeners) l();
}

/** Hook: the current time range. */
export function useTimeRange(): TimeRangeState {
  const { params } = useLocation();
  const raw = rangeFromParams(params);
  const refresh = firstParam(params, "refresh", "");
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    manualListeners.add(l);
    return () => manualListeners.delete(l);
  }, []);

  useEffect(() => {
    const ms = refresh ? parseInterval(refresh) : null;
    // Intervals below a second would hammer the server; they are ignored like invalid ones.
    if (ms === null || ms < 1000) return undefined;
    const id = setInterval(() => setTick((t) => t + 1), ms);
    return () => clearInterval(id);
  }, [refresh]);

  // `now` is taken when the range or tick changes, not on every render, so panels agree.
  const range = useMemo(() => resolveRange(raw, Date.now()), [raw.from, raw.to, tick, manualTick]);
  return { raw, range, refresh, tick: tick + manualTick };
}

/** Sets the range in the URL (a new history entry, so back returns to the previous range). */
export function setTimeRange(raw: RawTimeRange): void {
  updateParams({ from: raw.from, to: raw.to });
}

/** Sets the auto-refresh interval (`""` turns it off). */
export function setRefresh(refresh: string): void {
  updateParams({ refresh: refresh === "" ? null : refresh }, { replace: true });
}
