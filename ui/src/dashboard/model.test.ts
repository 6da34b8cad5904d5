import { describe, expect, it } from "vitest";
import serviceJson from "../../../dashboards/service.json";
import { parseDashboard, SUPPORTED_PANEL_TYPES } from "./model";

describe("dashboard JSON parsing", () => {
  it("parses rows, positions, targets and field config", () => {
    const d = parseDashboard({
      uid: "x",
      title: "X",
      time: { from: "now-6h", to: "now" },
      panels: [
        { type: "stat", id: 1, title: "Top", gridPos: { x: 0, y: 0, w: 6, h: 4 }, targets: [{ expr: "up" }] },
        { type: "row", id: 10, title: "Row A", collapsed: false, gridPos: { x: 0, y: 4, w: 24, h: 1 } },
        {
          type: "timeseries",
          id: 2,
          title: "Lat",
          gridPos: { x: 12, y: 5, w: 12, h: 8 },
          targets: [{ refId: "A", expr: "x", legendFormat: "{{path}}", interval: "30s" }],
          fieldConfig: {
            defaults: {
              unit: "s",
              min: 0,
              decimals: 2,
              thresholds: { mode: "absolute", steps: [{ color: "green", value: 5 }, { color: "red", value: 1 }] },
              custom: { lineInterpolation: "stepAfter" },
            },
          },
        },
        {
          type: "row",
          id: 11,
          title: "Collapsed",
          collapsed: true,
          gridPos: { x: 0, y: 13, w: 24, h: 1 },
          panels: [{ type: "table", id: 3, gridPos: { x: 0, y: 14, w: 24, h: 6 }, targets: [{ expr: "up" }] }],
        },
      ],
    });
    expect(d.time).toEqual({ from: "now-6h", to: "now" });
    expect(d.rows.map((r) => [r.title, r.collapsed, r.panels.length])).toEqual([
      ["", false, 1],
      ["Row A", false, 1],
      ["Collapsed", true, 1],
    ]);
    const ts = d.rows[1]!.panels[0]!;
    // Positions are relative to the row.
    expect(ts.gridPos).toEqual({ x: 12, y: 0, w: 12, h: 8 });
    expect(ts.field.unit).toBe("s");
    expect(ts.field.min).toBe(0);
    expect(ts.field.decimals).toBe(2);
    expect(ts.field.lineInterpolation).toBe("stepAfter");
    // The first threshold step is the base whatever value it carries.
    expect(ts.field.thresholds.steps[0]).toEqual({ color: "green", value: null });
    expect(ts.targets[0]).toMatchObject({ refId: "A", legendFormat: "{{path}}", interval: "30s", instant: false });
    // Table panels always run instant queries.
    expect(d.rows[2]!.panels[0]!.targets[0]!.instant).toBe(true);
  });

  it("keeps unsupported panel types as notices and survives junk", () => {
    const d = parseDashboard({
      panels: [
        { type: "nodeGraph", title: "Service map", gridPos: { x: 0, y: 0, w: 12, h: 8 } },
        { type: "graph", title: "Old graph", gridPos: "nonsense" },
        42,
      ],
      templating: { list: [{ name: "bad name", type: "custom" }, { name: "ok", type: "custom", query: "a,b" }] },
    });
    const panels = d.rows.flatMap((r) => r.panels);
    expect(panels.map((p) => [p.type, p.originalType])).toEqual([
      ["unsupported", "nodeGraph"],
      ["timeseries", "graph"],
    ]);
    expect(panels[1]!.gridPos).toEqual({ x: 0, y: 0, w: 12, h: 8 });
    expect(d.variables.map((v) => v.name)).toEqual(["ok"]);
    expect(d.problems.length).toBe(2);
    expect(parseDashboard("not an object").problems).toContain("the dashboard is not a JSON object");
  });

  it("parses the built-in service dashboard completely", () => {
    const d = parseDashboard(serviceJson);
    expect(d.uid).toBe("service");
    expect(d.problems).toEqual([]);
    const panels = d.rows.flatMap((r) => r.panels);
    for (const p of panels) expect(SUPPORTED_PANEL_TYPES).toContain(p.type);
    const titles = panels.map((p) => p.title);
    for (const t of [
      "Apdex",
      "Error rate",
      "Total requests",
      "Workers",
      "RPS total",
      "RPS by path",
      "RPS by status code",
      "P50 latency",
      "P95 latency",
      "P99 latency",
      "Top 10 slowest endpoints (P95)",
      "Average duration by endpoint",
      "Requests in progress",
      "4xx rate by path",
      "5xx rate by path",
      "Exceptions by type",
    ]) {
      expect(titles).toContain(t);
    }
    expect(d.variables.map((v) => v.name)).toEqual(["datasource", "project", "service", "apdex_t", "apdex_4t"]);
    // Every query filters by project and service.
    for (const p of panels) for (const t of p.targets) expect(t.expr).toContain('project=~"$project", service=~"$service"');
    expect(d.rows.map((r) => r.title)).toEqual(["Overview", "Traffic", "Latency", "Saturation", "Errors"]);
  });
});
