//! Every route of the backend and the inventory, over real sockets on 127.0.0.1: the backend
//! talks to a real inventory service, so `/items/{id}` is tested end to end, 404 path included.
//! Both are instrumented as in production, with their log lines kept in memory.

use instrument::log::{LogWriter, MemoryLog};
use instrument::{Config, Telemetry};
use serde_json::Value;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A backend and its inventory, serving until dropped.
struct Demo {
    backend: String,
    inventory: String,
    backend_log: MemoryLog,
    inventory_log: MemoryLog,
    _stop: Vec<oneshot::Sender<()>>,
}

/// Telemetry for a service of the test: its own dispatcher (several services share the test
/// process), no span export, log lines in memory.
fn telemetry(service: &str) -> (Telemetry, MemoryLog) {
    let (writer, log) = LogWriter::memory();
    let config = Config::new(service).with_log_writer(writer);
    (Telemetry::new(config).expect("telemetry"), log)
}

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

async fn start() -> Demo {
    let (inventory_listener, inventory_addr) = listener().await;
    let (backend_listener, backend_addr) = listener().await;
    let (stop_inventory, inventory_stopped) = oneshot::channel::<()>();
    let (stop_backend, backend_stopped) = oneshot::channel::<()>();
    let (inventory_telemetry, inventory_log) = telemetry("inventory");
    tokio::spawn(demo::serve_inventory(
        inventory_listener,
        inventory_telemetry,
        async {
            let _ = inventory_stopped.await;
        },
    ));
    let config =
        demo::BackendConfig::new(&format!("http://{inventory_addr}")).expect("inventory URL");
    let (backend_telemetry, backend_log) = telemetry("backend");
    tokio::spawn(demo::serve_backend(
        backend_listener,
        config,
        backend_telemetry,
        async {
            let _ = backend_stopped.await;
        },
    ));
    Demo {
        backend: format!("http://{backend_addr}"),
        inventory: format!("http://{inventory_addr}"),
        backend_log,
        inventory_log,
        _stop: vec![stop_inventory, stop_backend],
    }
}

fn client() -> reqwest::Client {
    instrument::ensure_crypto_provider();
    reqwest::Client::new()
}

/// The value of `key` in a logfmt line (unquoted values only: ids, routes, statuses).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(' ')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

/// The access line ("msg=request") whose field `key` is `value`.
fn access_line(log: &MemoryLog, key: &str, value: &str) -> String {
    log.lines()
        .into_iter()
        .find(|l| l.contains(" msg=request ") && field(l, key) == Some(value))
        .unwrap_or_else(|| panic!("no access line with {key}={value}: {:#?}", log.lines()))
}

async fn metrics_text(base: &str) -> String {
    let response = client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.expect("body")
}

/// The value of the sample whose line starts with `name{` and contains every label in `labels`.
fn sample(exposition: &str, name: &str, labels: &[&str]) -> Option<f64> {
    exposition
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = client().get(url).send().await.expect("request");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.expect("JSON body");
    (status, body)
}

#[tokio::test]
async fn root_and_health_answer_ok() {
    let demo = start().await;
    let (status, body) = get_json(&format!("{}/", demo.backend)).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert!(body["message"].is_string());
    for base in [&demo.backend, &demo.inventory] {
        let (status, body) = get_json(&format!("{base}/health")).await;
        assert_eq!((status, &body["status"]), (200, &Value::from("ok")));
    }
}

#[tokio::test]
async fn items_come_with_stock_from_the_inventory() {
    let demo = start().await;
    let (status, body) = get_json(&format!("{}/items/3", demo.backend)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], 3);
    assert_eq!(body["name"], "item-3");
    let stock = body["stock"].as_u64().expect("numeric stock");
    assert!((1..=100).contains(&stock));
    assert_eq!(body["fingerprint"].as_str().map(str::len), Some(16));
    // The same stock straight from the inventory.
    let (status, direct) = get_json(&format!("{}/stock/3", demo.inventory)).await;
    assert_eq!(status, 200);
    assert_eq!(direct["stock"].as_u64(), Some(stock));
}

#[tokio::test]
async fn ids_divisible_by_seven_are_404_in_both_services() {
    let demo = start().await;
    for id in [0, 7, 49] {
        let (status, body) = get_json(&format!("{}/items/{id}", demo.backend)).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["detail"], format!("item {id} not found"));
        let (status, _) = get_json(&format!("{}/stock/{id}", demo.inventory)).await;
        assert_eq!(status, 404);
    }
}

#[tokio::test]
async fn a_bad_id_is_422_naming_it() {
    let demo = start().await;
    for base in [
        format!("{}/items", demo.backend),
        format!("{}/stock", demo.inventory),
    ] {
        let (status, body) = get_json(&format!("{base}/abc")).await;
        assert_eq!(status, 422);
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("\"abc\""), "{detail}");
    }
}

#[tokio::test]
async fn an_unreachable_inventory_is_502() {
    let (backend_listener, backend_addr) = listener().await;
    // A port that was just free: nothing listens there.
    let (closed, closed_addr) = listener().await;
    drop(closed);
    let config = demo::BackendConfig::new(&format!("http://{closed_addr}")).expect("URL");
    let (telemetry, _log) = telemetry("backend");
    tokio::spawn(demo::serve_backend(
        backend_listener,
        config,
        telemetry,
        std::future::pending(),
    ));
    let (status, body) = get_json(&format!("http://{backend_addr}/items/1")).await;
    assert_eq!(status, 502);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("inventory unreachable"), "{detail}");
    // Counted as a caught exception and as a failed lookup.
    let metrics = metrics_text(&format!("http://{backend_addr}")).await;
    let exceptions = sample(
        &metrics,
        "http_exceptions_total",
        &["exception_type=\"InventoryUnavailable\""],
    );
    assert_eq!(exceptions, Some(1.0), "{metrics}");
    let failed = sample(&metrics, "demo_item_lookups_total", &["result=\"failed\""]);
    assert_eq!(failed, Some(1.0), "{metrics}");
}

#[tokio::test]
async fn error_is_500_and_fail_cycles_client_errors() {
    let demo = start().await;
    let (status, body) = get_json(&format!("{}/error", demo.backend)).await;
    assert_eq!(status, 500);
    assert!(body["detail"].is_string());
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let (status, body) = get_json(&format!("{}/fail", demo.backend)).await;
        assert!(body["detail"].is_string());
        statuses.push(status);
    }
    assert_eq!(statuses, [400, 401, 403, 422, 400, 401, 403, 422]);
}

#[tokio::test]
async fn slow_sleeps_between_half_a_second_and_two() {
    let demo = start().await;
    let (status, body) = get_json(&format!("{}/slow", demo.backend)).await;
    assert_eq!(status, 200);
    let slept = body["slept_ms"].as_u64().expect("slept_ms");
    assert!((500..=2000).contains(&slept), "{slept}");
}

#[tokio::test]
async fn a_panic_is_a_500_counted_by_its_type() {
    let demo = start().await;
    let response = client()
        .get(format!("{}/panic", demo.backend))
        .send()
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(response.status().as_u16(), 500);
    let (status, _) = get_json(&format!("{}/health", demo.backend)).await;
    assert_eq!(status, 200);
    let metrics = metrics_text(&demo.backend).await;
    let panics = sample(
        &metrics,
        "http_exceptions_total",
        &["path=\"/panic\"", "exception_type=\"DemoPanic\""],
    );
    assert_eq!(panics, Some(1.0), "{metrics}");
    let line = access_line(&demo.backend_log, "route", "/panic");
    assert_eq!(field(&line, "status"), Some("500"), "{line}");
}

#[tokio::test]
async fn an_item_lookup_is_one_trace_across_both_services() {
    let demo = start().await;
    let response = client()
        .get(format!("{}/items/5", demo.backend))
        .header("X-Request-Id", "demo-trace-test")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let backend_line = access_line(&demo.backend_log, "request_id", "demo-trace-test");
    assert_eq!(field(&backend_line, "route"), Some("/items/{id}"));
    let trace_id = field(&backend_line, "trace_id").expect("trace_id");
    assert_eq!(trace_id.len(), 32, "{backend_line}");
    let inventory_line = access_line(&demo.inventory_log, "path", "/stock/5");
    assert_eq!(field(&inventory_line, "route"), Some("/stock/{id}"));
    assert_eq!(field(&inventory_line, "trace_id"), Some(trace_id));
    assert_ne!(
        field(&inventory_line, "span_id"),
        field(&backend_line, "span_id"),
    );
    // The handler's own log line carries the trace too.
    let lookup = demo
        .backend_log
        .lines()
        .into_iter()
        .find(|l| l.contains("item looked up"))
        .unwrap_or_default();
    assert_eq!(field(&lookup, "trace_id"), Some(trace_id), "{lookup}");
}

#[tokio::test]
async fn metrics_are_labelled_by_route_template() {
    let demo = start().await;
    for id in [1, 2, 7] {
        get_json(&format!("{}/items/{id}", demo.backend)).await;
    }
    let metrics = metrics_text(&demo.backend).await;
    let items = sample(
        &metrics,
        "http_requests_total",
        &["method=\"GET\"", "path=\"/items/{id}\""],
    );
    assert_eq!(items, Some(3.0), "{metrics}");
    assert!(!metrics.contains("/items/1"), "raw path in the metrics");
    let found = sample(&metrics, "demo_item_lookups_total", &["result=\"found\""]);
    let missing = sample(&metrics, "demo_item_lookups_total", &["result=\"missing\""]);
    assert_eq!((found, missing), (Some(2.0), Some(1.0)), "{metrics}");
    let inventory = metrics_text(&demo.inventory).await;
    let stock = sample(
        &inventory,
        "http_responses_total",
        &["path=\"/stock/{id}\"", "status_code=\"404\""],
    );
    assert_eq!(stock, Some(1.0), "{inventory}");
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let demo = start().await;
    let (status, doc) = get_json(&format!("{}/openapi.json", demo.backend)).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().expect("paths object");
    for path in [
        "/",
        "/items/{id}",
        "/slow",
        "/error",
        "/fail",
        "/panic",
        "/health",
        "/metrics",
        "/openapi.json",
        "/docs",
    ] {
        let op = &paths.get(path).unwrap_or(&Value::Null)["get"];
        assert!(op["summary"].is_string(), "{path} is missing");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
    }
    let (status, doc) = get_json(&format!("{}/openapi.json", demo.inventory)).await;
    assert_eq!(status, 200);
    for path in ["/stock/{id}", "/health", "/metrics", "/openapi.json"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} is missing");
    }
}

#[tokio::test]
async fn docs_is_a_self_contained_page() {
    let demo = start().await;
    let response = client()
        .get(format!("{}/docs", demo.backend))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.expect("body");
    assert!(page.contains("openapi.json"));
    assert!(page.contains("Try it"));
    for external in ["http://", "https://", "src=", "<link"] {
        assert!(!page.contains(external), "the page contains {external:?}");
    }
}

#[tokio::test]
async fn shutdown_finishes_a_request_in_flight() {
    let (inventory_listener, _) = listener().await;
    let (stop, stopped) = oneshot::channel::<()>();
    let (backend_listener, backend_addr) = listener().await;
    let config = demo::BackendConfig::new("http://127.0.0.1:1").expect("URL");
    drop(inventory_listener);
    let (telemetry, _log) = telemetry("backend");
    let server = tokio::spawn(demo::serve_backend(
        backend_listener,
        config,
        telemetry,
        async {
            let _ = stopped.await;
        },
    ));
    let slow = tokio::spawn(get_json_owned(format!("http://{backend_addr}/slow")));
    // Wait until the slow request is being served, not still queued for accept.
    let in_progress = "http_requests_in_progress{method=\"GET\",path=\"/slow\"} 1";
    let mut polls = 0;
    while !metrics_text(&format!("http://{backend_addr}"))
        .await
        .lines()
        .any(|l| l == in_progress)
    {
        polls += 1;
        assert!(polls < 3000, "the slow request never showed as in progress");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    let (status, body) = slow.await.expect("slow request task");
    assert_eq!(status, 200);
    assert!(body["slept_ms"].is_u64());
    let served = server.await.expect("server task");
    assert!(served.is_ok(), "{served:?}");
}

async fn get_json_owned(url: String) -> (u16, Value) {
    get_json(&url).await
}
