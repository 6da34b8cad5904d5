// `GET /api/tetrad/pipeline` (crates/api/src/pipeline.rs): tetrad's running components.

import { fetchData } from "../../api/client";

/** A component's health. */
export type ComponentState = "healthy" | "degraded" | "down";

/** One running component. */
export interface PipelineComponent {
  /** `<kind>.<name>`. */
  id: string;
  /** `scrape`, `receiver`, `service` or `store`. */
  kind: string;
  /** Display name. */
  name: string;
  /** Health. */
  state: ComponentState;
  /** Items per second, null until the server has two observations. */
  throughput: number | null;
  /** What throughput counts, e.g. `samples/s`. */
  unit: string;
  /** Errors: failed requests, targets down, restarts. */
  errors: number;
  /** Further figures as text. */
  detail: Record<string, string>;
}

/** The endpoint's `data`. */
export interface PipelineData {
  /** Every component. */
  components: PipelineComponent[];
}

/** Fetches the pipeline. */
export function pipeline(signal?: AbortSignal): Promise<PipelineData> {
  return fetchData("/api/tetrad/pipeline", signal);
}

/** Kinds in display order, with their section titles. */
export const KIND_TITLES: readonly (readonly [string, string])[] = [
  ["receiver", "Receivers"],
  ["scrape", "Scrape jobs"],
  ["service", "Services"],
  ["store", "Stores"],
];

/** Components grouped by kind in KIND_TITLES order (unknown kinds last), each sorted by name. */
export function groupByKind(components: readonly PipelineComponent[]): { kind: string; title: string; items: PipelineComponent[] }[] {
  const known = new Map(KIND_TITLES);
  const kinds = [...KIND_TITLES.map(([k]) => k), ...[...new Set(components.map((c) => c.kind))].filter((k) => !known.has(k)).sort()];
  return kinds
    .map((kind) => ({
      kind,
      title: known.get(kind) ?? kind,
      items: components.filter((c) => c.kind === kind).sort((a, b) => a.name.localeCompare(b.name)),
    }))
    .filter((g) => g.items.length > 0);
}

/** Throughput as text: `12.3 samples/s`, `—` when unknown. */
export function formatThroughput(c: Pick<PipelineComponent, "throughput" | "unit">): string {
  if (c.throughput === null || !Number.isFinite(c.throughput)) return "—";
  const v = c.throughput;
  const n = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return c.unit ? `${n} ${c.unit}` : n;
}
