// Bar gauge panel: one horizontal bar per value. In `gradient` mode with the continuous
// green→yellow→red colour scheme, each bar fades from green to the colour of its value, so the
// slowest endpoints stand out in red.

import { greenYellowRed, resolveColor, thresholdColor } from "../../dashboard/thresholds";
import { formatValue } from "../../format/units";
import type { PanelBodyProps } from "./StatPanel";
import { displayValues, valueBounds } from "./values";

/** The colour of a bar at fraction `f` of the scale. */
export function barColor(panelColorMode: string, f: number, thresholdCss: string): string {
  return panelColorMode.startsWith("continuous-GrYlRd") ? greenYellowRed(f) : thresholdCss;
}

/** A bar gauge panel. */
export function BarGaugePanel({ panel, data }: PanelBodyProps) {
  const values = displayValues(panel, data);
  if (values.length === 0) return <div class="panel-nodata">No data</div>;
  const [min, max] = valueBounds(panel, values);
  const green = resolveColor("green");
  return (
    <div class="bargauge">
      {values.slice(0, 100).map((v, i) => {
        const f = v.value === null ? 0 : Math.min(Math.max((v.value - min) / (max - min), 0), 1);
        const color = barColor(panel.field.colorMode, f, thresholdColor(v.value, panel.field.thresholds, min, max));
        const fill =
          panel.displayMode === "gradient" ? `linear-gradient(to right, ${green}, ${color})` : color;
        return (
          <div class="bar-row" key={`${v.name}-${i}`}>
            <div class="bar-name" title={v.name}>
              {v.name}
            </div>
            <div class="bar-track">
              <div class="bar-fill" style={{ width: `${(f * 100).toFixed(2)}%`, background: fill }} />
            </div>
            <div class="bar-value" style={{ color }}>
              {formatValue(v.value, panel.field.unit, panel.field.decimals)}
            </div>
          </div>
        );
      })}
    </div>
  );
}
