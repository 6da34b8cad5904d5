// Pipeline, like Alloy's component view: every running component of tetrad as a card, grouped
// by kind (receivers, scrape jobs, supervised services, stores), coloured by state, with its
// throughput, errors and details. Refreshes every 5 seconds (`refresh` in the URL overrides);
// the server turns its counters into rates between refreshes.

import { useFetch } from "../../hooks/useFetch";
import { useTicker } from "../../hooks/useTicker";
import { parseInterval } from "../../state/time";
import { useParam } from "../../state/url";
import { formatThroughput, groupByKind, pipeline, type PipelineComponent } from "./api";
import "./pipeline.css";

/** Default auto-refresh. */
const DEFAULT_REFRESH_MS = 5000;

/** The Pipeline page. */
export default function PipelinePage() {
  const tick = useTicker(parseInterval(useParam("refresh")) ?? DEFAULT_REFRESH_MS);
  const { data, error } = useFetch((s) => pipeline(s), [tick]);
  return (
    <section class="pipeline-page">
      <h1>Pipeline</h1>
      {error && <p class="error">Could not load the pipeline: {error}</p>}
      {data && data.components.length === 0 && <p class="muted">No components are running.</p>}
      {data &&
        groupByKind(data.components).map((g) => (
          <div class="pipeline-group" key={g.kind}>
            <h2>{g.title}</h2>
            <div class="cards">
              {g.items.map((c) => (
                <Card key={c.id} c={c} />
              ))}
            </div>
          </div>
        ))}
    </section>
  );
}

function Card({ c }: { c: PipelineComponent }) {
  return (
    <div class={`card state-${c.state}`} data-id={c.id}>
      <div class="card-head">
        <span class="card-name">{c.name}</span>
        <span class={`state-badge state-${c.state}`}>{c.state}</span>
      </div>
      <div class="card-figures">
        {c.unit && (
          <div>
            <span class="figure">{formatThroughput(c)}</span>
            <span class="muted"> throughput</span>
          </div>
        )}
        <div>
          <span class={c.errors > 0 ? "figure bad" : "figure"}>{c.errors}</span>
          <span class="muted"> {c.kind === "service" ? "restarts" : c.kind === "scrape" ? "targets down" : "errors"}</span>
        </div>
      </div>
      <dl class="card-detail">
        {Object.entries(c.detail).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
