// The routes of the UI. Matching is a pure function of the path so it can be tested and so the
// server's SPA fallback (crates/api/src/ui.rs) and this table stay easy to compare.

/** A matched route. */
export type Route =
  | { name: "home" }
  | { name: "dashboard"; uid: string }
  | { name: "explore" }
  | { name: "targets" }
  | { name: "pipeline" }
  | { name: "status" }
  | { name: "not-found"; path: string };

/** Matches a path to a route. `/d/<uid>/<slug>` is accepted like Grafana's URLs. */
export function matchRoute(path: string): Route {
  const p = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  if (p === "" || p === "/") return { name: "home" };
  const d = /^\/d\/([^/]+)(?:\/[^/]*)?$/.exec(p);
  if (d && d[1]) {
    let uid = d[1];
    try {
      uid = decodeURIComponent(uid);
    } catch {
      // A malformed escape stays as typed; the dashboard lookup will report it as unknown.
    }
    return { name: "dashboard", uid };
  }
  switch (p) {
    case "/explore":
      return { name: "explore" };
    case "/targets":
      return { name: "targets" };
    case "/pipeline":
      return { name: "pipeline" };
    case "/status":
      return { name: "status" };
    default:
      return { name: "not-found", path };
  }
}

/** The top navigation: label and path. */
export const NAV_ITEMS: { label: string; path: string; route: Route["name"] }[] = [
  { label: "Dashboards", path: "/", route: "home" },
  { label: "Explore", path: "/explore", route: "explore" },
  { label: "Targets", path: "/targets", route: "targets" },
  { label: "Pipeline", path: "/pipeline", route: "pipeline" },
  { label: "Status", path: "/status", route: "status" },
];
