// Loads data for a component: re-runs when `deps` change, aborts the previous request, and
// exposes loading/error/data without throwing into rendering.

import { useEffect, useState } from "preact/hooks";

/** The state of a load. */
export interface FetchState<T> {
  /** The last successful result. */
  data: T | undefined;
  /** The last failure's message, or undefined. */
  error: string | undefined;
  /** Whether a request is running. */
  loading: boolean;
}

/** Runs `load` whenever `deps` change. */
export function useFetch<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): FetchState<T> {
  const [state, setState] = useState<FetchState<T>>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ data, error: undefined, loading: false });
      },
      (e: unknown) => {
        if (ctrl.signal.aborted) return;
        setState((s) => ({ data: s.data, error: e instanceof Error ? e.message : String(e), loading: false }));
      },
    );
    return () => ctrl.abort();
    // eslint-style exhaustive deps do not apply: callers pass exactly what the load depends on.
  }, deps);
  return state;
}
