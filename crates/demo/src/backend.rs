//! The demo backend: the routes the dashboard and `tetrad load` are built around (see
//! [`crate::BACKEND_ROUTES`] for what each one exercises). Instrumented with the `instrument`
//! crate: the inventory call goes out with [`instrument::propagate`] (a CLIENT span and the W3C
//! `traceparent`), `/panic` raises an [`instrument::Exception`], and item lookups are counted in
//! a custom metric, `demo_item_lookups_total{result}`.

use crate::answers::{detail, invalid_id};
use crate::cpu_work::item_fingerprint;
use crate::routes::BACKEND_ROUTES;
use crate::{DemoError, docs_page, openapi_document, random::Rng, serve_router};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use instrument::metrics::{Counter, Registry};
use instrument::{Exception, ExceptionType, Telemetry};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

/// How long the backend waits for the inventory when nothing else is said.
const DEFAULT_INVENTORY_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest inventory answer read; a stock answer is some tens of bytes.
const MAX_INVENTORY_BODY: usize = 64 * 1024;
/// `/slow` sleeps a random time in this range, in milliseconds.
const SLOW_MS: (u64, u64) = (500, 2000);
/// `/fail` cycles through these client errors.
const FAIL_STATUSES: [StatusCode; 4] = [
    StatusCode::BAD_REQUEST,
    StatusCode::UNAUTHORIZED,
    StatusCode::FORBIDDEN,
    StatusCode::UNPROCESSABLE_ENTITY,
];

/// Where the backend finds the inventory service.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Base URL of the inventory service, without a trailing slash.
    pub inventory_url: String,
    /// How long one inventory call may take before the backend answers 502.
    pub inventory_timeout: Duration,
}

impl BackendConfig {
    /// A configuration for the inventory at `inventory_url` (absolute http or https URL).
    pub fn new(inventory_url: &str) -> Result<BackendConfig, DemoError> {
        let invalid = |reason: &str| DemoError::InvalidInventoryUrl {
            url: inventory_url.to_string(),
            reason: reason.to_string(),
        };
        let url = reqwest::Url::parse(inventory_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("no host"));
        }
        Ok(BackendConfig {
            inventory_url: inventory_url.trim_end_matches('/').to_string(),
            inventory_timeout: DEFAULT_INVENTORY_TIMEOUT,
        })
    }
}

/// What the backend's handlers share: the inventory client, the `/fail` cycle and the lookup
/// counters.
#[derive(Debug, Clone)]
pub struct BackendState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    inventory_url: String,
    fail_turn: AtomicU64,
    lookups: Lookups,
}

/// `demo_item_lookups_total` by result, resolved once so handlers only increment.
#[derive(Debug)]
struct Lookups {
    found: Counter,
    missing: Counter,
    failed: Counter,
}

impl BackendState {
    /// Builds the HTTP client for the inventory calls and registers the demo's own metric in
    /// `metrics` (the registry the instrumented router serves on `/metrics`).
    pub fn new(config: BackendConfig, metrics: &Registry) -> Result<BackendState, DemoError> {
        // reqwest is built without a bundled TLS provider: one must be installed first.
        instrument::ensure_crypto_provider();
        let lookups = metrics.counter(
            "demo_item_lookups_total",
            "Item lookups by result: found, missing (404 from the inventory) or failed.",
            &["result"],
        )?;
        let lookups = Lookups {
            found: lookups.with(&["found"]),
            missing: lookups.with(&["missing"]),
            failed: lookups.with(&["failed"]),
        };
        let client = reqwest::Client::builder()
            .timeout(config.inventory_timeout)
            .build()?;
        Ok(BackendState {
            inner: Arc::new(Inner {
                client,
                inventory_url: config.inventory_url,
                fail_turn: AtomicU64::new(0),
                lookups,
            }),
        })
    }
}

/// The backend's routes, bare: `/metrics` and the request layers come from
/// [`Telemetry::instrument`].
pub fn backend_router(state: BackendState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/items/{id}", get(item))
        .route("/slow", get(slow))
        .route("/error", get(error))
        .route("/fail", get(fail))
        .route("/panic", get(panic))
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs_page::docs))
        .with_state(state)
}

/// Serves the instrumented [`backend_router`] on `listener` until `shutdown` completes, lets
/// the requests in flight finish, then flushes the telemetry's last spans.
pub async fn serve_backend(
    listener: TcpListener,
    config: BackendConfig,
    telemetry: Telemetry,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DemoError> {
    let state = BackendState::new(config, telemetry.metrics())?;
    let router = telemetry.instrument(backend_router(state));
    let served = serve_router(listener, router, shutdown).await;
    // Flush even when serving failed: the spans of what was served are still worth having.
    telemetry.shutdown().await;
    served
}

async fn root() -> Json<Value> {
    Json(json!({ "message": "Hello from the tetrad demo backend", "status": "ok" }))
}

async fn item(State(state): State<BackendState>, Path(raw_id): Path<String>) -> Response {
    let Ok(id) = raw_id.parse::<u64>() else {
        return invalid_id(&raw_id);
    };
    let stock = match fetch_stock(&state, id).await {
        Ok(stock) => {
            state.inner.lookups.found.inc();
            stock
        }
        Err(response) => {
            let lookups = &state.inner.lookups;
            match response.status() {
                StatusCode::NOT_FOUND => lookups.missing.inc(),
                _ => lookups.failed.inc(),
            }
            return response;
        }
    };
    let fingerprint = item_fingerprint(id);
    tracing::info!(item = id, stock, "item looked up");
    Json(json!({
        "id": id,
        "name": format!("item-{id}"),
        "stock": stock,
        "fingerprint": format!("{fingerprint:016x}"),
    }))
    .into_response()
}

/// The stock of `id` from the inventory service, or the response the backend answers instead.
async fn fetch_stock(state: &BackendState, id: u64) -> Result<u64, Response> {
    let url = format!("{}/stock/{id}", state.inner.inventory_url);
    let unreachable = |e: reqwest::Error| {
        tracing::error!(error = %e, "inventory call failed");
        let mut response = detail(
            StatusCode::BAD_GATEWAY,
            format!("inventory unreachable: {e}"),
        );
        // A caught exception: counted in http_exceptions_total like an uncaught one.
        response
            .extensions_mut()
            .insert(ExceptionType::new("InventoryUnavailable"));
        response
    };
    let response = instrument::propagate(state.inner.client.get(&url))
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        tracing::warn!(item = id, "item not in the inventory");
        return Err(detail(
            StatusCode::NOT_FOUND,
            format!("item {id} not found"),
        ));
    }
    if !status.is_success() {
        return Err(detail(
            StatusCode::BAD_GATEWAY,
            format!("inventory answered {status}"),
        ));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_INVENTORY_BODY as u64)
    {
        return Err(detail(
            StatusCode::BAD_GATEWAY,
            format!("inventory answer larger than {MAX_INVENTORY_BODY} bytes"),
        ));
    }
    let body = response.bytes().await.map_err(unreachable)?;
    if body.len() > MAX_INVENTORY_BODY {
        return Err(detail(
            StatusCode::BAD_GATEWAY,
            format!("inventory answer larger than {MAX_INVENTORY_BODY} bytes"),
        ));
    }
    let stock = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["stock"].as_u64());
    stock.ok_or_else(|| {
        detail(
            StatusCode::BAD_GATEWAY,
            "inventory answer has no numeric \"stock\"".to_string(),
        )
    })
}

async fn slow() -> Json<Value> {
    let millis = Rng::seeded().in_range(SLOW_MS.0, SLOW_MS.1);
    tokio::time::sleep(Duration::from_millis(millis)).await;
    Json(json!({ "slept_ms": millis }))
}

async fn error() -> Response {
    tracing::error!("/error called: answering 500 on purpose");
    detail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error, on purpose".to_string(),
    )
}

async fn fail(State(state): State<BackendState>) -> Response {
    let turn = state.inner.fail_turn.fetch_add(1, Ordering::Relaxed);
    // The remainder is below 4, so the index is in bounds.
    let status = FAIL_STATUSES[(turn % FAIL_STATUSES.len() as u64) as usize];
    let reason = status.canonical_reason().unwrap_or("client error");
    detail(status, format!("{reason}, on purpose"))
}

async fn panic() -> Response {
    // Caught by the instrumentation: a 500, counted under this type like an uncaught exception.
    Exception::new("DemoPanic", "/panic called: panicking on purpose").raise()
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn openapi() -> Json<Value> {
    Json(openapi_document("tetrad demo backend", BACKEND_ROUTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_url_must_be_absolute_http() {
        assert!(BackendConfig::new("http://127.0.0.1:8100/").is_ok());
        assert_eq!(
            BackendConfig::new("http://127.0.0.1:8100/")
                .map(|c| c.inventory_url)
                .ok(),
            Some("http://127.0.0.1:8100".to_string())
        );
        for bad in ["", "127.0.0.1:8100", "ftp://x", "http://"] {
            let err = BackendConfig::new(bad).err().map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("invalid inventory URL")),
                "{bad:?} gave {err:?}"
            );
        }
    }
}
