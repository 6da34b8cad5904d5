// Status: build information, runtime information, the effective settings (flags), the
// collection config as YAML with secrets already replaced by `<secret>` on the server, and the
// TSDB head's figures with its top-10 cardinality lists. Each section loads on its own, so one
// failing endpoint does not hide the others. Everything is rendered as text.

import type { ComponentChildren } from "preact";
import { buildInfo } from "../../api/prometheus";
import { useFetch } from "../../hooks/useFetch";
import { config, flags, headTime, runtimeInfo, tsdbStatus, type Stat } from "./api";
import "./status.css";

/** The Status page. */
export default function StatusPage() {
  const build = useFetch((s) => buildInfo(s), []);
  const runtime = useFetch((s) => runtimeInfo(s), []);
  const flagMap = useFetch((s) => flags(s), []);
  const cfg = useFetch((s) => config(s), []);
  const tsdb = useFetch((s) => tsdbStatus(s), []);
  return (
    <section class="status-page">
      <h1>Status</h1>
      <Section title="Build information" error={build.error}>
        {build.data && (
          <KeyValues
            rows={[
              ["Version", build.data.version],
              ["Revision", build.data.revision],
              ["Branch", build.data.branch],
              ["Build user", build.data.buildUser],
              ["Build date", build.data.buildDate],
              ["Compiler", build.data.goVersion],
            ]}
          />
        )}
      </Section>
      <Section title="Runtime information" error={runtime.error}>
        {runtime.data && (
          <KeyValues
            rows={[
              ["Start time", runtime.data.startTime],
              ["Working directory", runtime.data.CWD],
              ["Configuration reload", runtime.data.reloadConfigSuccess ? "Successful" : "Unsuccessful"],
              ["Last configuration load", runtime.data.lastConfigTime],
              ["WAL corruptions", String(runtime.data.corruptionCount)],
              ["Tasks", String(runtime.data.goroutineCount)],
              ["Cores", String(runtime.data.GOMAXPROCS)],
              ["Storage retention", runtime.data.storageRetention],
            ]}
          />
        )}
      </Section>
      <Section title="TSDB status" error={tsdb.error}>
        {tsdb.data && (
          <>
            <KeyValues
              rows={[
                ["Head series", String(tsdb.data.headStats.numSeries)],
                ["Head chunks", String(tsdb.data.headStats.chunkCount)],
                ["Label pairs", String(tsdb.data.headStats.numLabelPairs)],
                ["Head min time", headTime(tsdb.data.headStats.minTime)],
                ["Head max time", headTime(tsdb.data.headStats.maxTime)],
              ]}
            />
            <div class="stat-tables">
              <StatTable title="Top series count by metric name" head="Name" stats={tsdb.data.seriesCountByMetricName} />
              <StatTable title="Top label names with value count" head="Name" stats={tsdb.data.labelValueCountByLabelName} />
              <StatTable title="Top label names with high memory usage" head="Name" unit="bytes" stats={tsdb.data.memoryInBytesByLabelName} />
              <StatTable title="Top series count by label value pairs" head="Pair" stats={tsdb.data.seriesCountByLabelValuePair} />
            </div>
          </>
        )}
      </Section>
      <Section title="Flags" error={flagMap.error}>
        {flagMap.data && <KeyValues rows={Object.entries(flagMap.data).sort(([a], [b]) => a.localeCompare(b))} mono />}
      </Section>
      <Section title="Configuration" error={cfg.error}>
        {cfg.data && <pre class="config-yaml">{cfg.data.yaml}</pre>}
      </Section>
    </section>
  );
}

function Section(props: { title: string; error: string | undefined; children?: ComponentChildren }) {
  return (
    <div class="status-section">
      <h2>{props.title}</h2>
      {props.error && <p class="error">Could not load: {props.error}</p>}
      {props.children}
    </div>
  );
}

function KeyValues({ rows, mono = false }: { rows: [string, string][]; mono?: boolean }) {
  return (
    <table class={mono ? "kv-table mono" : "kv-table"}>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function StatTable(props: { title: string; head: string; stats: Stat[]; unit?: string }) {
  return (
    <table class="stat-table">
      <caption>{props.title}</caption>
      <thead>
        <tr>
          <th>{props.head}</th>
          <th class="num">{props.unit === "bytes" ? "Bytes" : "Count"}</th>
        </tr>
      </thead>
      <tbody>
        {props.stats.map((s) => (
          <tr key={s.name}>
            <td>{s.name}</td>
            <td class="num">{s.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
