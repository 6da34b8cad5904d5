//! The HTTP middlewares, outermost first: request access (request id, SERVER span, access
//! line) → RED metrics → panic catcher → the application's router.

mod access;
mod body;
mod exception;
mod panic;
pub(crate) mod red;

pub use access::{CORRELATION_ID_HEADER, MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER, RequestId};
pub use exception::{Exception, ExceptionType};
pub use red::{DURATION_BUCKETS, SIZE_BUCKETS, UNMATCHED_PATH};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;

/// What the middleware stack needs per request.
pub(crate) struct LayerState {
    pub(crate) metrics: red::HttpMetrics,
    /// The telemetry's dispatcher when it is not the global one: requests are traced and
    /// logged through it.
    pub(crate) dispatch: Option<Dispatch>,
}

/// The three stages as one axum middleware: each stage is a plain async function wrapping the
/// next, so a request costs one boxed future instead of one per stage.
pub(crate) async fn middleware(
    State(state): State<Arc<LayerState>>,
    request: Request,
    next: Next,
) -> Response {
    let stages = access::access(request, |request| {
        red::red_metrics(&state.metrics, request, |request| {
            panic::catch_panic(request, |request| next.run(request))
        })
    });
    match &state.dispatch {
        Some(dispatch) => stages.with_subscriber(dispatch.clone()).await,
        None => stages.await,
    }
}
