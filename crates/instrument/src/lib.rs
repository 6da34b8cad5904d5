//! Observability for axum/tower services: what the seed's FastAPI middlewares, Prometheus
//! client and OpenTelemetry SDK give a Python service, for a Rust service in a few lines.
//!
//! # The picture
//!
//! [`Telemetry`] is the one object an application sets up. It owns
//!
//! - a metrics [`metrics::Registry`] (counters, gauges, histograms with label vectors and a
//!   cardinality limit per family), served on `/metrics` in the Prometheus text format 0.0.4 or
//!   OpenMetrics 1.0, chosen from the scraper's `Accept` header as the Go client library does.
//!   Histogram buckets carry exemplars (`trace_id`, `span_id`) in OpenMetrics;
//! - a `tracing` dispatcher made of two layers over `tracing-subscriber`'s registry: the span
//!   layer ([`trace`]) gives every span a W3C trace id and span id (a child of its parent span,
//!   or of the incoming `traceparent`), and exports closed spans over OTLP/gRPC in batches from
//!   a bounded queue on its own thread; the log layer ([`log`]) writes every event as one logfmt
//!   line carrying the `request_id`, `trace_id` and `span_id` of the span it happens in (to
//!   stdout through a bounded buffer a background thread writes, so requests never wait on
//!   stdout);
//! - the HTTP middlewares [`Telemetry::instrument`] adds, outermost first, in the seed's order:
//!   **request access** (request id from `X-Request-Id` or `X-Correlation-ID` or fresh, echoed
//!   in `X-Request-Id`; the SERVER span `"{METHOD} {route}"`, kept by the middleware rather
//!   than in `tracing`'s registry for speed, and seen as the current span inside the handler;
//!   one access line per request) →
//!   **RED metrics** (`http_requests_total`, `http_responses_total`,
//!   `http_request_duration_seconds`, `http_requests_in_progress`, `http_exceptions_total`,
//!   request/response size histograms; labelled by the route template, never the raw path) →
//!   **panic catcher** (a handler panic becomes a 500, logged and counted by its
//!   [`Exception`] type) → the application's router.
//!
//! Outgoing calls join the trace with [`propagate`], which wraps a `reqwest` request in a
//! CLIENT span and sends its `traceparent`. [`current_span_ids`] gives the ids of the running
//! span to anything else (profiles, messages).
//!
//! The tracer is our own rather than the OpenTelemetry SDK: fewer dependencies, and the ids
//! must be at hand in logs, exemplars and profiles without going through a context API. It
//! follows `tracing-opentelemetry`'s conventions for steering fields (`otel.name`,
//! `otel.kind`, `otel.status_code`), so spans read the same.
//!
//! Nothing here can fail a request: metric errors (cardinality limit, wrong label count) are
//! logged once per family and the update goes nowhere; a full span queue drops and counts
//! (`instrument_spans_dropped_total`); an unreachable collector is retried in the background.
//!
//! # Example
//!
//! ```no_run
//! use axum::Router;
//! use axum::routing::get;
//! use std::net::SocketAddr;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_ENDPOINT,
//!     // PYROSCOPE_SERVER_ADDRESS and RUST_LOG are read here.
//!     let telemetry = instrument::Telemetry::init(instrument::Config::from_env("backend"))?;
//!     let orders = telemetry
//!         .metrics()
//!         .counter("orders_total", "Orders placed.", &["kind"])?;
//!     let client = reqwest::Client::new();
//!
//!     let router = Router::new()
//!         .route("/", get(|| async { "ok" }))
//!         .route(
//!             "/order/{kind}",
//!             get(move |axum::extract::Path(kind): axum::extract::Path<String>| async move {
//!                 orders.with(&[kind.as_str()]).inc();
//!                 tracing::info!(kind = %kind, "order placed"); // carries trace_id and span_id
//!                 "ordered"
//!             }),
//!         )
//!         .route(
//!             "/stock",
//!             get(move || async move {
//!                 // A CLIENT span, and `traceparent` for the inventory service.
//!                 match instrument::propagate(client.get("http://127.0.0.1:8001/stock"))
//!                     .send()
//!                     .await
//!                 {
//!                     Ok(r) => r.text().await.unwrap_or_default(),
//!                     Err(e) => format!("inventory unreachable: {e}"),
//!                 }
//!             }),
//!         )
//!         .route("/panic", get(fail));
//!
//!     // Adds /metrics and the layers: access → metrics → panic catcher → router.
//!     let app = telemetry.instrument(router);
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:8000").await?;
//!     axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
//!         .with_graceful_shutdown(async {
//!             let _ = tokio::signal::ctrl_c().await;
//!         })
//!         .await?;
//!     telemetry.shutdown().await; // flush the last spans (bounded wait)
//!     Ok(())
//! }
//!
//! async fn fail() -> &'static str {
//!     // A 500, counted as http_exceptions_total{exception_type="InventoryError"}.
//!     instrument::Exception::new("InventoryError", "no stock service").raise()
//! }
//! ```
//!
//! # Modules
//!
//! - [`metrics`]: registry, values, exposition, content negotiation.
//! - [`log`]: the logfmt layer's writer ([`log::LogWriter`], in-memory for tests).
//! - [`trace`]: span ids, [`propagate`], [`current_span_ids`]; the exporter is internal.
//! - [`http`]: the middlewares' public pieces: [`Exception`], [`ExceptionType`], [`RequestId`],
//!   header names and bucket bounds.
//! - [`ids`]: trace, span and request ids and the `traceparent` header.
//!
//! `docs/instrument.md` lists every metric and log field and the environment variables.

#![warn(missing_docs)]

mod config;
mod error;
mod fields;
pub mod http;
pub mod ids;
pub mod log;
pub mod metrics;
pub mod profiling;
mod telemetry;
pub mod trace;
mod warn_limit;

pub use config::Config;
pub use error::{InitError, MetricsError};
pub use http::{Exception, ExceptionType, RequestId, quiet_exception_panics};
pub use ids::{SpanId, TraceId};
pub use telemetry::{Telemetry, ensure_crypto_provider};
pub use trace::{TracedRequest, current_span_ids, inject, propagate};
