//! The instrumented router driven over real HTTP: access lines, request ids, metrics with route
//! templates and exemplars, panics and exceptions.

mod common;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use collector::exposition::{Format as ParseFormat, parse_all};
use common::{logfmt_map, parse_logfmt, serve};
use instrument::log::{LogWriter, MemoryLog};
use instrument::{Config, Exception, ExceptionType, RequestId, Telemetry};

async fn item(Path(id): Path<u32>) -> Response {
    if id == 0 {
        return (StatusCode::NOT_FOUND, "no such item").into_response();
    }
    tracing::info!(item = id, "looking up item");
    format!("item {id}").into_response()
}

async fn raise() -> &'static str {
    Exception::new("InventoryError", "stock service unreachable").raise()
}

async fn plain_panic() -> &'static str {
    panic!("index out of range")
}

async fn caught() -> Response {
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response();
    r.extensions_mut()
        .insert(ExceptionType::new("DatabaseError"));
    r
}

async fn whoami(id: RequestId) -> String {
    // The extractor and the function for deeper code read the same request.
    assert_eq!(RequestId::current().as_ref(), Some(&id));
    id.0
}

async fn maybe_whoami(id: Option<RequestId>) -> String {
    id.map_or_else(|| "none".to_string(), |id| id.0)
}

async fn upload(body: axum::body::Bytes) -> String {
    "x".repeat(body.len() * 2)
}

struct App {
    url: String,
    log: MemoryLog,
    telemetry: Telemetry,
    client: reqwest::Client,
}

async fn app() -> App {
    let (writer, log) = LogWriter::memory();
    let telemetry = Telemetry::new(Config::new("backend").with_log_writer(writer)).unwrap();
    let orders = telemetry
        .metrics()
        .counter("orders_total", "Orders placed.", &["kind"])
        .unwrap();
    let router = Router::new()
        .route("/items/{id}", get(item))
        .route("/raise", get(raise))
        .route("/panic", get(plain_panic))
        .route("/caught", get(caught))
        .route("/whoami", get(whoami))
        .route("/upload", post(upload))
        .route(
            "/echo",
            get(|headers: axum::http::HeaderMap| async move {
                let get = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_string()
                };
                format!("{} {}", get("traceparent"), get("x-extra"))
            }),
        )
        .route(
            "/order",
            get(move || async move {
                orders.with(&["book"]).inc();
                "ok"
            }),
        );
    let url = serve(telemetry.instrument(router)).await;
    App {
        url,
        log,
        telemetry,
        client: reqwest::Client::new(),
    }
}

impl App {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    /// The access line of the request with this id.
    fn access_line(&self, request_id: &str) -> String {
        self.log
            .lines()
            .into_iter()
            .find(|l| l.contains(" msg=request ") && logfmt_map(l)["request_id"] == request_id)
            .unwrap_or_else(|| panic!("no access line for {request_id}: {:#?}", self.log.lines()))
    }

    async fn openmetrics(&self) -> collector::exposition::Parsed {
        let r = self
            .client
            .get(format!("{}/metrics", self.url))
            .header("accept", collector::exposition::SCRAPE_ACCEPT_HEADER)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["content-type"],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let body = r.text().await.unwrap();
        parse_all(body.as_bytes(), ParseFormat::OpenMetrics)
            .unwrap_or_else(|e| panic!("{e}\n{body}"))
    }
}

fn value(parsed: &collector::exposition::Parsed, series: &str) -> f64 {
    parsed
        .samples
        .iter()
        .find(|s| s.labels.to_string() == series)
        .unwrap_or_else(|| panic!("no {series}"))
        .value
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[tokio::test]
async fn access_line_has_exactly_the_fields() {
    let app = app().await;
    let r = app.get("/items/42").await;
    assert_eq!(r.status(), 200);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(request_id.len(), 36, "{request_id}");
    let line = app.access_line(&request_id);
    let pairs = parse_logfmt(&line);
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "level",
            "ts",
            "msg",
            "method",
            "path",
            "route",
            "status",
            "duration_ms",
            "request_id",
            "trace_id",
            "span_id",
            "client"
        ],
        "{line}"
    );
    let m = logfmt_map(&line);
    assert_eq!(m["level"], "info");
    assert_eq!(m["method"], "GET");
    assert_eq!(m["path"], "/items/42");
    assert_eq!(m["route"], "/items/{id}");
    assert_eq!(m["status"], "200");
    assert_eq!(m["client"], "127.0.0.1");
    assert!(m["duration_ms"].parse::<f64>().unwrap() >= 0.0);
    assert!(is_hex(&m["trace_id"], 32), "{line}");
    assert!(is_hex(&m["span_id"], 16), "{line}");
    let ts = &m["ts"];
    assert_eq!(ts.len(), 24, "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.');

    // The handler's own log line carries the same request and trace.
    let handler_line = app
        .log
        .lines()
        .into_iter()
        .find(|l| l.contains("msg=\"looking up item\""))
        .unwrap();
    let h = logfmt_map(&handler_line);
    assert_eq!(h["item"], "42");
    assert_eq!(h["request_id"], request_id);
    assert_eq!(h["trace_id"], m["trace_id"]);
    assert_eq!(h["span_id"], m["span_id"]);
}

#[tokio::test]
async fn levels_follow_the_status() {
    let app = app().await;
    let r = app.get("/items/0").await;
    assert_eq!(r.status(), 404);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(logfmt_map(&app.access_line(&id))["level"], "warn");
    let r = app.get("/caught").await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let m = logfmt_map(&app.access_line(&id));
    assert_eq!(m["level"], "error");
    assert_eq!(m["status"], "503");
    let r = app.get("/no/such/route").await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let m = logfmt_map(&app.access_line(&id));
    assert_eq!(m["route"], "<unmatched>");
    assert_eq!(m["path"], "/no/such/route");
}

#[tokio::test]
async fn the_request_id_extractor_outside_the_layers() {
    // No telemetry here to install the TLS crypto provider reqwest needs.
    instrument::ensure_crypto_provider();
    let router = Router::new()
        .route("/whoami", get(whoami))
        .route("/maybe", get(maybe_whoami));
    let url = serve(router).await;
    let client = reqwest::Client::new();
    let r = client.get(format!("{url}/whoami")).send().await.unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.text().await.unwrap().contains("Telemetry::instrument"));
    let r = client.get(format!("{url}/maybe")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "none");
    assert_eq!(RequestId::current(), None);
}

#[tokio::test]
async fn request_id_round_trip() {
    let app = app().await;
    let send = |header: &'static str, value: String| {
        app.client
            .get(format!("{}/whoami", app.url))
            .header(header, value)
            .send()
    };
    let r = send("x-request-id", "req-123".into()).await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "req-123");
    assert_eq!(r.text().await.unwrap(), "req-123");
    assert_eq!(logfmt_map(&app.access_line("req-123"))["path"], "/whoami");

    let r = send("x-correlation-id", "corr-9".into()).await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "corr-9");

    // Too long: replaced by a fresh id.
    let r = send("x-request-id", "a".repeat(500)).await.unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36);
    assert_eq!(r.text().await.unwrap(), id);
}

#[tokio::test]
async fn metrics_use_route_templates_and_carry_exemplars() {
    let app = app().await;
    for path in ["/items/1", "/items/2", "/items/0", "/nope"] {
        app.get(path).await;
    }
    let r = app.get("/order").await;
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let access = logfmt_map(&app.access_line(&id));
    let parsed = app.openmetrics().await;

    assert_eq!(
        value(
            &parsed,
            r#"http_requests_total{method="GET", path="/items/{id}"}"#
        ),
        3.0
    );
    assert_eq!(
        value(
            &parsed,
            r#"http_responses_total{method="GET", path="/items/{id}", status_code="200"}"#
        ),
        2.0
    );
    assert_eq!(
        value(
            &parsed,
            r#"http_responses_total{method="GET", path="/items/{id}", status_code="404"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &parsed,
            r#"http_requests_total{method="GET", path="<unmatched>"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &parsed,
            r#"http_requests_in_progress{method="GET", path="/items/{id}"}"#
        ),
        0.0
    );
    // The scrape itself is in progress while it is being answered.
    assert_eq!(
        value(
            &parsed,
            r#"http_requests_in_progress{method="GET", path="/metrics"}"#
        ),
        1.0
    );
    assert_eq!(value(&parsed, r#"orders_total{kind="book"}"#), 1.0);
    assert!(
        parsed
            .samples
            .iter()
            .all(|s| !s.labels.to_string().contains("/items/1")),
        "raw paths must never become labels"
    );
    assert_eq!(
        value(
            &parsed,
            r#"http_request_duration_seconds_count{method="GET", path="/order", status_code="200"}"#
        ),
        1.0
    );
    let exemplar = parsed
        .samples
        .iter()
        .filter(|s| {
            s.labels.metric_name() == "http_request_duration_seconds_bucket"
                && s.labels.get("path") == "/order"
        })
        .find_map(|s| s.exemplar.clone())
        .expect("an exemplar on a /order duration bucket");
    assert_eq!(exemplar.labels.get("trace_id"), access["trace_id"]);
    assert_eq!(exemplar.labels.get("span_id"), access["span_id"]);
    let buckets: Vec<&str> = parsed
        .samples
        .iter()
        .filter(|s| {
            s.labels.metric_name() == "http_request_duration_seconds_bucket"
                && s.labels.get("path") == "/order"
        })
        .map(|s| s.labels.get("le"))
        .collect();
    assert_eq!(
        buckets,
        [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.4", "0.5", "1.0", "2.5", "5.0",
            "10.0", "+Inf"
        ]
    );
}

#[tokio::test]
async fn panics_become_500_and_count_by_type() {
    let app = app().await;
    let r = app.get("/raise").await;
    assert_eq!(r.status(), 500);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(r.text().await.unwrap(), "Internal Server Error");
    let r = app.get("/panic").await;
    assert_eq!(r.status(), 500);
    app.get("/caught").await;

    let error_line = app
        .log
        .lines()
        .into_iter()
        .find(|l| l.contains("InventoryError") && l.starts_with("level=error"))
        .unwrap_or_else(|| panic!("no error line: {:#?}", app.log.lines()));
    let e = logfmt_map(&error_line);
    assert_eq!(e["exception.message"], "stock service unreachable");
    assert_eq!(e["request_id"], id);
    assert!(
        app.log
            .lines()
            .iter()
            .any(|l| l.contains("exception.message=\"index out of range\""))
    );

    let parsed = app.openmetrics().await;
    assert_eq!(
        value(
            &parsed,
            r#"http_exceptions_total{exception_type="InventoryError", method="GET", path="/raise"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &parsed,
            r#"http_exceptions_total{exception_type="panic", method="GET", path="/panic"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &parsed,
            r#"http_exceptions_total{exception_type="DatabaseError", method="GET", path="/caught"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &parsed,
            r#"http_responses_total{method="GET", path="/raise", status_code="500"}"#
        ),
        1.0
    );
    // The server survived.
    assert_eq!(app.get("/items/3").await.status(), 200);
}

#[tokio::test]
async fn sizes_are_measured_with_and_without_content_length() {
    let app = app().await;
    let r = app
        .client
        .post(format!("{}/upload", app.url))
        .body(vec![b'a'; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap().len(), 2000);
    // A chunked body has no Content-Length: the middleware counts what the handler reads.
    let response = chunked_post(&app.url, "/upload", &[&[b'b'; 300], &[b'c'; 200]]).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let parsed = app.openmetrics().await;
    assert_eq!(
        value(
            &parsed,
            r#"http_request_size_bytes_sum{method="POST", path="/upload"}"#
        ),
        1500.0
    );
    assert_eq!(
        value(
            &parsed,
            r#"http_response_size_bytes_sum{method="POST", path="/upload", status_code="200"}"#
        ),
        3000.0
    );
}

/// POSTs a chunked body over a raw connection (reqwest always knows the length of our
/// bodies) and returns the whole response text.
async fn chunked_post(base: &str, path: &str, chunks: &[&[u8]]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for c in chunks {
        request.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        request.extend_from_slice(c);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&request).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn text_format_by_default_and_promtool_clean() {
    let app = app().await;
    app.get("/items/5").await;
    app.get("/raise").await;
    let r = app.get("/metrics").await;
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = r.text().await.unwrap();
    assert!(!body.contains("# EOF"));
    assert!(
        !body.contains("trace_id"),
        "no exemplars in the text format"
    );
    parse_all(body.as_bytes(), ParseFormat::PrometheusText).unwrap();
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is needed (apt-get install -y --no-install-recommends prometheus)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}\n{body}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = &app.telemetry;
}

#[tokio::test]
async fn outgoing_calls_carry_the_trace() {
    use tracing::instrument::WithSubscriber;
    let app = app().await;
    let dispatch = app.telemetry.dispatch().clone();
    let url = format!("{}/echo", app.url);
    let (injected, traced, outer) = tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("outer");
        let _entered = span.enter();
        (
            instrument::inject(app.client.get(&url)),
            instrument::propagate(app.client.get(&url)).map(|b| b.header("x-extra", "kept")),
            instrument::current_span_ids().expect("inside a traced span"),
        )
    });
    let hex = instrument::ids::hex;
    let body = injected.send().await.unwrap().text().await.unwrap();
    assert_eq!(body, format!("00-{}-{}-01 -", hex(&outer.0), hex(&outer.1)));

    let body = traced
        .send()
        .with_subscriber(dispatch)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (traceparent, extra) = body.split_once(' ').unwrap();
    assert_eq!(extra, "kept");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts[1], hex(&outer.0), "same trace");
    assert_ne!(parts[2], hex(&outer.1), "the CLIENT span's own id");

    // Outside any span there is nothing to propagate.
    let body = instrument::inject(app.client.get(&url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "- -");
}

#[tokio::test]
async fn the_log_filter_applies_to_access_lines_and_request_spans() {
    let (writer, log) = LogWriter::memory();
    let telemetry = Telemetry::new(
        Config::new("quiet")
            .with_log_filter("warn")
            .with_log_writer(writer),
    )
    .unwrap();
    let router = Router::new()
        .route("/items/{id}", get(item))
        .route("/whoami", get(whoami));
    let url = serve(telemetry.instrument(router)).await;
    let client = reqwest::Client::new();
    let ok = client.get(format!("{url}/items/1")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    // The request id does not depend on the log filter.
    let who = client
        .get(format!("{url}/whoami"))
        .header("x-request-id", "quiet-1")
        .send()
        .await
        .unwrap();
    assert_eq!(who.text().await.unwrap(), "quiet-1");
    let missing = client.get(format!("{url}/items/0")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let id = missing.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let lines = log.lines();
    // Info lines (the 200's access line, the handler's "looking up item") are filtered out.
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let m = logfmt_map(&lines[0]);
    assert_eq!(m["level"], "warn");
    assert_eq!(m["request_id"], id);
    // The info-level request span is filtered out too: no ids to show.
    assert_eq!(m["trace_id"], "");
    assert_eq!(m["span_id"], "");
}

async fn nested() -> &'static str {
    {
        let span = tracing::info_span!("lookup");
        let _entered = span.enter();
        tracing::info!("inside lookup");
    }
    tracing::info!("after lookup");
    "ok"
}

#[tokio::test]
async fn application_spans_in_a_request_are_its_children() {
    let (writer, log) = LogWriter::memory();
    let telemetry = Telemetry::new(Config::new("nested").with_log_writer(writer)).unwrap();
    let url = serve(telemetry.instrument(Router::new().route("/nested", get(nested)))).await;
    let r = reqwest::Client::new()
        .get(format!("{url}/nested"))
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let lines = log.lines();
    let find = |msg: &str| {
        let line = lines
            .iter()
            .find(|l| l.contains(msg))
            .unwrap_or_else(|| panic!("no {msg} in {lines:#?}"));
        logfmt_map(line)
    };
    let access = find(" msg=request ");
    let inside = find("msg=\"inside lookup\"");
    let after = find("msg=\"after lookup\"");
    for line in [&inside, &after] {
        assert_eq!(line["request_id"], id);
        assert_eq!(line["trace_id"], access["trace_id"]);
    }
    assert_ne!(
        inside["span_id"], access["span_id"],
        "the application's own span"
    );
    assert_eq!(
        after["span_id"], access["span_id"],
        "back in the request span"
    );
}
