// Prometheus' status endpoints as tetrad serves them (crates/api/src/status.rs).

import { fetchData } from "../../api/client";

/** `/api/v1/status/runtimeinfo`. */
export interface RuntimeInfo {
  /** RFC 3339. */
  startTime: string;
  /** Working directory. */
  CWD: string;
  /** Whether the last config load succeeded. */
  reloadConfigSuccess: boolean;
  /** RFC 3339. */
  lastConfigTime: string;
  /** Corrupted WAL records. */
  corruptionCount: number;
  /** Live tokio tasks. */
  goroutineCount: number;
  /** Cores. */
  GOMAXPROCS: number;
  /** Always "". */
  GOGC: string;
  /** Always "". */
  GODEBUG: string;
  /** e.g. `15d`. */
  storageRetention: string;
}

/** A name/count pair of the TSDB status. */
export interface Stat {
  /** Name. */
  name: string;
  /** Count. */
  value: number;
}

/** `/api/v1/status/tsdb`. */
export interface TsdbStatus {
  /** Head figures. */
  headStats: { numSeries: number; numLabelPairs: number; chunkCount: number; minTime: number; maxTime: number };
  /** Top series counts by metric name. */
  seriesCountByMetricName: Stat[];
  /** Top value counts by label name. */
  labelValueCountByLabelName: Stat[];
  /** Top value bytes by label name. */
  memoryInBytesByLabelName: Stat[];
  /** Top series counts by label pair. */
  seriesCountByLabelValuePair: Stat[];
}

/** `/api/v1/status/runtimeinfo`. */
export const runtimeInfo = (s?: AbortSignal) => fetchData<RuntimeInfo>("/api/v1/status/runtimeinfo", s);
/** `/api/v1/status/flags`. */
export const flags = (s?: AbortSignal) => fetchData<Record<string, string>>("/api/v1/status/flags", s);
/** `/api/v1/status/config`. */
export const config = (s?: AbortSignal) => fetchData<{ yaml: string }>("/api/v1/status/config", s);
/** `/api/v1/status/tsdb`. */
export const tsdbStatus = (s?: AbortSignal) => fetchData<TsdbStatus>("/api/v1/status/tsdb", s);

/** A head time in ms as ISO text; Prometheus' empty-head sentinels (±2^63) read as "—". */
export function headTime(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) >= 9.2e18) return "—";
  return new Date(ms).toISOString();
}
