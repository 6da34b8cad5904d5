// Stat panel: a big value per series, coloured by thresholds, with a sparkline.

import type { Panel } from "../../dashboard/model";
import type { PanelData } from "../../dashboard/query";
import { thresholdColor } from "../../dashboard/thresholds";
import { formatValue } from "../../format/units";
import { Sparkline } from "./Sparkline";
import { displayValues, valueBounds } from "./values";

/** Props of a panel body. */
export interface PanelBodyProps {
  /** The panel. */
  panel: Panel;
  /** Its data. */
  data: PanelData;
}

/** A stat panel. */
export function StatPanel({ panel, data }: PanelBodyProps) {
  const values = displayValues(panel, data);
  if (values.length === 0) return <div class="panel-nodata">No data</div>;
  const [min, max] = valueBounds(panel, values);
  return (
    <div class="stat-grid">
      {values.slice(0, 50).map((v, i) => {
        const color = thresholdColor(v.value, panel.field.thresholds, min, max);
        return (
          <div class="stat" key={`${v.name}-${i}`}>
            {values.length > 1 && <div class="stat-name">{v.name}</div>}
            <div class="stat-value" style={{ color }}>
              {formatValue(v.value, panel.field.unit, panel.field.decimals)}
            </div>
            {panel.graphMode !== "none" && <Sparkline values={v.history} color={color} />}
          </div>
        );
      })}
    </div>
  );
}
