//! Measures what `Telemetry::instrument`'s layers cost per request, without sockets.
//!
//! The same small router (`/items/{id}` answering a few bytes) is called in-process through
//! `tower::ServiceExt::oneshot`, bare and instrumented (the global telemetry: request id,
//! SERVER span, access line to stdout through the background writer, RED metrics, no span
//! export), alternating batches. The process's CPU time per request is compared (it includes
//! the log writer thread). Without the kernel's TCP work and wrk in the measurement, the
//! difference is the layers' own cost, steadier than `bench/instrument.sh` on a busy machine.
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

fn routes() -> Router {
    Router::new().route(
        "/items/{id}",
        get(|Path(id): Path<u64>| async move { format!("item {id}") }),
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

/// CPU microseconds per request for `REQUESTS` requests through `router`.
async fn batch(router: &Router) -> f64 {
    let peer: SocketAddr = ([127, 0, 0, 1], 40000).into();
    let start = process_cpu();
    for i in 0..REQUESTS {
        let mut request = Request::builder()
            .uri(format!("/items/{}", i % 100))
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
        // `with_state` turns the handlers into services once, as `axum::serve` does; without
        // it every call would build the route's services (and layers) anew.
        let plain = routes().with_state(());
        let instrumented = telemetry.instrument(routes()).with_state(());
        // Warm-up: caches, allocator, label sets.
        batch(&plain).await;
        batch(&instrumented).await;
        let (mut p, mut i) = (Vec::new(), Vec::new());
        for round in 1..=ROUNDS {
            let pc = batch(&plain).await;
            let ic = batch(&instrumented).await;
            eprintln!(
                "round {round}: plain {pc:.2} µs, instrumented {ic:.2} µs, +{:.2} µs",
                ic - pc
            );
            p.push(pc);
            i.push(ic);
        }
        let (pm, im) = (median(p), median(i));
        eprintln!(
            "median CPU per request: plain {pm:.2} µs, instrumented {im:.2} µs, layers +{:.2} µs",
            im - pm
        );
        telemetry.shutdown().await;
    });
}
