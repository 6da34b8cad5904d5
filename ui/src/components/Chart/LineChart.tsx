// A time-series chart on uPlot. The uPlot instance is created once per "shape" (the list of
// series and the axis settings) and later fed with setData, so a refresh does not rebuild the
// canvas. Below it, a legend built by Preact (text only) toggles series; a tooltip plugin shows
// the values under the cursor; dragging selects a time range and reports it through `onZoom`.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { formatValue } from "../../format/units";
import { seriesColor } from "../../hooks/uplot/palette";
import { tooltipPlugin } from "../../hooks/uplot/tooltip";

/** One line. */
export interface ChartSeries {
  /** Legend text. */
  label: string;
  /** Values aligned with the chart's timestamps; `null` is a gap. */
  values: (number | null)[];
}

/** Props of LineChart. */
export interface LineChartProps {
  /** Unix seconds, ascending. */
  timestamps: number[];
  /** The lines. */
  series: ChartSeries[];
  /** The x range to show (unix seconds), usually the query range; defaults to the data's. */
  xRange?: [number, number];
  /** Grafana unit of the values. */
  unit?: string;
  /** Fixed decimals. */
  decimals?: number;
  /** Fixed y minimum. */
  min?: number;
  /** Fixed y maximum. */
  max?: number;
  /** Draw steps instead of slopes (e.g. replica counts). */
  stepped?: boolean;
  /** Height in pixels of the plot area. */
  height?: number;
  /** Called with a dragged range in epoch ms. */
  onZoom?: (startMs: number, endMs: number) => void;
  /** Hide the legend (e.g. for sparklines). */
  hideLegend?: boolean;
}

/** Smallest drag in pixels that counts as a zoom rather than a click. */
const MIN_DRAG_PX = 5;

/** A time-series chart. */
export function LineChart(props: LineChartProps) {
  const { timestamps, series, unit = "", decimals, min, max, stepped = false, height = 220 } = props;
  const wrap = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const onZoom = useRef(props.onZoom);
  onZoom.current = props.onZoom;
  const [hidden, setHidden] = useState<Set<string>>(new Set());

  const shape = useMemo(
    () => JSON.stringify([series.map((s) => s.label), unit, decimals, min, max, stepped, height]),
    [series, unit, decimals, min, max, stepped, height],
  );

  const data = useMemo<uPlot.AlignedData>(
    () => [timestamps, ...series.map((s) => s.values)] as uPlot.AlignedData,
    [timestamps, series],
  );

  // Create (or re-create when the shape changes).
  useEffect(() => {
    const el = wrap.current;
    if (!el) return undefined;
    const fmt = (v: number | null) => formatValue(v, unit, decimals);
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 100),
      height,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        x: { time: true },
        y: {
          range: (_u, dmin, dmax) => {
            const lo = min ?? (dmin === dmax ? dmin - 1 : dmin);
            const hi = max ?? (dmin === dmax ? dmax + 1 : dmax);
            return [Math.min(lo, min ?? 0, hi), hi];
          },
        },
      },
      axes: [
        { stroke: "#9aa0a6", grid: { stroke: "#2c3235", width: 1 }, ticks: { stroke: "#2c3235" } },
        {
          stroke: "#9aa0a6",
          grid: { stroke: "#2c3235", width: 1 },
          ticks: { stroke: "#2c3235" },
          size: 70,
          values: (_u, splits) => splits.map((v) => fmt(v)),
        },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: seriesColor(i),
          width: 1.5,
          show: !hidden.has(s.label),
          spanGaps: false,
          points: { show: false },
          ...(stepped ? { paths: uPlot.paths.stepped?.({ align: 1 }) } : {}),
        })),
      ],
      plugins: [tooltipPlugin(fmt)],
      hooks: {
        setSelect: [
          (u: uPlot) => {
            const sel = u.select;
            if (sel.width >= MIN_DRAG_PX && onZoom.current) {
              const a = u.posToVal(sel.left, "x");
              const b = u.posToVal(sel.left + sel.width, "x");
              onZoom.current(Math.round(a * 1000), Math.round(b * 1000));
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      u.setSize({ width: Math.max(el.clientWidth, 100), height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // `data` and `hidden` are applied by the effects below, not by re-creating.
  }, [shape]);

  // Feed new data into the existing instance.
  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.setData(data, false);
    const [x0, x1] = props.xRange ?? [timestamps[0] ?? 0, timestamps[timestamps.length - 1] ?? 1];
    u.setScale("x", { min: x0, max: x1 });
  }, [data, shape, props.xRange?.[0], props.xRange?.[1]]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    series.forEach((s, i) => u.setSeries(i + 1, { show: !hidden.has(s.label) }));
  }, [hidden, shape]);

  const toggle = (label: string, only: boolean) => {
    setHidden((h) => {
      if (only) {
        // Grafana: ctrl/cmd-click shows only that series (again: shows all).
        const others = series.map((s) => s.label).filter((l) => l !== label);
        const alreadyOnly = others.every((l) => h.has(l)) && !h.has(label);
        return alreadyOnly ? new Set() : new Set(others);
      }
      const next = new Set(h);
      if (next.has(label)) next.delete(label);
      else next.add(label);
      return next;
    });
  };

  return (
    <div class="line-chart">
      <div class="chart-canvas" ref={wrap} />
      {!props.hideLegend && series.length > 0 && (
        <ul class="chart-legend">
          {series.map((s, i) => (
            <li
              key={s.label}
              class={hidden.has(s.label) ? "legend-item off" : "legend-item"}
              title="Click to hide/show; Ctrl+click to show only this"
              onClick={(e) => toggle(s.label, e.ctrlKey || e.metaKey)}
            >
              <span class="legend-swatch" style={{ background: seriesColor(i) }} />
              {s.label}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
