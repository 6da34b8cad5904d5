//! The HTTP middlewares, outermost first: request access (request id, SERVER span, access
//! line) → RED metrics → panic catcher → the application's router.

mod access;
mod access_line;
mod body;
mod exception;
mod panic;
pub(crate) mod red;
mod route_cache;
mod server_span;

pub use access::{
    CORRELATION_ID_HEADER, MAX_REQUEST_ID_LEN, NoRequestId, REQUEST_ID_HEADER, RequestId,
};
pub use exception::{Exception, ExceptionType, quiet_exception_panics};
pub use red::{DURATION_BUCKETS, SIZE_BUCKETS, UNMATCHED_PATH};

use crate::log::LogWriter;
use crate::trace::export::SpanSender;
use crate::trace::layer::SpanHook;
use axum::extract::Request;
use axum::response::Response;
use route_cache::RouteCache;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use tracing::Dispatch;

/// What the middleware stack needs per request.
pub(crate) struct LayerState {
    pub(crate) metrics: red::HttpMetrics,
    /// The telemetry's dispatcher when it is not the global one: requests are traced and
    /// logged through it.
    pub(crate) dispatch: Option<Dispatch>,
    /// Where the access lines go (the log layer's writer).
    pub(crate) log_writer: LogWriter,
    /// Where finished SERVER spans go, when spans are exported.
    pub(crate) exporter: Option<SpanSender>,
    /// Tells the profiler which span a thread runs.
    pub(crate) hook: SpanHook,
}

/// The three stages as one tower layer: one future ([`access::Served`]) runs them all around
/// the route's own future, which axum then boxes once.
#[derive(Clone)]
pub(crate) struct InstrumentLayer(pub(crate) Arc<LayerState>);

impl<S> tower::Layer<S> for InstrumentLayer {
    type Service = InstrumentService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        // `Router::layer` calls this once per route and method: each gets its own cache of
        // metric handles.
        InstrumentService {
            inner,
            state: self.0.clone(),
            cache: Arc::new(RouteCache::default()),
        }
    }
}

/// The service [`InstrumentLayer`] wraps around each route.
#[derive(Clone)]
pub(crate) struct InstrumentService<S> {
    inner: S,
    state: Arc<LayerState>,
    cache: Arc<RouteCache>,
}

impl<S> tower::Service<Request> for InstrumentService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = access::Served<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The route was polled ready (axum's routes always are) and is called in place: no
        // clone of it per request.
        match &self.state.dispatch {
            // A telemetry that is not the global one sees the request's start through its own
            // dispatcher (the future sets it for each poll).
            Some(dispatch) => tracing::dispatcher::with_default(dispatch, || {
                access::serve(&self.state, &self.cache, request, &mut self.inner)
            }),
            None => access::serve(&self.state, &self.cache, request, &mut self.inner),
        }
    }
}
