// A stand-in service for the browser tests whose metrics carry a label value made of HTML
// (`path="<script>alert(1)</script><b>x</b>"`), to prove the UI shows it as text. The demo's
// own services label requests by route template, so they cannot produce such a value. Serves
// /metrics on $PORT with a counter that grows with wall-clock time.
import http from "node:http";

const port = Number(process.env.PORT ?? "0");
const started = Date.now();
const PATH = "<script>alert(1)</script><b>x</b>";
const esc = (v) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

http
  .createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404);
      res.end();
      return;
    }
    const n = Math.floor((Date.now() - started) / 250);
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(`# TYPE http_requests_total counter\nhttp_requests_total{method="GET",path="${esc(PATH)}"} ${n}\n`);
  })
  .listen(port, "127.0.0.1");
// SIGTERM from the supervisor: stop at once.
process.on("SIGTERM", () => process.exit(0));
