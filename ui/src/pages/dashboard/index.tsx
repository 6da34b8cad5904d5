// A dashboard page: loads the Grafana JSON of `/d/<uid>` and renders it.

import { getDashboard } from "../../api/dashboards";
import { TimePicker } from "../../components/TimePicker";
import { useFetch } from "../../hooks/useFetch";

/** Props of DashboardPage. */
export interface DashboardPageProps {
  /** Dashboard uid from the path. */
  uid: string;
}

/** One dashboard. */
export default function DashboardPage({ uid }: DashboardPageProps) {
  const { data, error } = useFetch((s) => getDashboard(uid, s), [uid]);
  const title = data && typeof data === "object" && "title" in data ? String(data.title) : uid;
  return (
    <section class="dashboard">
      <div class="dashboard-header">
        <h1>{title}</h1>
        <TimePicker />
      </div>
      {error && <p class="error">Could not load dashboard {uid}: {error}</p>}
    </section>
  );
}
