//! Spans as a real OTLP/gRPC receiver gets them: a `TraceService` built on
//! `opentelemetry-proto` in the test, two instrumented services calling each other through
//! `propagate()`.

mod common;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use common::{logfmt_map, serve};
use instrument::log::{LogWriter, MemoryLog};
use instrument::{Config, Telemetry, propagate};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::{Span, span, status};
use parking_lot::Mutex;
use std::sync::Arc;

/// Keeps every export request it receives.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Receiver {
    /// (service.name, span) for every span received.
    fn spans(&self) -> Vec<(String, Span)> {
        let mut out = Vec::new();
        for req in self.0.lock().iter() {
            for rs in &req.resource_spans {
                let service = rs
                    .resource
                    .as_ref()
                    .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
                    .and_then(|a| a.value.as_ref()?.value.clone());
                let service = match service {
                    Some(Value::StringValue(s)) => s,
                    _ => String::new(),
                };
                for ss in &rs.scope_spans {
                    for s in &ss.spans {
                        out.push((service.clone(), s.clone()));
                    }
                }
            }
        }
        out
    }
}

async fn start_receiver() -> (String, Receiver) {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = TraceServiceServer::new(receiver.clone());
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    (format!("http://{addr}"), receiver)
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref()?.value.as_ref())
}

fn str_attr<'a>(span: &'a Span, key: &str) -> &'a str {
    match attr(span, key) {
        Some(Value::StringValue(s)) => s,
        other => panic!("attribute {key} of {}: {other:?}", span.name),
    }
}

fn int_attr(span: &Span, key: &str) -> i64 {
    match attr(span, key) {
        Some(Value::IntValue(i)) => *i,
        other => panic!("attribute {key} of {}: {other:?}", span.name),
    }
}

fn telemetry(service: &str, endpoint: &str) -> (Telemetry, MemoryLog) {
    let (writer, log) = LogWriter::memory();
    let mut config = Config::new(service)
        .with_otlp_endpoint(endpoint)
        .with_log_writer(writer)
        .with_resource_attribute("deployment.environment", "test");
    config.export_interval = std::time::Duration::from_millis(100);
    (Telemetry::new(config).unwrap(), log)
}

struct Pair {
    backend_url: String,
    backend: Telemetry,
    backend_log: MemoryLog,
    inventory: Telemetry,
    receiver: Receiver,
}

/// `backend` (`/checkout/{id}`) calls `inventory` (`/stock/{id}`) with `propagate()`.
async fn pair() -> Pair {
    let (endpoint, receiver) = start_receiver().await;
    let (inventory, _) = telemetry("inventory", &endpoint);
    let inventory_url = serve(inventory.instrument(Router::new().route(
        "/stock/{id}",
        get(|Path(id): Path<u32>| async move {
            if id == 13 {
                (StatusCode::INTERNAL_SERVER_ERROR, "out of luck".to_string())
            } else {
                (StatusCode::OK, format!("{id}: 7 in stock"))
            }
        }),
    )))
    .await;

    let (backend, backend_log) = telemetry("backend", &endpoint);
    let client = reqwest::Client::new();
    let router =
        Router::new()
            .route(
                "/checkout/{id}",
                get(
                    |State((client, url)): State<(reqwest::Client, String)>,
                     Path(id): Path<u32>| async move {
                        tracing::info!("checking stock");
                        let r = propagate(client.get(format!("{url}/stock/{id}")))
                            .send()
                            .await
                            .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;
                        let status = r.status();
                        let body = r.text().await.unwrap_or_default();
                        if status.is_success() {
                            Ok(body)
                        } else {
                            Err((StatusCode::BAD_GATEWAY, body))
                        }
                    },
                ),
            )
            .with_state((client, inventory_url));
    let backend_url = serve(backend.instrument(router)).await;
    Pair {
        backend_url,
        backend,
        backend_log,
        inventory,
        receiver,
    }
}

impl Pair {
    async fn flush(&self) {
        assert!(self.backend.shutdown().await, "backend flushed");
        assert!(self.inventory.shutdown().await, "inventory flushed");
    }
}

#[tokio::test]
async fn spans_cross_services_through_propagate() {
    let p = pair().await;
    let r = reqwest::Client::new()
        .get(format!("{}/checkout/7", p.backend_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    p.flush().await;
    let spans = p.receiver.spans();
    let find = |service: &str, name: &str| {
        spans
            .iter()
            .find(|(s, sp)| s == service && sp.name == name)
            .map(|(_, sp)| sp.clone())
            .unwrap_or_else(|| {
                panic!(
                    "no {service} span {name:?} in {:?}",
                    spans
                        .iter()
                        .map(|(s, sp)| (s, &sp.name))
                        .collect::<Vec<_>>()
                )
            })
    };
    let root = find("backend", "GET /checkout/{id}");
    let client = find("backend", "GET");
    let remote = find("inventory", "GET /stock/{id}");

    assert_eq!(root.kind, span::SpanKind::Server as i32);
    assert!(root.parent_span_id.is_empty(), "the backend span is a root");
    assert_eq!(client.kind, span::SpanKind::Client as i32);
    assert_eq!(remote.kind, span::SpanKind::Server as i32);
    assert_eq!(client.trace_id, root.trace_id);
    assert_eq!(remote.trace_id, root.trace_id);
    assert_eq!(client.parent_span_id, root.span_id);
    assert_eq!(remote.parent_span_id, client.span_id);
    assert!(root.start_time_unix_nano <= client.start_time_unix_nano);
    assert!(client.end_time_unix_nano <= root.end_time_unix_nano);

    assert_eq!(str_attr(&root, "http.request.method"), "GET");
    assert_eq!(str_attr(&root, "http.route"), "/checkout/{id}");
    assert_eq!(str_attr(&root, "url.path"), "/checkout/7");
    assert_eq!(str_attr(&root, "server.address"), "127.0.0.1");
    assert_eq!(str_attr(&root, "request_id"), request_id);
    assert_eq!(int_attr(&root, "http.response.status_code"), 200);
    assert_eq!(int_attr(&client, "http.response.status_code"), 200);
    assert!(str_attr(&client, "url.full").ends_with("/stock/7"));
    assert_eq!(str_attr(&remote, "http.route"), "/stock/{id}");
    assert!(
        root.status.is_none()
            || root.status.as_ref().unwrap().code != status::StatusCode::Error as i32
    );
    // The handler's log line became an event of the request span.
    assert!(root.events.iter().any(|e| e.name == "checking stock"));

    // Resource attributes come from the Config, per service.
    let resource_of = |service: &str| {
        p.receiver
            .0
            .lock()
            .iter()
            .flat_map(|r| r.resource_spans.clone())
            .find_map(|rs| {
                let r = rs.resource?;
                r.attributes
                    .iter()
                    .any(|a| {
                        a.key == "service.name"
                            && a.value.as_ref().and_then(|v| v.value.clone())
                                == Some(Value::StringValue(service.into()))
                    })
                    .then_some(r)
            })
            .unwrap()
    };
    let backend_resource = resource_of("backend");
    for key in [
        "service.instance.id",
        "telemetry.sdk.name",
        "deployment.environment",
    ] {
        assert!(
            backend_resource.attributes.iter().any(|a| a.key == key),
            "resource lacks {key}"
        );
    }

    // Log lines and spans agree on the ids.
    let access = p
        .backend_log
        .lines()
        .into_iter()
        .find(|l| l.contains(" msg=request "))
        .unwrap();
    let access = logfmt_map(&access);
    assert_eq!(access["trace_id"], instrument::ids::hex(&root.trace_id));
    assert_eq!(access["span_id"], instrument::ids::hex(&root.span_id));
}

#[tokio::test]
async fn incoming_traceparent_is_the_parent_and_5xx_is_an_error() {
    let p = pair().await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let r = reqwest::Client::new()
        .get(format!("{}/checkout/13", p.backend_url))
        .header("traceparent", traceparent)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    p.flush().await;
    let spans = p.receiver.spans();
    assert_eq!(spans.len(), 3, "{spans:?}");
    for (_, s) in &spans {
        assert_eq!(
            instrument::ids::hex(&s.trace_id),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }
    let (_, root) = spans
        .iter()
        .find(|(s, sp)| s == "backend" && sp.kind == span::SpanKind::Server as i32)
        .unwrap();
    assert_eq!(
        instrument::ids::hex(&root.parent_span_id),
        "00f067aa0ba902b7"
    );
    assert_eq!(
        root.status.as_ref().map(|s| s.code),
        Some(status::StatusCode::Error as i32)
    );
    let (_, client) = spans
        .iter()
        .find(|(_, sp)| sp.kind == span::SpanKind::Client as i32)
        .unwrap();
    assert_eq!(int_attr(client, "http.response.status_code"), 500);
    assert_eq!(
        client.status.as_ref().map(|s| s.code),
        Some(status::StatusCode::Error as i32)
    );
}

#[tokio::test]
async fn an_unreachable_collector_never_blocks_requests() {
    // A port nothing listens on: exports fail and are retried in the background.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (t, _) = telemetry("lonely", &dead);
    let url = serve(t.instrument(Router::new().route("/", get(|| async { "ok" })))).await;
    let client = reqwest::Client::new();
    for _ in 0..20 {
        let r = client.get(format!("{url}/")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let metrics = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("http_requests_total{method=\"GET\",path=\"/\"} 20"),
        "{metrics}"
    );
}

/// A call made straight from the handler gets a CLIENT span made without `tracing`'s registry
/// (the request is its parent); one made inside a span of the application's gets a registry
/// span under that span. Both are exported alike, transport errors included.
#[tokio::test]
async fn client_spans_of_failed_calls_with_and_without_an_application_span() {
    let (endpoint, receiver) = start_receiver().await;
    let (t, _) = telemetry("caller", &endpoint);
    // A port nothing listens on: both calls fail to connect.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/stock/1", listener.local_addr().unwrap());
    drop(listener);
    let router = Router::new()
        .route(
            "/twice",
            get(|State(dead): State<String>| async move {
                let client = reqwest::Client::new();
                let direct = propagate(client.get(&dead)).send().await.is_err();
                let nested = async { propagate(client.get(&dead)).send().await.is_err() };
                let nested =
                    tracing::Instrument::instrument(nested, tracing::info_span!("lookup")).await;
                format!("{direct} {nested}")
            }),
        )
        .with_state(dead.clone());
    let url = serve(t.instrument(router)).await;
    let body = reqwest::get(format!("{url}/twice"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "true true", "both calls failed");
    assert!(t.shutdown().await, "flushed");

    let spans: Vec<Span> = receiver.spans().into_iter().map(|(_, s)| s).collect();
    let root = spans
        .iter()
        .find(|s| s.kind == span::SpanKind::Server as i32)
        .expect("the request span");
    let lookup = spans
        .iter()
        .find(|s| s.name == "lookup")
        .expect("the application span");
    let clients: Vec<&Span> = spans
        .iter()
        .filter(|s| s.kind == span::SpanKind::Client as i32)
        .collect();
    assert_eq!(clients.len(), 2, "{spans:?}");
    let parents: Vec<&[u8]> = clients.iter().map(|c| &c.parent_span_id[..]).collect();
    assert!(
        parents.contains(&&root.span_id[..]),
        "one under the request"
    );
    assert!(
        parents.contains(&&lookup.span_id[..]),
        "one under the application span"
    );
    assert_eq!(lookup.parent_span_id, root.span_id);
    let port = i64::from(
        dead.split(':')
            .nth(2)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .parse::<u16>()
            .unwrap(),
    );
    for client in clients {
        assert_eq!(client.trace_id, root.trace_id);
        assert_eq!(client.name, "GET");
        assert_eq!(str_attr(client, "http.request.method"), "GET");
        assert_eq!(str_attr(client, "url.full"), dead);
        assert_eq!(str_attr(client, "server.address"), "127.0.0.1");
        assert_eq!(int_attr(client, "server.port"), port);
        assert!(attr(client, "http.response.status_code").is_none());
        let status = client.status.as_ref().expect("a status");
        assert_eq!(status.code, status::StatusCode::Error as i32);
        assert!(!status.message.is_empty(), "the transport error");
        assert!(root.start_time_unix_nano <= client.start_time_unix_nano);
        assert!(client.start_time_unix_nano <= client.end_time_unix_nano);
        assert!(client.end_time_unix_nano <= root.end_time_unix_nano);
    }
}

/// A receiver that refuses the first `failures` exports, then keeps what it gets.
#[derive(Clone, Default)]
struct Flaky {
    failures_left: Arc<Mutex<u32>>,
    inner: Receiver,
}

#[tonic::async_trait]
impl TraceService for Flaky {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        {
            let mut left = self.failures_left.lock();
            if *left > 0 {
                *left -= 1;
                return Err(tonic::Status::unavailable("warming up"));
            }
        }
        self.inner.export(request).await
    }
}

/// A receiver that never answers.
#[derive(Clone, Default)]
struct Stuck;

#[tonic::async_trait]
impl TraceService for Stuck {
    async fn export(
        &self,
        _request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        std::future::pending().await
    }
}

async fn serve_trace_service<T: TraceService>(service: T) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(service))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    format!("http://{addr}")
}

async fn metrics_text(client: &reqwest::Client, url: &str) -> String {
    client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn failed_exports_are_retried() {
    let flaky = Flaky {
        failures_left: Arc::new(Mutex::new(2)),
        inner: Receiver::default(),
    };
    let endpoint = serve_trace_service(flaky.clone()).await;
    let (t, _) = telemetry("retrying", &endpoint);
    let url = serve(t.instrument(Router::new().route("/", get(|| async { "ok" })))).await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        client.get(format!("{url}/")).send().await.unwrap();
    }
    assert!(t.shutdown().await, "flushed");
    assert_eq!(*flaky.failures_left.lock(), 0, "both refusals were seen");
    let names: Vec<String> = flaky
        .inner
        .spans()
        .into_iter()
        .map(|(_, s)| s.name)
        .collect();
    assert_eq!(names, ["GET /", "GET /", "GET /"]);
    let metrics = metrics_text(&client, &url).await;
    assert!(
        metrics.contains("instrument_spans_exported_total 3\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_full_queue_drops_and_counts() {
    let endpoint = serve_trace_service(Stuck).await;
    let (writer, _log) = LogWriter::memory();
    let mut config = Config::new("stuck")
        .with_otlp_endpoint(&endpoint)
        .with_log_writer(writer);
    // The exporter takes one span, then hangs on the receiver; two more fit in the queue.
    config.span_queue_capacity = 2;
    config.export_batch_size = 1;
    config.export_timeout = std::time::Duration::from_secs(600);
    config.shutdown_timeout = std::time::Duration::from_millis(10);
    let t = Telemetry::new(config).unwrap();
    let url = serve(t.instrument(Router::new().route("/", get(|| async { "ok" })))).await;
    let client = reqwest::Client::new();
    for _ in 0..20 {
        let r = client.get(format!("{url}/")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let metrics = metrics_text(&client, &url).await;
    let dropped: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("instrument_spans_dropped_total{reason=\"queue_full\"} "))
        .unwrap_or_else(|| panic!("no queue_full count in\n{metrics}"))
        .parse()
        .unwrap();
    assert!(dropped >= 17.0, "dropped {dropped} of 20 spans");
    assert!(!t.shutdown().await, "a stuck receiver cannot be flushed");
}
