// tetrad's dashboard provisioning API: the list of dashboards and one dashboard's Grafana JSON.

import { fetchData, fetchJson } from "./client";

/** One entry of `GET /api/tetrad/dashboards`. */
export interface DashboardSummary {
  /** Unique id; the page is `/d/<uid>`. */
  uid: string;
  /** Title. */
  title: string;
  /** Tags. */
  tags: string[];
  /** File it came from (`built-in` for the embedded service dashboard). */
  source: string;
  /** Why the file could not be loaded, when it could not. */
  error?: string;
}

/** `GET /api/tetrad/dashboards`. */
export function listDashboards(signal?: AbortSignal): Promise<DashboardSummary[]> {
  return fetchData("/api/tetrad/dashboards", signal);
}

/** `GET /api/tetrad/dashboards/<uid>`: the dashboard JSON exactly as stored (no envelope, so
 * the answer imports into Grafana as is), not yet validated. */
export function getDashboard(uid: string, signal?: AbortSignal): Promise<unknown> {
  return fetchJson(`/api/tetrad/dashboards/${encodeURIComponent(uid)}`, signal);
}
