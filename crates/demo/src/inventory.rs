//! The inventory service: the second hop of `/items/{id}`. It answers the stock of an item after
//! a little jitter, and has no stock for ids divisible by 7, so the backend's 404 path is real.

use crate::answers::{detail, invalid_id};
use crate::routes::INVENTORY_ROUTES;
use crate::{DemoError, openapi_document, random::Rng, serve_router};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use instrument::Telemetry;
use serde_json::json;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// Jitter bounds in milliseconds: enough to make the downstream span visible in a trace.
const JITTER_MS: (u64, u64) = (1, 20);

/// The inventory's routes, bare: `/stock/{id}`, `/health`, `/openapi.json`; `/metrics` and the
/// request layers come from [`Telemetry::instrument`].
pub fn inventory_router() -> Router {
    Router::new()
        .route("/stock/{id}", get(stock))
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
}

/// Serves the instrumented [`inventory_router`] on `listener` until `shutdown` completes, lets
/// the requests in flight finish, then flushes the telemetry's last spans.
pub async fn serve_inventory(
    listener: TcpListener,
    telemetry: Telemetry,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DemoError> {
    let router = telemetry.instrument(inventory_router());
    let served = serve_router(listener, router, shutdown).await;
    telemetry.shutdown().await;
    served
}

/// Whether the inventory carries an item: every id except multiples of 7.
pub(crate) fn has_item(id: u64) -> bool {
    !id.is_multiple_of(7)
}

/// A stable stock level for an item, 1..=100.
fn stock_level(id: u64) -> u64 {
    id.wrapping_mul(2_654_435_761) % 100 + 1
}

async fn stock(Path(raw_id): Path<String>) -> Response {
    let Ok(id) = raw_id.parse::<u64>() else {
        return invalid_id(&raw_id);
    };
    let jitter = Rng::seeded().in_range(JITTER_MS.0, JITTER_MS.1);
    tokio::time::sleep(Duration::from_millis(jitter)).await;
    if !has_item(id) {
        return detail(StatusCode::NOT_FOUND, format!("no stock for item {id}"));
    }
    Json(json!({ "id": id, "stock": stock_level(id) })).into_response()
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn openapi() -> Json<serde_json::Value> {
    Json(openapi_document("tetrad demo inventory", INVENTORY_ROUTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiples_of_seven_are_missing() {
        assert!(!has_item(0));
        assert!(!has_item(14));
        assert!(has_item(1));
        assert!(has_item(15));
    }

    #[test]
    fn stock_is_between_1_and_100() {
        assert!((0..1000).map(stock_level).all(|s| (1..=100).contains(&s)));
    }
}
