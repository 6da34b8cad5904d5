//! `/docs`: a self-contained HTML page (no CDN, no external script, style or font) that fetches
//! `/openapi.json` and lists every path, method and summary with a "Try it" link. Everything
//! taken from the document is inserted with `textContent`/`setAttribute`, never as HTML, and
//! only same-origin paths become links.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page. The document is fetched relative to the page so it works behind a path prefix.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>API docs</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 0.35rem 0.8rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.method { font-family: monospace; font-weight: bold; }
.path { font-family: monospace; }
.codes { font-family: monospace; color: #666; }
.description { color: #666; font-size: 0.9em; }
</style>
</head>
<body>
<h1 id="title">API docs</h1>
<p id="status">Loading openapi.json...</p>
<table>
<thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Statuses</th><th></th></tr></thead>
<tbody id="routes"></tbody>
</table>
<script>
"use strict";
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function tryHref(path, op) {
  let href = path;
  for (const p of op.parameters || []) {
    if (p.in !== "path") continue;
    const value = p.example === undefined ? "1" : String(p.example);
    href = href.split("{" + p.name + "}").join(encodeURIComponent(value));
  }
  const sameOrigin = href.charAt(0) === "/" && href.charAt(1) !== "/" && href.charAt(1) !== "\\";
  return sameOrigin ? href : null;
}
async function main() {
  const status = document.getElementById("status");
  const body = document.getElementById("routes");
  try {
    const res = await fetch("openapi.json");
    if (!res.ok) throw new Error("HTTP " + res.status);
    const doc = await res.json();
    const title = (doc.info && doc.info.title) || "API";
    document.getElementById("title").textContent = title;
    document.title = title;
    let count = 0;
    for (const [path, ops] of Object.entries(doc.paths || {})) {
      for (const [method, op] of Object.entries(ops)) {
        const row = document.createElement("tr");
        cell(row, method.toUpperCase(), "method");
        cell(row, path, "path");
        const summary = cell(row, op.summary || "");
        if (op.description) {
          const d = document.createElement("div");
          d.className = "description";
          d.textContent = op.description;
          summary.appendChild(d);
        }
        cell(row, Object.keys(op.responses || {}).join(" "), "codes");
        const action = cell(row, "");
        const href = method === "get" ? tryHref(path, op) : null;
        if (href !== null) {
          const a = document.createElement("a");
          a.setAttribute("href", href);
          a.textContent = "Try it";
          action.appendChild(a);
        }
        body.appendChild(row);
        count += 1;
      }
    }
    status.textContent = count + " routes, from openapi.json (OpenAPI " + (doc.openapi || "?") + ").";
  } catch (err) {
    status.textContent = "Could not load openapi.json: " + err;
  }
}
main();
</script>
</body>
</html>
"#;

/// Serves the page; the policy header forbids loading anything from elsewhere.
pub(crate) async fn docs() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'",
            ),
        ],
        PAGE,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::PAGE;

    #[test]
    fn page_loads_nothing_from_elsewhere_and_never_writes_html() {
        for needle in [
            "http:",
            "https:",
            "src=",
            "<link",
            "url(",
            "innerHTML",
            "outerHTML",
        ] {
            assert!(!PAGE.contains(needle), "the page contains {needle:?}");
        }
        assert!(PAGE.contains("fetch(\"openapi.json\")"));
    }
}
