//! `instrument-overhead MODE PORT [INVENTORY_URL]`: serves on 127.0.0.1:PORT on one tokio
//! worker thread, so `bench/instrument.sh` can measure what instrument's layers cost with wrk.
//!
//! - `plain` / `instrumented`: synthetic routes `/`, `/items/{id}` (a few bytes) and `/catalog`
//!   (100 items as JSON, about 8 KB: a handler that does some work), bare or wrapped by
//!   `Telemetry::instrument` (logs to stdout, no span export);
//! - `demo-plain` / `demo-instrumented`: the demo backend's real routes (`demo::backend_router`:
//!   `/items/{id}` calls the inventory at INVENTORY_URL and does its CPU work), bare or wrapped
//!   the way `demo::serve_backend` wraps them;
//! - `demo-plain-catch`: `demo-plain` plus a minimal panic catcher, for the request mix that
//!   includes `/panic`: a bare router lets the panic end the connection (no answer, so the load
//!   generator reconnects), while the instrumented one answers 500; with the catcher both
//!   answer the same 500 and the comparison is between the same work;
//! - `inventory`: the demo's inventory service, instrumented as the demo runs it, for the
//!   backend to call (the same in both backend modes).
//!
//! The demo modes install the panic hook `tetrad demo` installs: `/panic`'s
//! `instrument::Exception` is not reported by the default hook (whose message, and backtrace
//! under `RUST_BACKTRACE`, would cost far more than the layers being measured).

use axum::Router;
use axum::extract::{Path, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;

#[derive(serde::Serialize)]
struct Item {
    id: u64,
    name: String,
    price_cents: u64,
    tags: [&'static str; 2],
}

async fn catalog() -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let items: Vec<Item> = (0..100)
        .map(|id| Item {
            id,
            name: format!("item number {id}"),
            price_cents: id * 137 % 10_000,
            tags: ["books", "sale"],
        })
        .collect();
    let body = serde_json::to_string(&items).unwrap_or_default();
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
}

fn routes() -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route(
            "/items/{id}",
            get(|Path(id): Path<u64>| async move { format!("item {id}") }),
        )
        .route("/catalog", get(catalog))
}

/// The least a bare service needs so a handler panic answers 500 instead of dropping the
/// connection: no log line, no metric.
async fn catch_panics(request: Request, next: Next) -> Response {
    let mut handler = std::pin::pin!(next.run(request));
    // The handler's future is never polled again after a panic, only dropped.
    let answer = std::future::poll_fn(|cx| {
        match catch_unwind(AssertUnwindSafe(|| handler.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(response)) => Poll::Ready(Some(response)),
            Err(_) => Poll::Ready(None),
        }
    })
    .await;
    answer.unwrap_or_else(|| {
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
    })
}

/// The router of a mode, and the telemetry to flush on shutdown when the mode has one.
fn app(mode: &str, inventory_url: &str) -> Result<(Router, Option<instrument::Telemetry>), String> {
    let telemetry = |service: &str| {
        let config = instrument::Config::from_env(service);
        instrument::Telemetry::init(config).map_err(|e| e.to_string())
    };
    let backend_state = |registry: &instrument::metrics::Registry| {
        let config = demo::BackendConfig::new(inventory_url).map_err(|e| e.to_string())?;
        demo::BackendState::new(config, registry).map_err(|e| e.to_string())
    };
    Ok(match mode {
        "plain" => (routes(), None),
        "instrumented" => {
            let telemetry = telemetry("bench")?;
            (telemetry.instrument(routes()), Some(telemetry))
        }
        "demo-plain" => {
            let registry = instrument::metrics::Registry::new();
            (demo::backend_router(backend_state(&registry)?), None)
        }
        "demo-plain-catch" => {
            let registry = instrument::metrics::Registry::new();
            let router = demo::backend_router(backend_state(&registry)?);
            (router.layer(axum::middleware::from_fn(catch_panics)), None)
        }
        "demo-instrumented" => {
            let telemetry = telemetry("backend")?;
            let state = backend_state(telemetry.metrics())?;
            (
                telemetry.instrument(demo::backend_router(state)),
                Some(telemetry),
            )
        }
        "inventory" => {
            let telemetry = telemetry("inventory")?;
            (
                telemetry.instrument(demo::inventory_router()),
                Some(telemetry),
            )
        }
        other => {
            return Err(format!(
                "unknown mode {other:?}: plain, instrumented, demo-plain, demo-plain-catch, demo-instrumented or inventory"
            ));
        }
    })
}

const USAGE: &str = "usage: instrument-overhead plain|instrumented|demo-plain|demo-plain-catch|demo-instrumented|inventory PORT [INVENTORY_URL]";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, port, inventory_url) = match args.as_slice() {
        [_, mode, port] => (
            mode.clone(),
            port.clone(),
            demo::DEFAULT_INVENTORY_URL.to_string(),
        ),
        [_, mode, port, url] => (mode.clone(), port.clone(), url.clone()),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("invalid port {port:?}");
        std::process::exit(2);
    };
    if mode.starts_with("demo-") {
        instrument::quiet_exception_panics();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    let result: Result<(), String> = runtime.block_on(async move {
        let (app, telemetry) = app(&mode, &inventory_url)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("bind 127.0.0.1:{port}: {e}"))?;
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())?;
        if let Some(t) = telemetry {
            t.shutdown().await;
        }
        Ok(())
    });
    if let Err(e) = result {
        eprintln!("instrument-overhead: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    async fn status_of(router: Router, path: &str) -> StatusCode {
        let request = Request::builder()
            .uri(path)
            .body(axum::body::Body::empty())
            .expect("a valid request");
        router
            .oneshot(request)
            .await
            .expect("the router is infallible")
            .status()
    }

    async fn raise() -> &'static str {
        instrument::Exception::new("Test", "panicking on purpose").raise()
    }

    #[tokio::test]
    async fn the_bare_catcher_turns_a_panic_into_a_500_and_passes_answers_through() {
        let router = Router::new()
            .route("/panic", get(raise))
            .route("/", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn(catch_panics));
        assert_eq!(
            status_of(router.clone(), "/panic").await,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(status_of(router.clone(), "/").await, StatusCode::OK);
        assert_eq!(status_of(router, "/nowhere").await, StatusCode::NOT_FOUND);
    }

    #[test]
    fn every_demo_mode_builds_and_unknown_modes_are_named() {
        for mode in ["demo-plain", "demo-plain-catch", "plain"] {
            assert!(app(mode, "http://127.0.0.1:9").is_ok(), "{mode}");
        }
        let err = app("demo-bogus", "http://127.0.0.1:9").err();
        assert!(err.is_some_and(|e| e.contains("demo-bogus")));
    }
}
