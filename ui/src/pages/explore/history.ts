// Query history: the last HISTORY_SIZE distinct queries run, newest first, kept in
// localStorage. A query run again moves to the front instead of appearing twice. Storage
// failures (private mode, quota, malformed JSON) leave an empty or unchanged history rather
// than breaking the page.

/** Queries kept. */
export const HISTORY_SIZE = 50;
/** The localStorage key. */
export const HISTORY_KEY = "tetrad.explore.history";
/** Longest query kept; longer ones are not stored (they would crowd out the rest). */
export const MAX_QUERY_LENGTH = 10_000;

/** The part of the Storage API used. */
export interface KeyValueStore {
  /** Reads a value. */
  getItem(key: string): string | null;
  /** Writes a value. */
  setItem(key: string, value: string): void;
}

/** Adds `expr` at the front of `history`, without duplicates, capped at HISTORY_SIZE. */
export function pushHistory(history: readonly string[], expr: string): string[] {
  const q = expr.trim();
  if (q === "" || q.length > MAX_QUERY_LENGTH) return [...history];
  return [q, ...history.filter((h) => h !== q)].slice(0, HISTORY_SIZE);
}

/** Reads the history; anything unreadable is an empty history. */
export function loadHistory(store: KeyValueStore | undefined): string[] {
  try {
    const raw = store?.getItem(HISTORY_KEY);
    if (!raw) return [];
    const v: unknown = JSON.parse(raw);
    if (!Array.isArray(v)) return [];
    return v.filter((x): x is string => typeof x === "string").slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

/** Writes the history; a failing store is ignored. */
export function saveHistory(store: KeyValueStore | undefined, history: readonly string[]): void {
  try {
    store?.setItem(HISTORY_KEY, JSON.stringify(history.slice(0, HISTORY_SIZE)));
  } catch {
    // Quota or privacy settings: history is a convenience, the query still runs.
  }
}

/** The browser's localStorage when it is usable. */
export function browserStore(): KeyValueStore | undefined {
  try {
    return typeof window !== "undefined" ? window.localStorage : undefined;
  } catch {
    return undefined;
  }
}
