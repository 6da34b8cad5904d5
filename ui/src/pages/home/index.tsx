// The home page: the provisioned dashboards, each a link to `/d/<uid>`; files that failed to
// load are listed with their error.

import { listDashboards } from "../../api/dashboards";
import { Link } from "../../components/Link";
import { useFetch } from "../../hooks/useFetch";

/** The dashboard list. */
export default function HomePage() {
  const { data, error, loading } = useFetch((s) => listDashboards(s), []);
  return (
    <section class="home">
      <h1>Dashboards</h1>
      {error && <p class="error">Could not list dashboards: {error}</p>}
      {loading && !data && <p class="muted">Loading…</p>}
      <ul class="dashboard-list">
        {(data ?? []).map((d) => (
          <li key={d.uid + d.source}>
            {d.error ? (
              <span class="error">
                {d.source}: {d.error}
              </span>
            ) : (
              <>
                <Link href={`/d/${encodeURIComponent(d.uid)}`}>{d.title}</Link>
                {d.tags.map((t) => (
                  <span key={t} class="tag">
                    {t}
                  </span>
                ))}
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
