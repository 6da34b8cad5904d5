// Table panel: instant query results, one row per series, a column per label and one for the
// value (per query when several); click a header to sort.

import { useState } from "preact/hooks";
import type { InstantRow } from "../../dashboard/query";
import { formatValue } from "../../format/units";
import type { PanelBodyProps } from "./StatPanel";

/** Most rows drawn. */
const MAX_ROWS = 1000;

/** A table: header names and cell values (numbers for values, strings for labels). */
export interface TableModel {
  /** Column names. */
  columns: string[];
  /** Index of the first value column. */
  firstValue: number;
  /** Cells. */
  rows: (string | number | null)[][];
}

/** Builds the table from instant rows. */
export function buildTable(rows: InstantRow[]): TableModel {
  const labelSet = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.labels)) labelSet.add(k);
  const labels = [...labelSet].sort((a, b) => (a === "__name__" ? -1 : b === "__name__" ? 1 : a.localeCompare(b)));
  const refIds = [...new Set(rows.map((r) => r.refId))];
  const valueCols = refIds.length > 1 ? refIds.map((id) => `Value #${id}`) : ["Value"];
  return {
    columns: [...labels, ...valueCols],
    firstValue: labels.length,
    rows: rows.map((r) => {
      const cells: (string | number | null)[] = labels.map((l) => r.labels[l] ?? "");
      for (const id of refIds) cells.push(id === r.refId ? r.value : null);
      return cells;
    }),
  };
}

/** Sorts rows by a column: numbers numerically (nulls last), text alphabetically. */
export function sortRows(rows: (string | number | null)[][], col: number, desc: boolean): (string | number | null)[][] {
  const dir = desc ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[col] ?? null;
    const y = b[col] ?? null;
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    if (typeof x === "number" && typeof y === "number") return (x - y) * dir;
    return String(x).localeCompare(String(y)) * dir;
  });
}

/** A table panel. */
export function TablePanel({ panel, data }: PanelBodyProps) {
  const [sort, setSort] = useState<{ col: number; desc: boolean } | null>(null);
  const table = buildTable(data.rows);
  if (table.rows.length === 0) return <div class="panel-nodata">No data</div>;
  const rows = sort ? sortRows(table.rows, sort.col, sort.desc) : table.rows;
  const clickHeader = (col: number) =>
    setSort((s) => (s && s.col === col ? { col, desc: !s.desc } : { col, desc: col >= table.firstValue }));
  return (
    <div class="table-wrap">
      <table class="data-table">
        <thead>
          <tr>
            {table.columns.map((c, i) => (
              <th key={c} onClick={() => clickHeader(i)} class={sort?.col === i ? "sorted" : ""}>
                {c}
                {sort?.col === i ? (sort.desc ? " ▼" : " ▲") : ""}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, MAX_ROWS).map((r, i) => (
            <tr key={i}>
              {r.map((cell, j) =>
                j >= table.firstValue ? (
                  <td key={j} class="num">
                    {cell === null ? "" : formatValue(cell as number, panel.field.unit, panel.field.decimals)}
                  </td>
                ) : (
                  <td key={j}>{cell}</td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > MAX_ROWS && <p class="muted">showing {MAX_ROWS} of {rows.length} rows</p>}
    </div>
  );
}
