// Time series panel: the panel's range series on one uPlot chart; dragging zooms the dashboard.

import { useMemo } from "preact/hooks";
import { toColumns } from "../../dashboard/query";
import { setTimeRange } from "../../hooks/useTimeRange";
import type { TimeRange } from "../../state/time";
import { LineChart, type ChartSeries } from "../Chart/LineChart";
import type { PanelBodyProps } from "./StatPanel";

/** Props of TimeseriesPanel. */
export interface TimeseriesPanelProps extends PanelBodyProps {
  /** The dashboard range (the x axis). */
  range: TimeRange;
  /** Plot height in pixels. */
  height: number;
}

/** Makes legend names unique (the legend toggles series by name). */
export function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n} (${k})`;
  });
}

/** A time series panel. */
export function TimeseriesPanel({ panel, data, range, height }: TimeseriesPanelProps) {
  const { timestamps, series } = useMemo(() => {
    const cols = toColumns(
      data.series,
      data.sent.map((s) => s.timing),
    );
    const names = uniqueNames(data.series.map((s) => s.name));
    const series: ChartSeries[] = cols.columns.map((values, i) => ({ label: names[i] ?? "", values }));
    return { timestamps: cols.timestamps, series };
  }, [data]);
  const interp = panel.field.lineInterpolation;
  return (
    <LineChart
      timestamps={timestamps}
      series={series}
      xRange={[range.start / 1000, range.end / 1000]}
      unit={panel.field.unit}
      decimals={panel.field.decimals}
      min={panel.field.min}
      max={panel.field.max}
      stepped={interp === "stepAfter" || interp === "stepBefore"}
      height={height}
      onZoom={(start, end) => setTimeRange({ from: String(start), to: String(end) })}
    />
  );
}
