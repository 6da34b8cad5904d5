//! `instrument-overhead plain|instrumented PORT`: serves `/`, `/items/{id}` (a few bytes) and
//! `/catalog` (100 items as JSON, about 8 KB: a handler that does some work) on 127.0.0.1:PORT
//! on one tokio worker thread, bare or wrapped by `Telemetry::instrument` (logs to stdout, no
//! span export), so `bench/instrument.sh` can measure what the layers cost with wrk.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use std::net::SocketAddr;

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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, port) = match args.as_slice() {
        [_, mode, port] => (mode.clone(), port.clone()),
        _ => {
            eprintln!("usage: instrument-overhead plain|instrumented PORT");
            std::process::exit(2);
        }
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("invalid port {port:?}");
        std::process::exit(2);
    };
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
    let result = runtime.block_on(async move {
        let (app, telemetry) = match mode.as_str() {
            "plain" => (routes(), None),
            "instrumented" => {
                let config = instrument::Config::from_env("bench");
                let telemetry = instrument::Telemetry::init(config).map_err(|e| e.to_string())?;
                (telemetry.instrument(routes()), Some(telemetry))
            }
            other => return Err(format!("unknown mode {other:?}: plain or instrumented")),
        };
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
