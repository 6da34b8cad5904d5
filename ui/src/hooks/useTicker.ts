// A counter that increases on a fixed interval, for pages that poll (targets, pipeline): pass it
// to useFetch's deps to reload.

import { useEffect, useState } from "preact/hooks";

/** Shortest interval accepted, so a bad URL value cannot hammer the server. */
export const MIN_TICK_MS = 1000;

/** Increases every `ms` (at least MIN_TICK_MS). */
export function useTicker(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const id = setInterval(() => setTick((t) => t + 1), Math.max(MIN_TICK_MS, ms));
    return () => clearInterval(id);
  }, [ms]);
  return tick;
}
