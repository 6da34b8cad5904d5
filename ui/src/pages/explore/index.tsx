// Explore: write a PromQL query, run it, see it as a graph (range query) or a table (instant
// query at the range's end). The URL holds the state — `expr` (the query last run), `from`,
// `to`, `tab` (`graph` or `table`) — so a link reproduces the view. The text being edited is
// local until it is run. A parse error from the server is shown under the editor and its
// position underlined in the query. Queries run are kept in a local history (last 50).

import { useEffect, useMemo, useState } from "preact/hooks";
import { query, queryRange, type QueryResult } from "../../api/prometheus";
import { LineChart } from "../../components/Chart/LineChart";
import { PromqlEditor } from "../../components/PromqlEditor";
import { parseErrorPosition } from "../../components/PromqlEditor/errorPosition";
import { TimePicker } from "../../components/TimePicker";
import { useFetch } from "../../hooks/useFetch";
import { setTimeRange, useTimeRange } from "../../hooks/useTimeRange";
import { alignMatrix } from "../../hooks/uplot/data";
import { firstParam, updateParams, useLocation } from "../../state/url";
import { formatSeries, graphStep } from "./format";
import { browserStore, loadHistory, pushHistory, saveHistory } from "./history";
import "./explore.css";

type Tab = "graph" | "table";

/** Most table rows rendered; the rest are counted. */
const MAX_TABLE_ROWS = 1000;

/** The Explore page. */
export default function ExplorePage() {
  const { params } = useLocation();
  const expr = firstParam(params, "expr");
  const tab: Tab = firstParam(params, "tab") === "table" ? "table" : "graph";
  const { range, tick } = useTimeRange();
  const [draft, setDraft] = useState(expr);
  const [history, setHistory] = useState<string[]>(() => loadHistory(browserStore()));

  // Back/forward or a link changes `expr`: the editor follows.
  useEffect(() => setDraft(expr), [expr]);

  const run = (text = draft) => {
    const q = text.trim();
    if (q === "") return;
    const next = pushHistory(history, q);
    setHistory(next);
    saveHistory(browserStore(), next);
    setDraft(q);
    updateParams({ expr: q, tab });
  };

  const stepMs = graphStep(range.start, range.end);
  const result = useFetch<QueryResult | null>(
    (signal) => {
      if (expr === "") return Promise.resolve(null);
      return tab === "graph"
        ? queryRange(expr, range.start, range.end, stepMs, signal)
        : query(expr, range.end, signal);
    },
    [expr, tab, range.start, range.end, tick],
  );

  const errorPos = result.error ? parseErrorPosition(result.error, expr) : null;
  // Underline only while the editor still shows the query the error is about.
  const errorOffset = errorPos && draft === expr ? errorPos.offset : null;

  return (
    <section class="explore">
      <div class="explore-header">
        <h1>Explore</h1>
        <TimePicker />
      </div>
      <div class="explore-query">
        <PromqlEditor
          value={draft}
          onChange={setDraft}
          onRun={() => run()}
          errorOffset={errorOffset}
          placeholder="PromQL, e.g. rate(http_requests_total[5m]) — Ctrl+Enter runs, Ctrl+Space completes"
        />
        <button class="run-button" onClick={() => run()} disabled={draft.trim() === ""}>
          Run query
        </button>
      </div>
      {result.error && (
        <p class="error explore-error" role="alert">
          {errorPos ? `Error at line ${errorPos.line}, column ${errorPos.column}: ` : "Error: "}
          {result.error}
        </p>
      )}
      <div class="tabs" role="tablist">
        {(["graph", "table"] as const).map((t) => (
          <button
            key={t}
            role="tab"
            aria-selected={tab === t}
            class={tab === t ? "tab active" : "tab"}
            onClick={() => updateParams({ tab: t }, { replace: true })}
          >
            {t === "graph" ? "Graph" : "Table"}
          </button>
        ))}
        {result.loading && expr !== "" && <span class="muted">loading…</span>}
      </div>
      <div class="explore-result">
        {expr === "" && <p class="muted">Run a query to see its result.</p>}
        {/* A failed query hides the previous result rather than showing it as this one's. */}
        {result.data && !result.error && tab === "graph" && (
          <GraphView data={result.data} startMs={range.start} endMs={range.end} stepMs={stepMs} />
        )}
        {result.data && !result.error && tab === "table" && <TableView data={result.data} />}
      </div>
      <History items={history} onPick={(q) => run(q)} onClear={() => {
        setHistory([]);
        saveHistory(browserStore(), []);
      }} />
    </section>
  );
}

function GraphView(props: { data: QueryResult; startMs: number; endMs: number; stepMs: number }) {
  const { data, startMs, endMs, stepMs } = props;
  const chart = useMemo(() => {
    if (data.resultType !== "matrix") return null;
    const cols = alignMatrix(data.result, startMs, endMs, stepMs);
    return {
      timestamps: cols.timestamps,
      series: data.result.map((s, i) => ({ label: formatSeries(s.metric), values: cols.values[i] ?? [] })),
    };
  }, [data, startMs, endMs, stepMs]);
  if (!chart) {
    return <p class="muted">A range query returned a {data.resultType}; the Table tab shows it.</p>;
  }
  if (chart.series.length === 0) return <p class="muted">Empty query result.</p>;
  return (
    <LineChart
      timestamps={chart.timestamps}
      series={chart.series}
      xRange={[startMs / 1000, endMs / 1000]}
      height={320}
      onZoom={(from, to) => setTimeRange({ from: String(Math.round(from)), to: String(Math.round(to)) })}
    />
  );
}

function TableView({ data }: { data: QueryResult }) {
  switch (data.resultType) {
    case "scalar":
    case "string":
      return (
        <table class="result-table">
          <tbody>
            <tr>
              <td class="series">{data.resultType}</td>
              <td class="value">{data.result[1]}</td>
            </tr>
          </tbody>
        </table>
      );
    case "vector":
      if (data.result.length === 0) return <p class="muted">Empty query result.</p>;
      return (
        <table class="result-table">
          <tbody>
            {data.result.slice(0, MAX_TABLE_ROWS).map((s) => (
              <tr key={formatSeries(s.metric)}>
                <td class="series">{formatSeries(s.metric)}</td>
                <td class="value">{s.value[1]}</td>
              </tr>
            ))}
          </tbody>
          <Truncated total={data.result.length} />
        </table>
      );
    case "matrix":
      if (data.result.length === 0) return <p class="muted">Empty query result.</p>;
      return (
        <table class="result-table">
          <tbody>
            {data.result.slice(0, MAX_TABLE_ROWS).map((s) => (
              <tr key={formatSeries(s.metric)}>
                <td class="series">{formatSeries(s.metric)}</td>
                <td class="value">
                  {s.values.map(([t, v]) => (
                    <div key={t}>
                      {v} @{t}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
          <Truncated total={data.result.length} />
        </table>
      );
  }
}

function Truncated({ total }: { total: number }) {
  if (total <= MAX_TABLE_ROWS) return null;
  return (
    <tfoot>
      <tr>
        <td colSpan={2} class="muted">
          Showing {MAX_TABLE_ROWS} of {total} series.
        </td>
      </tr>
    </tfoot>
  );
}

function History(props: { items: string[]; onPick: (q: string) => void; onClear: () => void }) {
  if (props.items.length === 0) return null;
  return (
    <details class="explore-history">
      <summary>
        History ({props.items.length})
      </summary>
      <ul>
        {props.items.map((q) => (
          <li key={q}>
            <button class="history-item" title="Run this query" onClick={() => props.onPick(q)}>
              {q}
            </button>
          </li>
        ))}
      </ul>
      <button class="history-clear" onClick={props.onClear}>
        Clear history
      </button>
    </details>
  );
}
