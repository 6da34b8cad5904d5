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
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;

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

/// The three stages as one tower layer: each stage is a plain async function wrapping the
/// next, so a request costs one boxed future for all of them.
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
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The clone that was polled ready is the one to call (tower's usual swap).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        // No async block around the stages: it would hold the request and the service a
        // second time in the future, which is allocated per request.
        let stages = access::serve(self.state.clone(), self.cache.clone(), request, inner);
        match &self.state.dispatch {
            Some(dispatch) => Box::pin(stages.with_subscriber(dispatch.clone())),
            None => Box::pin(stages),
        }
    }
}
