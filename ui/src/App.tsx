// The app: the route of the current URL picks the page inside the shell.

import { Layout } from "./components/Layout";
import { matchRoute } from "./router";
import { useLocation } from "./state/url";
import HomePage from "./pages/home";
import DashboardPage from "./pages/dashboard";
import ExplorePage from "./pages/explore";
import TargetsPage from "./pages/targets";
import PipelinePage from "./pages/pipeline";
import StatusPage from "./pages/status";

/** The whole UI. */
export function App() {
  const loc = useLocation();
  const route = matchRoute(loc.path);
  return <Layout route={route}>{page(route)}</Layout>;
}

function page(route: ReturnType<typeof matchRoute>) {
  switch (route.name) {
    case "home":
      return <HomePage />;
    case "dashboard":
      return <DashboardPage key={route.uid} uid={route.uid} />;
    case "explore":
      return <ExplorePage />;
    case "targets":
      return <TargetsPage />;
    case "pipeline":
      return <PipelinePage />;
    case "status":
      return <StatusPage />;
    case "not-found":
      return (
        <section class="placeholder">
          <h1>Not found</h1>
          <p>No page at {route.path}.</p>
        </section>
      );
  }
}
