// A dashboard page: loads the Grafana JSON of `/d/<uid>`, resolves its variables, and lays its
// rows and panels out on Grafana's 24-column grid. Rows collapse; panels reload on every
// change of range, variables or refresh tick.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { getDashboard } from "../../api/dashboards";
import { GAP_PX, Panel, ROW_PX } from "../../components/Panel";
import { TimePicker } from "../../components/TimePicker";
import { VariablePicker } from "../../components/VariablePicker";
import { parseDashboard, type Row } from "../../dashboard/model";
import { useFetch } from "../../hooks/useFetch";
import { useTimeRange } from "../../hooks/useTimeRange";
import { useVariables } from "../../hooks/useVariables";
import { interpolate, type ResolvedVariable } from "../../dashboard/variables";
import { updateParams, useLocation } from "../../state/url";
import type { RawTimeRange, TimeRange } from "../../state/time";

/** Props of DashboardPage. */
export interface DashboardPageProps {
  /** Dashboard uid from the path. */
  uid: string;
}

/** Hook: the width of an element, in steps of 40 px so small resizes do not reload panels. */
function useWidth(): [preact.RefObject<HTMLDivElement>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(typeof window === "undefined" ? 1200 : window.innerWidth - 32);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const measure = () => setWidth(Math.max(Math.round(el.clientWidth / 40) * 40, 320));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref.current]);
  return [ref, width];
}

interface SectionProps {
  row: Row;
  variables: Record<string, ResolvedVariable>;
  range: TimeRange;
  raw: RawTimeRange;
  tick: number;
  width: number;
}

function Section({ row, variables, range, raw, tick, width }: SectionProps) {
  const [collapsed, setCollapsed] = useState(row.collapsed);
  const title = interpolate(row.title, { variables, builtins: {} }, true);
  const colPx = (width - 23 * GAP_PX) / 24;
  return (
    <section class="dash-row">
      {row.id !== -1 && (
        <button type="button" class="row-header" onClick={() => setCollapsed(!collapsed)} aria-expanded={!collapsed}>
          <span class="row-caret">{collapsed ? "▸" : "▾"}</span>
          {title}
          {collapsed && <span class="muted"> ({row.panels.length} panels)</span>}
        </button>
      )}
      {!collapsed && (
        <div class="dash-grid" style={{ gridAutoRows: `${ROW_PX}px`, gap: `${GAP_PX}px` }}>
          {row.panels.map((p) => (
            <div
              key={p.id}
              class="dash-cell"
              style={{
                gridColumn: `${p.gridPos.x + 1} / span ${p.gridPos.w}`,
                gridRow: `${p.gridPos.y + 1} / span ${p.gridPos.h}`,
              }}
            >
              <Panel
                panel={p}
                variables={variables}
                range={range}
                raw={raw}
                tick={tick}
                widthPx={Math.round(colPx * p.gridPos.w + GAP_PX * (p.gridPos.w - 1))}
              />
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

/** One dashboard. */
export default function DashboardPage({ uid }: DashboardPageProps) {
  const { data, error } = useFetch((s) => getDashboard(uid, s), [uid]);
  const dash = useMemo(() => (data === undefined ? undefined : parseDashboard(data, uid)), [data, uid]);
  const { params } = useLocation();
  const { raw, range, tick } = useTimeRange();
  const vars = useVariables(dash, params, range, `${raw.from}|${raw.to}|${tick}`);
  const [gridRef, width] = useWidth();

  // The dashboard's saved range applies when the URL names none (replacing, not adding, history).
  useEffect(() => {
    if (!dash) return;
    if (params["from"] === undefined && params["to"] === undefined) {
      if (dash.time.from !== "now-1h" || dash.time.to !== "now") {
        updateParams({ from: dash.time.from, to: dash.time.to }, { replace: true });
      }
    }
  }, [dash]);

  useEffect(() => {
    if (dash) document.title = `${dash.title} · tetrad`;
  }, [dash]);

  return (
    <section class="dashboard" ref={gridRef}>
      <div class="dashboard-header">
        <h1>{dash?.title ?? uid}</h1>
        <TimePicker />
      </div>
      <VariablePicker variables={vars.list} />
      {error && (
        <p class="error">
          Could not load dashboard {uid}: {error}
        </p>
      )}
      {dash?.problems.map((p) => (
        <p class="muted" key={p}>
          {p}
        </p>
      ))}
      {dash && !vars.ready && <p class="muted">Loading variables…</p>}
      {dash &&
        vars.ready &&
        dash.rows.map((row) => (
          <Section
            key={row.id}
            row={row}
            variables={vars.byName}
            range={range}
            raw={raw}
            tick={tick}
            width={width}
          />
        ))}
    </section>
  );
}
