// A stand-in for an instrumented web service in the browser tests: serves /metrics with the
// instrument crate's metric names on $PORT. Counters grow with wall-clock time at fixed rates
// per path (different per service, so switching services changes the data), with 4xx, 5xx,
// exceptions and a path whose name is HTML, to prove the UI shows it as text.
import http from "node:http";

const port = Number(process.env.PORT ?? "0");
const service = process.env.TETRAD_SERVICE ?? "svc";
const scale = service === "web" ? 3 : 1;
const started = Date.now();
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.4, 0.5, 1, 2.5, 5, 10];
// Per path: requests per second, share answered 404 and 500, and the share of requests in each bucket.
const PATHS = [
  { path: "/", rps: 5, e4: 0.1, e5: 0, dist: [0.2, 0.3, 0.3, 0.1, 0.05, 0.05, 0, 0, 0, 0, 0, 0] },
  { path: "/items/{id}", rps: 3, e4: 0.2, e5: 0, dist: [0, 0.1, 0.3, 0.3, 0.2, 0.1, 0, 0, 0, 0, 0, 0] },
  { path: "/slow", rps: 1, e4: 0, e5: 0, dist: [0, 0, 0, 0, 0, 0.1, 0.2, 0.2, 0.3, 0.2, 0, 0] },
  { path: "/error", rps: 2, e4: 0, e5: 0.5, dist: [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
  { path: "/<script>window.__xss=1</script>", rps: 1, e4: 0, e5: 0, dist: [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
];

const esc = (v) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

function exposition() {
  const secs = (Date.now() - started) / 1000;
  const out = [];
  for (const p of PATHS) {
    const n = Math.floor(p.rps * scale * secs);
    const lp = `method="GET",path="${esc(p.path)}"`;
    out.push(`http_requests_total{${lp}} ${n}`);
    out.push(`http_requests_in_progress{${lp}} ${Math.round(p.rps * (1 + Math.sin(secs / 7)))}`);
    const byStatus = { 200: Math.floor(n * (1 - p.e4 - p.e5)), 404: Math.floor(n * p.e4), 500: Math.floor(n * p.e5) };
    for (const [code, c] of Object.entries(byStatus)) {
      const ls = `${lp},status_code="${code}"`;
      out.push(`http_responses_total{${ls}} ${c}`);
      let cum = 0;
      let sum = 0;
      BUCKETS.forEach((b, i) => {
        cum += (p.dist[i] ?? 0) * c;
        sum += (p.dist[i] ?? 0) * c * b * 0.7;
        out.push(`http_request_duration_seconds_bucket{${ls},le="${b}"} ${Math.floor(cum)}`);
      });
      out.push(`http_request_duration_seconds_bucket{${ls},le="+Inf"} ${c}`);
      out.push(`http_request_duration_seconds_sum{${ls}} ${sum}`);
      out.push(`http_request_duration_seconds_count{${ls}} ${c}`);
    }
    if (p.e5 > 0) out.push(`http_exceptions_total{${lp},exception_type="ZeroDivisionError"} ${byStatus[500]}`);
  }
  return `${out.join("\n")}\n`;
}

http
  .createServer((req, res) => {
    if (req.url === "/metrics") {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      res.end(exposition());
    } else {
      res.writeHead(404);
      res.end();
    }
  })
  .listen(port, "127.0.0.1");
