// Targets grouped by scrape pool (job) as Prometheus' /targets page shows them, with the
// health filter and text search applied. Pure functions, so the page only renders.

import type { ActiveTarget } from "../../api/prometheus";

/** Which targets to show. */
export type HealthFilter = "all" | "unhealthy";

/** One job's targets. */
export interface TargetGroup {
  /** The scrape pool. */
  job: string;
  /** Targets up, among all of the job (before filtering). */
  up: number;
  /** All targets of the job (before filtering). */
  total: number;
  /** The targets that pass the filter, by endpoint. */
  targets: ActiveTarget[];
}

/** Whether `t` matches the search text: endpoint, labels (`name="value"` or either part), error. */
export function matchesSearch(t: ActiveTarget, search: string): boolean {
  const q = search.trim().toLowerCase();
  if (q === "") return true;
  const hay = [t.scrapeUrl, t.lastError, ...Object.entries(t.labels).map(([k, v]) => `${k}="${v}"`)];
  return hay.some((h) => h.toLowerCase().includes(q));
}

/** Groups `targets` by job (sorted), filtering each group; jobs with nothing left are dropped. */
export function groupTargets(targets: readonly ActiveTarget[], health: HealthFilter, search: string): TargetGroup[] {
  const byJob = new Map<string, ActiveTarget[]>();
  for (const t of targets) {
    const list = byJob.get(t.scrapePool) ?? [];
    list.push(t);
    byJob.set(t.scrapePool, list);
  }
  const out: TargetGroup[] = [];
  for (const job of [...byJob.keys()].sort()) {
    const all = byJob.get(job) ?? [];
    const shown = all
      .filter((t) => (health === "all" ? true : t.health !== "up"))
      .filter((t) => matchesSearch(t, search))
      .sort((a, b) => a.scrapeUrl.localeCompare(b.scrapeUrl));
    if (shown.length === 0) continue;
    out.push({ job, up: all.filter((t) => t.health === "up").length, total: all.length, targets: shown });
  }
  return out;
}

/** "3.2s ago" style text for an RFC 3339 time; "never" for Go's zero time or garbage. */
export function ago(rfc3339: string, nowMs: number): string {
  const t = Date.parse(rfc3339);
  if (Number.isNaN(t) || t <= 0) return "never";
  const s = Math.max(0, (nowMs - t) / 1000);
  if (s < 60) return `${s.toFixed(1)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.floor(s % 60)}s ago`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
}

/** A scrape duration in seconds as `12.3ms` or `1.234s`. */
export function formatScrapeDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)}ms` : `${seconds.toFixed(3)}s`;
}
