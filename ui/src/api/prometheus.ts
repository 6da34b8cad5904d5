// Typed calls of the Prometheus HTTP API that tetrad serves (see docs/querying/api.md):
// one function per endpoint, times in epoch milliseconds on our side, seconds on the wire.

import { fetchData, withQuery } from "./client";

/** A label set. */
export type Labels = Record<string, string>;

/** One sample as Prometheus encodes it: `[unix seconds, "value"]`. */
export type SamplePair = [number, string];

/** An instant-vector element. */
export interface VectorSample {
  /** Labels, `__name__` included when present. */
  metric: Labels;
  /** The sample. */
  value: SamplePair;
}

/** A range-vector element. */
export interface MatrixSeries {
  /** Labels. */
  metric: Labels;
  /** Samples in time order. */
  values: SamplePair[];
}

/** The `data` of a query or query_range answer. */
export type QueryResult =
  | { resultType: "vector"; result: VectorSample[] }
  | { resultType: "matrix"; result: MatrixSeries[] }
  | { resultType: "scalar"; result: SamplePair }
  | { resultType: "string"; result: SamplePair };

const secs = (ms: number) => (ms / 1000).toFixed(3);

/** `GET /api/v1/query`. */
export function query(expr: string, timeMs?: number, signal?: AbortSignal): Promise<QueryResult> {
  return fetchData(
    withQuery("/api/v1/query", { query: expr, time: timeMs === undefined ? undefined : secs(timeMs) }),
    signal,
  );
}

/** `GET /api/v1/query_range`; `stepMs` in milliseconds. */
export function queryRange(
  expr: string,
  startMs: number,
  endMs: number,
  stepMs: number,
  signal?: AbortSignal,
): Promise<QueryResult> {
  return fetchData(
    withQuery("/api/v1/query_range", {
      query: expr,
      start: secs(startMs),
      end: secs(endMs),
      step: (stepMs / 1000).toString(),
    }),
    signal,
  );
}

/** Optional selectors and time bounds shared by the metadata endpoints. */
export interface MatchOptions {
  /** `match[]` selectors. */
  match?: string[];
  /** Start, ms. */
  startMs?: number;
  /** End, ms. */
  endMs?: number;
}

function matchQuery(o: MatchOptions) {
  return {
    "match[]": o.match,
    start: o.startMs === undefined ? undefined : secs(o.startMs),
    end: o.endMs === undefined ? undefined : secs(o.endMs),
  };
}

/** `GET /api/v1/labels`. */
export function labelNames(o: MatchOptions = {}, signal?: AbortSignal): Promise<string[]> {
  return fetchData(withQuery("/api/v1/labels", matchQuery(o)), signal);
}

/** `GET /api/v1/label/<name>/values`. */
export function labelValues(name: string, o: MatchOptions = {}, signal?: AbortSignal): Promise<string[]> {
  return fetchData(withQuery(`/api/v1/label/${encodeURIComponent(name)}/values`, matchQuery(o)), signal);
}

/** `GET /api/v1/series`. */
export function series(o: MatchOptions, signal?: AbortSignal): Promise<Labels[]> {
  return fetchData(withQuery("/api/v1/series", matchQuery(o)), signal);
}

/** One active target of `/api/v1/targets`. */
export interface ActiveTarget {
  /** Labels before relabeling. */
  discoveredLabels: Labels;
  /** Labels after relabeling. */
  labels: Labels;
  /** Scrape pool (job). */
  scrapePool: string;
  /** URL scraped. */
  scrapeUrl: string;
  /** Global URL. */
  globalUrl?: string;
  /** Last scrape error, or "". */
  lastError: string;
  /** RFC 3339 time of the last scrape. */
  lastScrape: string;
  /** Seconds the last scrape took. */
  lastScrapeDuration: number;
  /** `up`, `down` or `unknown`. */
  health: "up" | "down" | "unknown";
  /** Interval, e.g. `15s`. */
  scrapeInterval: string;
  /** Timeout, e.g. `10s`. */
  scrapeTimeout: string;
}

/** The `data` of `/api/v1/targets`. */
export interface TargetsData {
  /** Targets being scraped. */
  activeTargets: ActiveTarget[];
  /** Targets dropped by relabeling. */
  droppedTargets: { discoveredLabels: Labels }[];
}

/** `GET /api/v1/targets`. */
export function targets(state?: "active" | "dropped" | "any", signal?: AbortSignal): Promise<TargetsData> {
  return fetchData(withQuery("/api/v1/targets", { state }), signal);
}

/** The `data` of `/api/v1/status/buildinfo`. */
export interface BuildInfo {
  /** Version. */
  version: string;
  /** Revision. */
  revision: string;
  /** Branch. */
  branch: string;
  /** Who built it. */
  buildUser: string;
  /** When. */
  buildDate: string;
  /** Compiler. */
  goVersion: string;
}

/** `GET /api/v1/status/buildinfo`. */
export function buildInfo(signal?: AbortSignal): Promise<BuildInfo> {
  return fetchData("/api/v1/status/buildinfo", signal);
}
