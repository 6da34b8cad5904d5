// Gauge panel: a 240° arc per value, filled to the value in its threshold colour.

import { thresholdColor } from "../../dashboard/thresholds";
import { formatValue } from "../../format/units";
import type { PanelBodyProps } from "./StatPanel";
import { displayValues, valueBounds } from "./values";

/** The SVG arc path from angle a0 to a1 (degrees, 0 = up, clockwise) on a circle at (50,50). */
function arc(a0: number, a1: number, r: number): string {
  const p = (a: number) => {
    const rad = ((a - 90) * Math.PI) / 180;
    return `${(50 + r * Math.cos(rad)).toFixed(2)},${(50 + r * Math.sin(rad)).toFixed(2)}`;
  };
  const large = a1 - a0 > 180 ? 1 : 0;
  return `M${p(a0)} A${r},${r} 0 ${large} 1 ${p(a1)}`;
}

/** A gauge panel. */
export function GaugePanel({ panel, data }: PanelBodyProps) {
  const values = displayValues(panel, data);
  if (values.length === 0) return <div class="panel-nodata">No data</div>;
  const [min, max] = valueBounds(panel, values);
  return (
    <div class="gauge-grid">
      {values.slice(0, 20).map((v, i) => {
        const f = v.value === null ? 0 : Math.min(Math.max((v.value - min) / (max - min), 0), 1);
        const color = thresholdColor(v.value, panel.field.thresholds, min, max);
        return (
          <div class="gauge" key={`${v.name}-${i}`}>
            <svg viewBox="0 0 100 85" aria-hidden="true">
              <path d={arc(-120, 120, 40)} stroke="#2c3235" stroke-width="10" fill="none" />
              {f > 0.001 && <path d={arc(-120, -120 + 240 * f, 40)} stroke={color} stroke-width="10" fill="none" />}
              <text x="50" y="56" text-anchor="middle" fill={color} font-size="14">
                {formatValue(v.value, panel.field.unit, panel.field.decimals)}
              </text>
            </svg>
            {values.length > 1 && <div class="gauge-name">{v.name}</div>}
          </div>
        );
      })}
    </div>
  );
}
