// Targets, like Prometheus' /targets: one collapsible section per job with `2/3 up`, and per
// target its endpoint, health, labels (as text chips), last scrape, scrape duration and error.
// The URL holds the filter (`health=unhealthy`), the search text (`search`) and the collapsed
// jobs (`collapsed`, repeated). Refreshes every 10 seconds unless `refresh` says otherwise.

import { targets, type ActiveTarget } from "../../api/prometheus";
import { useFetch } from "../../hooks/useFetch";
import { useTicker } from "../../hooks/useTicker";
import { parseInterval } from "../../state/time";
import { firstParam, updateParams, useLocation } from "../../state/url";
import { ago, formatScrapeDuration, groupTargets, type HealthFilter } from "./model";
import "./targets.css";

/** Default auto-refresh. */
const DEFAULT_REFRESH_MS = 10_000;

/** The Targets page. */
export default function TargetsPage() {
  const { params } = useLocation();
  const health: HealthFilter = firstParam(params, "health") === "unhealthy" ? "unhealthy" : "all";
  const search = firstParam(params, "search");
  const collapsed = new Set(params["collapsed"] ?? []);
  const tick = useTicker(parseInterval(firstParam(params, "refresh")) ?? DEFAULT_REFRESH_MS);
  const { data, error, loading } = useFetch((s) => targets("active", s), [tick]);
  const groups = data ? groupTargets(data.activeTargets, health, search) : [];
  const now = Date.now();

  const toggle = (job: string) => {
    const next = new Set(collapsed);
    if (next.has(job)) next.delete(job);
    else next.add(job);
    updateParams({ collapsed: [...next].sort() }, { replace: true });
  };

  return (
    <section class="targets-page">
      <h1>Targets</h1>
      <div class="targets-toolbar">
        <div class="segmented" role="group" aria-label="Health filter">
          {(["all", "unhealthy"] as const).map((h) => (
            <button
              key={h}
              class={health === h ? "active" : ""}
              aria-pressed={health === h}
              onClick={() => updateParams({ health: h === "all" ? null : h }, { replace: true })}
            >
              {h === "all" ? "All" : "Unhealthy"}
            </button>
          ))}
        </div>
        <input
          type="search"
          class="targets-search"
          placeholder="Filter by endpoint, label or error"
          value={search}
          onInput={(e) => updateParams({ search: (e.currentTarget as HTMLInputElement).value || null }, { replace: true })}
        />
        {loading && <span class="muted">loading…</span>}
      </div>
      {error && <p class="error">Could not load targets: {error}</p>}
      {data && groups.length === 0 && (
        <p class="muted">{data.activeTargets.length === 0 ? "No targets are configured." : "No targets match."}</p>
      )}
      {groups.map((g) => {
        const open = !collapsed.has(g.job);
        return (
          <div class="target-group" key={g.job}>
            <button class="target-group-header" aria-expanded={open} onClick={() => toggle(g.job)}>
              <span class="chevron">{open ? "▾" : "▸"}</span>
              <span class="job-name">{g.job}</span>
              <span class={g.up === g.total ? "count ok" : "count bad"}>
                ({g.up}/{g.total} up)
              </span>
            </button>
            {open && <TargetTable targets={g.targets} now={now} />}
          </div>
        );
      })}
    </section>
  );
}

function TargetTable({ targets, now }: { targets: ActiveTarget[]; now: number }) {
  return (
    <table class="targets-table">
      <thead>
        <tr>
          <th>Endpoint</th>
          <th>State</th>
          <th>Labels</th>
          <th>Last scrape</th>
          <th>Scrape duration</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {targets.map((t) => (
          <tr key={t.scrapeUrl + JSON.stringify(t.labels)}>
            <td class="endpoint">{t.scrapeUrl}</td>
            <td>
              <span class={`health health-${t.health}`}>{t.health.toUpperCase()}</span>
            </td>
            <td>
              <div class="chips">
                {Object.entries(t.labels).map(([k, v]) => (
                  <span class="chip" key={k} title={`${k}="${v}"`}>
                    {k}="{v}"
                  </span>
                ))}
              </div>
            </td>
            <td title={t.lastScrape}>{ago(t.lastScrape, now)}</td>
            <td>{formatScrapeDuration(t.lastScrapeDuration)}</td>
            <td class="target-error">{t.lastError}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
