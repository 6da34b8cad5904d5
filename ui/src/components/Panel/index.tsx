// A dashboard panel: the frame (title, description, Explore link, loading and error marks) and
// the body for its type. Data is loaded here, again whenever the interpolated queries, the
// range or the refresh tick change; the previous data stays on screen while reloading.

import { useEffect, useMemo, useState } from "preact/hooks";
import type { Panel as PanelModel } from "../../dashboard/model";
import { prepareTarget, runPanelQueries, type PanelData } from "../../dashboard/query";
import { interpolate, type ResolvedVariable } from "../../dashboard/variables";
import { buildHref } from "../../state/url";
import type { RawTimeRange, TimeRange } from "../../state/time";
import { Link } from "../Link";
import { BarGaugePanel } from "./BarGaugePanel";
import { GaugePanel } from "./GaugePanel";
import { StatPanel } from "./StatPanel";
import { TablePanel } from "./TablePanel";
import { TextPanel } from "./TextPanel";
import { TimeseriesPanel } from "./TimeseriesPanel";

/** Grafana's grid: one row unit is 30 px, panels are 8 px apart. */
export const ROW_PX = 30;
/** Gap between grid cells. */
export const GAP_PX = 8;
/** Height of a panel's header. */
const HEADER_PX = 30;

/** Props of Panel. */
export interface PanelProps {
  /** The panel. */
  panel: PanelModel;
  /** Resolved variables. */
  variables: Record<string, ResolvedVariable>;
  /** The range, resolved. */
  range: TimeRange;
  /** The range as in the URL, for the Explore link. */
  raw: RawTimeRange;
  /** Changes on every refresh. */
  tick: number;
  /** Panel width in pixels. */
  widthPx: number;
}

const EMPTY: PanelData = { series: [], rows: [], sent: [], errors: [], notices: [] };

/** One panel. */
export function Panel({ panel, variables, range, raw, tick, widthPx }: PanelProps) {
  const [data, setData] = useState<PanelData>(EMPTY);
  const [loading, setLoading] = useState(false);
  const [failure, setFailure] = useState("");
  const ctx = { variables, range, widthPx };
  const title = interpolate(panel.title, { variables, builtins: {} }, true);
  const hasQueries = panel.type !== "text" && panel.type !== "unsupported";

  // The queries as they will be sent: the effect below reruns only when this text changes.
  const sentKey = useMemo(
    () =>
      hasQueries
        ? JSON.stringify(
            panel.targets.filter((t) => !t.hide).map((t) => {
              const s = prepareTarget(panel, t, ctx);
              return [s.expr, s.timing.start, s.timing.end, s.timing.stepMs, t.instant];
            }),
          )
        : "",
    [panel, variables, range.start, range.end, widthPx],
  );

  useEffect(() => {
    if (!hasQueries) return undefined;
    const ctrl = new AbortController();
    setLoading(true);
    runPanelQueries(panel, ctx, ctrl.signal).then(
      (d) => {
        if (ctrl.signal.aborted) return;
        setData(d);
        setFailure("");
        setLoading(false);
      },
      (e: unknown) => {
        if (ctrl.signal.aborted) return;
        setFailure(e instanceof Error ? e.message : String(e));
        setLoading(false);
      },
    );
    return () => ctrl.abort();
  }, [sentKey, tick]);

  const heightPx = panel.gridPos.h * ROW_PX + (panel.gridPos.h - 1) * GAP_PX;
  const bodyPx = heightPx - HEADER_PX - 8;
  const firstExpr = data.sent[0]?.expr ?? panel.targets.find((t) => !t.hide)?.expr ?? "";
  const explore = buildHref("/explore", { expr: [firstExpr], from: [raw.from], to: [raw.to] });
  const errors = failure ? [failure, ...data.errors] : data.errors;

  return (
    <div class="panel" data-panel-type={panel.originalType} data-panel-title={title}>
      <div class="panel-header">
        <span class="panel-title" title={panel.description || title}>
          {title}
        </span>
        {loading && <span class="panel-loading" title="Loading" />}
        {errors.length > 0 && (
          <span class="panel-error-mark" title={errors.join("\n")}>
            !
          </span>
        )}
        {data.notices.length > 0 && (
          <span class="panel-notice" title={data.notices.join("\n")}>
            i
          </span>
        )}
        {hasQueries && firstExpr && (
          <Link href={explore} class="panel-explore" title="Open the query in Explore">
            Explore
          </Link>
        )}
      </div>
      <div class="panel-body" style={{ height: `${bodyPx}px` }}>
        {errors.length > 0 && data.series.length === 0 && data.rows.length === 0 ? (
          <div class="panel-error">{errors.join("\n")}</div>
        ) : (
          body(panel, data, range, bodyPx, variables)
        )}
      </div>
    </div>
  );
}

function body(
  panel: PanelModel,
  data: PanelData,
  range: TimeRange,
  bodyPx: number,
  variables: Record<string, ResolvedVariable>,
) {
  switch (panel.type) {
    case "timeseries":
      return <TimeseriesPanel panel={panel} data={data} range={range} height={Math.max(bodyPx - 34, 60)} />;
    case "stat":
      return <StatPanel panel={panel} data={data} />;
    case "gauge":
      return <GaugePanel panel={panel} data={data} />;
    case "bargauge":
      return <BarGaugePanel panel={panel} data={data} />;
    case "table":
      return <TablePanel panel={panel} data={data} />;
    case "text":
      return (
        <TextPanel mode={panel.textMode} content={interpolate(panel.content, { variables, builtins: {} }, true)} />
      );
    case "unsupported":
      return (
        <div class="panel-unsupported">
          Panel type “{panel.originalType}” is not supported. tetrad renders timeseries, stat, gauge, bargauge,
          table and text panels.
        </div>
      );
  }
}
