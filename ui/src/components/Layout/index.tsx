// The app shell: the top bar with the navigation, then the page.

import type { ComponentChildren } from "preact";
import { NAV_ITEMS, type Route } from "../../router";
import { Link } from "../Link";

/** Props of Layout. */
export interface LayoutProps {
  /** The current route, to highlight its navigation item. */
  route: Route;
  /** The page. */
  children?: ComponentChildren;
}

/** The app shell. */
export function Layout({ route, children }: LayoutProps) {
  const active = route.name === "dashboard" ? "home" : route.name;
  return (
    <div class="app">
      <header class="topbar">
        <Link href="/" class="brand">
          tetrad
        </Link>
        <nav>
          {NAV_ITEMS.map((item) => (
            <Link key={item.path} href={item.path} class={item.route === active ? "nav-item active" : "nav-item"}>
              {item.label}
            </Link>
          ))}
        </nav>
      </header>
      <main class="page">{children}</main>
    </div>
  );
}
