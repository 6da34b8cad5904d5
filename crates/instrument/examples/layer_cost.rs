//! Measures what `Telemetry::instrument`'s layers cost per request, without sockets.
//!
//! The same small router (`/items/{id}` answering a few bytes) is called in-process through
//! `tower::ServiceExt::oneshot`, bare (no `tracing` subscriber while it runs) and
//! instrumented (the global telemetry: request id,
//! SERVER span, access line to stdout through the background writer, RED metrics, no span
//! export), alternating batches. The process's CPU time per request is compared (it includes
//! the log writer thread). Without the kernel's TCP work and wrk in the measurement, the
//! difference is the layers' own cost, steadier than `bench/instrument.sh` on a busy machine.
//!
//! A second route, `/call/{id}`, does what the demo's `/items/{id}` adds to a handler inside
//! the layers: it prepares an outgoing call with `instrument::propagate` (CLIENT span and
//! `traceparent`; dropped unsent, there is no server) and logs one line of its own.
//!
//! Run with `cargo run --release -p instrument --example layer_cost > /dev/null`; results go
//! to stderr.

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path};
use axum::http::Request;
use axum::routing::get;
use http_body::Body as _;
use std::net::SocketAddr;
use tower::ServiceExt;

const REQUESTS: u32 = 100_000;
const ROUNDS: usize = 7;

fn routes(client: reqwest::Client) -> Router {
    Router::new()
        .route(
            "/items/{id}",
            get(|Path(id): Path<u64>| async move { format!("item {id}") }),
        )
        .route(
            "/call/{id}",
            get(move |Path(id): Path<u64>| async move {
                let url = format!("http://127.0.0.1:9/stock/{id}");
                let prepared = instrument::propagate(client.get(url));
                tracing::info!(item = id, "item looked up");
                drop(prepared);
                format!("item {id}")
            }),
        )
}

/// CPU time of the whole process, in seconds.
fn process_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// CPU microseconds per request for `REQUESTS` requests to `route` (`/items` or `/call`)
/// through `router`.
async fn batch(router: &Router, route: &str) -> f64 {
    let peer: SocketAddr = ([127, 0, 0, 1], 40000).into();
    let start = process_cpu();
    for i in 0..REQUESTS {
        let mut request = Request::builder()
            .uri(format!("{route}/{}", i % 100))
            .header("host", "127.0.0.1:8000")
            .header("user-agent", "layer-cost")
            .body(Body::empty())
            .expect("a valid request");
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible router");
        assert!(response.status().is_success());
        // The response body is what a server would send: drop it after its size is known.
        assert!(response.body().size_hint().exact().is_some());
    }
    (process_cpu() - start) / f64::from(REQUESTS) * 1e6
}

/// Runs `work` with no `tracing` subscriber, as in a service without telemetry: the bare
/// router's handler logs nothing and opens no span. (The guard is dropped before the
/// instrumented batches, whose dispatch then takes the global fast path again.)
async fn bare<T>(work: impl Future<Output = T>) -> T {
    let _none = tracing::dispatcher::set_default(&tracing::Dispatch::none());
    work.await
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let telemetry =
            instrument::Telemetry::init(instrument::Config::new("layer-cost")).expect("telemetry");
        instrument::ensure_crypto_provider();
        let client = reqwest::Client::new();
        // `with_state` turns the handlers into services once, as `axum::serve` does; without
        // it every call would build the route's services (and layers) anew.
        let plain = routes(client.clone()).with_state(());
        let instrumented = telemetry.instrument(routes(client)).with_state(());
        for (route, what) in [
            ("/items", "a trivial handler"),
            (
                "/call",
                "a handler preparing an outgoing call and logging a line",
            ),
        ] {
            eprintln!("{route}/{{id}}: {what}");
            // Warm-up: caches, allocator, label sets.
            bare(batch(&plain, route)).await;
            batch(&instrumented, route).await;
            let (mut p, mut i) = (Vec::new(), Vec::new());
            for round in 1..=ROUNDS {
                let pc = bare(batch(&plain, route)).await;
                let ic = batch(&instrumented, route).await;
                eprintln!(
                    "round {round}: plain {pc:.2} µs, instrumented {ic:.2} µs, +{:.2} µs",
                    ic - pc
                );
                p.push(pc);
                i.push(ic);
            }
            let (pm, im) = (median(p), median(i));
            eprintln!(
                "{route}/{{id}} median CPU per request: plain {pm:.2} µs, \
                 instrumented {im:.2} µs, layers +{:.2} µs",
                im - pm
            );
        }
        telemetry.shutdown().await;
    });
}
