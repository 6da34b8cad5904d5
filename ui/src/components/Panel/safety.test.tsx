// Text from data (label values, series names, titles, text panels) must reach the page as text.
// These render the panel bodies to HTML and check that markup in the data comes out escaped.

import { renderToString } from "preact-render-to-string";
import { describe, expect, it } from "vitest";
import { parseDashboard } from "../../dashboard/model";
import type { PanelData } from "../../dashboard/query";
import type { ResolvedVariable } from "../../dashboard/variables";
import { VariablePicker } from "../VariablePicker";
import { BarGaugePanel } from "./BarGaugePanel";
import { StatPanel } from "./StatPanel";
import { TablePanel } from "./TablePanel";
import { TextPanel } from "./TextPanel";

const EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>';

function panelOf(type: string) {
  const d = parseDashboard({ panels: [{ type, title: EVIL, gridPos: { x: 0, y: 0, w: 12, h: 8 }, targets: [{ expr: "x" }] }] });
  return d.rows[0]!.panels[0]!;
}

const data: PanelData = {
  series: [{ refId: "A", name: EVIL, labels: { path: EVIL }, timestamps: [1, 2], values: [1, 2] }],
  rows: [{ refId: "A", name: EVIL, labels: { path: EVIL }, value: 3 }],
  sent: [],
  errors: [],
  notices: [],
};

function assertEscaped(html: string) {
  expect(html).not.toContain("<script>");
  expect(html).not.toContain("<img");
  expect(html).toContain("&lt;script>");
}

describe("data is rendered as text", () => {
  it("in stat, bar gauge and table panels", () => {
    assertEscaped(renderToString(<StatPanel panel={panelOf("stat")} data={data} />));
    assertEscaped(renderToString(<BarGaugePanel panel={panelOf("bargauge")} data={data} />));
    assertEscaped(renderToString(<TablePanel panel={panelOf("table")} data={data} />));
  });

  it("in text panels, in every mode", () => {
    for (const mode of ["markdown", "html", "code"]) {
      assertEscaped(renderToString(<TextPanel mode={mode} content={`# Title\n\n${EVIL}`} />));
    }
  });

  it("in variable dropdowns", () => {
    const v: ResolvedVariable = {
      model: {
        name: "path",
        label: EVIL,
        type: "custom",
        query: "",
        multi: false,
        includeAll: false,
        allValue: undefined,
        current: [],
        hide: 0,
        regex: "",
        sort: 0,
        auto: false,
        autoCount: 30,
        autoMin: "10s",
      },
      options: [{ text: EVIL, value: EVIL }],
      selected: [EVIL],
    };
    assertEscaped(renderToString(<VariablePicker variables={[v]} />));
  });
});
