// A uPlot plugin that shows the values under the cursor in a tooltip. The tooltip's content is
// built with textContent only: series names come from label values, which are data.

import uPlot from "uplot";

/** Formats a value for the tooltip. */
export type ValueFormatter = (v: number | null) => string;

/** Creates the tooltip plugin. */
export function tooltipPlugin(format: ValueFormatter): uPlot.Plugin {
  let tip: HTMLDivElement | null = null;

  const render = (u: uPlot) => {
    if (!tip) return;
    const idx = u.cursor.idx;
    const left = u.cursor.left ?? -1;
    if (idx === null || idx === undefined || left < 0) {
      tip.style.display = "none";
      return;
    }
    const t = u.data[0][idx];
    tip.replaceChildren();
    const head = document.createElement("div");
    head.className = "tt-time";
    head.textContent = t === undefined ? "" : new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19);
    tip.appendChild(head);
    // Largest values first, like Grafana's "sort descending" tooltip; at most 20 rows.
    const rows: { label: string; value: number | null; color: string }[] = [];
    u.series.forEach((s, i) => {
      if (i === 0 || !s.show) return;
      const col = u.data[i];
      const v = col ? (col[idx] ?? null) : null;
      rows.push({ label: String(s.label ?? ""), value: v, color: String(s.stroke ?? "") });
    });
    rows.sort((a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity));
    for (const r of rows.slice(0, 20)) {
      const row = document.createElement("div");
      row.className = "tt-row";
      const sw = document.createElement("span");
      sw.className = "tt-swatch";
      sw.style.background = r.color;
      const name = document.createElement("span");
      name.className = "tt-name";
      name.textContent = r.label;
      const val = document.createElement("span");
      val.className = "tt-value";
      val.textContent = format(r.value);
      row.append(sw, name, val);
      tip.appendChild(row);
    }
    tip.style.display = "block";
    const over = u.over.getBoundingClientRect();
    const flip = left > over.width / 2;
    tip.style.left = flip ? "" : `${left + 12}px`;
    tip.style.right = flip ? `${over.width - left + 12}px` : "";
    tip.style.top = `${(u.cursor.top ?? 0) + 8}px`;
  };

  return {
    hooks: {
      init: (u: uPlot) => {
        tip = document.createElement("div");
        tip.className = "chart-tooltip";
        tip.style.display = "none";
        u.over.appendChild(tip);
        u.over.addEventListener("mouseleave", () => {
          if (tip) tip.style.display = "none";
        });
      },
      setCursor: render,
    },
  };
}
