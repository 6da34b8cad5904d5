//! The request access middleware (outermost), with the other stages inside it: request id,
//! the request's SERVER span, RED metrics, panic catcher, and one access line when the
//! response is ready.
//!
//! The stages share one reading of the clocks at each end of the request, and the SERVER span
//! is a [`RequestScope`] rather than a `tracing` span (see `trace::scope`): on a trivial
//! handler the layers would otherwise cost more than the handler.

use super::LayerState;
use super::access_line::{self, AccessLine};
use super::panic::{self, Payload};
use super::red::{self, RedRequest};
use super::route_cache::RouteCache;
use super::server_span::ServerSpan;
use crate::ids::{SpanContext, new_request_id_text, new_span_id, new_trace_id};
use crate::trace::enabled::filter_enabled;
use crate::trace::scope::{self, RequestIdText, RequestScope};
use axum::extract::{ConnectInfo, Request};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::response::Response;
use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The response header (and accepted request header) carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Accepted as the request id when there is no `X-Request-Id`.
pub const CORRELATION_ID_HEADER: &str = "x-correlation-id";
/// Longest accepted incoming request id; longer ones are replaced by a fresh id.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The request id of the current request: an extractor for handlers (`id: RequestId`, or
/// `Option<RequestId>` where the route may not be instrumented), and
/// [`RequestId::current`] for code deeper down.
///
/// It is read from the request being polled, not kept in the request's extensions: inserting
/// it there on every request cost as much as the rest of the request id's handling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id of the request being handled on this thread, if it runs inside
    /// [`Telemetry::instrument`](crate::Telemetry::instrument)'s layers.
    pub fn current() -> Option<RequestId> {
        scope::current_request_id().map(RequestId)
    }
}

/// The rejection of the [`RequestId`] extractor on a route that
/// [`Telemetry::instrument`](crate::Telemetry::instrument) does not wrap: a 500, since that is
/// a mistake in the service, not in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRequestId;

impl axum::response::IntoResponse for NoRequestId {
    fn into_response(self) -> Response {
        (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "no request id: the route is not wrapped by Telemetry::instrument",
        )
            .into_response()
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestId {
    type Rejection = NoRequestId;

    async fn from_request_parts(
        _parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        RequestId::current().ok_or(NoRequestId)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(
        _parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(RequestId::current())
    }
}

/// The header names as values: looking a header up by a `&str` parses the name every time.
static REQUEST_ID_NAME: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);
static CORRELATION_ID_NAME: HeaderName = HeaderName::from_static(CORRELATION_ID_HEADER);
static TRACEPARENT_NAME: HeaderName = HeaderName::from_static("traceparent");

/// Requests with at most this many header values are searched in one pass (see
/// [`StageHeaders::of`]); larger ones by hashed lookups.
const SCAN_HEADERS_MAX: usize = 24;

/// The request headers the stages read.
#[derive(Default)]
struct StageHeaders<'a> {
    request_id: Option<&'a HeaderValue>,
    correlation_id: Option<&'a HeaderValue>,
    traceparent: Option<&'a HeaderValue>,
}

impl<'a> StageHeaders<'a> {
    /// The first value of each header, as `HeaderMap::get` finds it. A request's few headers
    /// are compared by name in one pass: the three hashed lookups (of names usually absent)
    /// cost more than comparing names that mostly differ in kind or length.
    fn of(headers: &'a HeaderMap) -> StageHeaders<'a> {
        if headers.len() > SCAN_HEADERS_MAX {
            return StageHeaders {
                request_id: headers.get(&REQUEST_ID_NAME),
                correlation_id: headers.get(&CORRELATION_ID_NAME),
                traceparent: headers.get(&TRACEPARENT_NAME),
            };
        }
        let mut found = StageHeaders::default();
        for (name, value) in headers {
            let slot = if *name == REQUEST_ID_NAME {
                &mut found.request_id
            } else if *name == CORRELATION_ID_NAME {
                &mut found.correlation_id
            } else if *name == TRACEPARENT_NAME {
                &mut found.traceparent
            } else {
                continue;
            };
            slot.get_or_insert(value);
        }
        found
    }

    /// The usable incoming request id's text, trimmed.
    fn request_id(&self) -> Option<&'a str> {
        [self.request_id, self.correlation_id]
            .into_iter()
            .flatten()
            .filter_map(|value| Some(value.to_str().ok()?.trim()))
            .find(|v| {
                !v.is_empty()
                    && v.len() <= MAX_REQUEST_ID_LEN
                    && v.bytes().all(|b| b.is_ascii_graphic())
            })
    }
}

pin_project_lite::pin_project! {
    /// A request going through the stages: the application's future, and what the stages
    /// hold until its response. A plain struct rather than an `async fn`, so that the request
    /// is not held beside the handler's future and the whole fits in a small allocation.
    pub(crate) struct Served<F> {
        #[pin]
        handler: Option<F>,
        stages: Option<Stages>,
    }
}

/// What the stages keep from a request's arrival to its response.
struct Stages {
    state: Arc<LayerState>,
    cache: Arc<RouteCache>,
    start: Instant,
    method: Method,
    /// The request's path (and query), for the access line: a parsed URI shares its bytes,
    /// so this clone copies no text; `None` where `Uri::path` is empty (`*`, authorities).
    path: Option<PathAndQuery>,
    client: Option<IpAddr>,
    /// Only there when spans are exported, boxed since it is large.
    server_span: Option<Box<ServerSpan>>,
    /// Published in the thread's slot while the handler is polled (see `trace::scope`).
    scope: RefCell<RequestScope>,
    red: RedRequest,
    /// A panic of the application's service while it created the handler's future.
    call_panic: Option<Payload>,
    /// Whether the RED metrics saw the response (else dropping takes the request out of the
    /// in-progress gauge).
    finished: bool,
}

/// Starts a request through the stages and `inner` (the application's route): request id,
/// SERVER span, RED metrics' start, then the handler's future, created here.
pub(crate) fn serve<S>(
    state: &Arc<LayerState>,
    cache: &Arc<RouteCache>,
    mut request: Request,
    inner: &mut S,
) -> Served<S::Future>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    let start = Instant::now();
    // The log filter decides, as for the `tracing` span this replaces.
    let traced = filter_enabled!(SPAN, target: module_path!(), tracing::Level::INFO);

    let found = StageHeaders::of(request.headers());
    let remote = found
        .traceparent
        .filter(|_| traced)
        .and_then(|v| v.to_str().ok())
        .and_then(SpanContext::from_traceparent);
    let request_id = match found.request_id() {
        Some(text) => RequestIdText::new(text),
        None => RequestIdText::fresh(&new_request_id_text()),
    };

    let red = red::begin(&state.metrics, cache, &mut request);
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let method = request.method().clone();
    let path = request.uri().path_and_query().cloned();

    let mut server_span = None;
    let ids = traced.then(|| {
        let (trace_id, parent) = match remote {
            Some(remote) => (remote.trace_id, Some(remote.span_id)),
            None => (new_trace_id(), None),
        };
        let ids = (trace_id, new_span_id());
        if state.exporter.is_some() {
            server_span = Some(Box::new(ServerSpan::begin(
                &request,
                red.matched_route(),
                client,
                request_id.as_str(),
                ids,
                parent,
            )));
        }
        ids
    });
    // Spans of an untraced request are not exported.
    let exporter = ids.and_then(|_| state.exporter.clone());
    let scope = RequestScope::new(ids, request_id, exporter);

    // Creating the handler's future runs application code too (a service's `call`).
    let (handler, call_panic) = match catch_unwind(AssertUnwindSafe(|| inner.call(request))) {
        Ok(handler) => (Some(handler), None),
        Err(payload) => (None, Some(payload)),
    };
    Served {
        handler,
        stages: Some(Stages {
            state: state.clone(),
            cache: cache.clone(),
            start,
            method,
            path,
            client,
            server_span,
            scope: RefCell::new(scope),
            red,
            call_panic,
            finished: false,
        }),
    }
}

impl<F> Future for Served<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(stages) = this.stages.as_mut() else {
            panic!("a request's future polled after its response");
        };
        // A telemetry that is not the global one logs and traces through its own dispatcher.
        let _dispatch = stages
            .state
            .dispatch
            .as_ref()
            .map(tracing::dispatcher::set_default);
        let response = {
            // The handler's log lines, spans, profile samples and request id extractor see
            // the request while it runs; so does the error line of a panic.
            let entered = scope::enter(&stages.scope);
            let hook = stages.state.hook;
            let profiled = (hook.active)().then(|| stages.scope.borrow().ids).flatten();
            if let Some((trace_id, span_id)) = profiled {
                (hook.set)(trace_id, span_id);
            }
            let polled = match this.handler.as_pin_mut() {
                Some(handler) => panic::poll_caught(handler, cx),
                None => Poll::Ready(Err(stages
                    .call_panic
                    .take()
                    .unwrap_or_else(|| Box::new("the handler was not created")))),
            };
            if profiled.is_some() {
                match entered.outer_ids() {
                    Some((outer_trace, outer_span)) => (hook.set)(outer_trace, outer_span),
                    None => (hook.clear)(),
                }
            }
            match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(response)) => response,
                Poll::Ready(Err(payload)) => panic::panic_response(payload),
            }
        };
        let response = stages.finish(response);
        // Dropped in place: the stages are large, and moving them out costs a copy.
        *this.stages = None;
        Poll::Ready(Ok(response))
    }
}

impl Stages {
    /// The end of the request: metrics, the SERVER span's export, the access line and the
    /// request id header, with one reading of each clock.
    fn finish(&mut self, response: Response) -> Response {
        let elapsed = self.start.elapsed();
        let now = SystemTime::now();
        let scope = self.scope.get_mut();
        let now_secs = now
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let state = &self.state;
        let mut response = self.red.finish(
            &state.metrics,
            &self.cache,
            response,
            elapsed.as_secs_f64(),
            now_secs,
            scope.ids,
        );
        self.finished = true;

        let status = response.status();
        if let (Some(span), Some(exporter)) = (self.server_span.take(), &state.exporter) {
            exporter.send(span.finish(status, scope, now));
        }
        // Rounded to whole microseconds, in integers: no float rounding per line.
        let duration_us = elapsed.as_secs() * 1_000_000
            + u64::from(elapsed.subsec_nanos().saturating_add(500) / 1000);
        let line = AccessLine {
            method: &self.method,
            path: self.path.as_ref().map_or("", PathAndQuery::path),
            route: self.red.route(),
            status,
            duration_us,
            request_id: &scope.request_id,
            ids: scope.ids,
            client: self.client,
        };
        access_line::write(&state.log_writer, &line, now);
        // Incoming ids were checked to be visible ASCII and new ones are hex: the header value
        // cannot fail.
        if let Ok(value) = HeaderValue::from_str(scope.request_id.as_str()) {
            response
                .headers_mut()
                .insert(REQUEST_ID_NAME.clone(), value);
        }
        response
    }
}

impl Drop for Stages {
    fn drop(&mut self) {
        // A request whose future was dropped before its response (the client went away).
        if !self.finished {
            self.red.cancel(&self.state.metrics, &self.cache);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::UNMATCHED_PATH;

    fn text(headers: &HeaderMap) -> Option<&str> {
        StageHeaders::of(headers).request_id()
    }

    #[test]
    fn the_kept_path_is_the_uris_path() {
        for text in [
            "/items/1?x=2",
            "/",
            "*",
            "http://h",
            "http://h/x?y",
            "h.example:443",
        ] {
            let uri: axum::http::Uri = text.parse().unwrap();
            let kept = uri.path_and_query().cloned();
            assert_eq!(
                kept.as_ref().map_or("", PathAndQuery::path),
                uri.path(),
                "{text}"
            );
        }
    }

    #[test]
    fn incoming_ids() {
        let mut h = HeaderMap::new();
        assert_eq!(text(&h), None);
        h.insert(CORRELATION_ID_HEADER, HeaderValue::from_static("corr"));
        assert_eq!(text(&h), Some("corr"));
        h.insert(REQUEST_ID_HEADER, HeaderValue::from_static("req"));
        assert_eq!(text(&h), Some("req"));
        // An unusable X-Request-Id falls back to X-Correlation-ID.
        h.insert(REQUEST_ID_HEADER, HeaderValue::from_static("has space"));
        assert_eq!(text(&h), Some("corr"));
    }

    #[test]
    fn the_one_pass_finds_what_lookups_find() {
        let mut few = HeaderMap::new();
        few.insert("host", HeaderValue::from_static("example"));
        few.append(REQUEST_ID_HEADER, HeaderValue::from_static("first"));
        few.append(REQUEST_ID_HEADER, HeaderValue::from_static("second"));
        few.insert("x-request-idx", HeaderValue::from_static("not it"));
        few.insert("traceparent", HeaderValue::from_static("00-tp"));
        let mut many = few.clone();
        for i in 0..SCAN_HEADERS_MAX {
            many.insert(
                HeaderName::try_from(format!("x-filler-{i}")).unwrap(),
                HeaderValue::from_static("f"),
            );
        }
        assert!(few.len() <= SCAN_HEADERS_MAX && many.len() > SCAN_HEADERS_MAX);
        for headers in [&few, &many] {
            let found = StageHeaders::of(headers);
            assert_eq!(found.request_id, headers.get(REQUEST_ID_HEADER));
            assert_eq!(found.request_id.unwrap(), "first");
            assert_eq!(found.correlation_id, None);
            assert_eq!(found.traceparent.unwrap(), "00-tp");
        }
    }

    use crate::ids::{SpanId, TraceId};
    use crate::log::LogWriter;
    use crate::metrics::Registry;
    use crate::trace::layer::SpanHook;
    use std::cell::RefCell;

    thread_local! {
        static HOOK_CALLS: RefCell<Vec<Option<(TraceId, SpanId)>>> =
            const { RefCell::new(Vec::new()) };
    }

    const RECORDING_HOOK: SpanHook = SpanHook {
        set: |t, s| HOOK_CALLS.with(|c| c.borrow_mut().push(Some((t, s)))),
        clear: || HOOK_CALLS.with(|c| c.borrow_mut().push(None)),
        active: || true,
    };

    #[test]
    fn the_handler_runs_in_the_request_scope_and_the_profiler_is_told() {
        let registry = Registry::new();
        let (log_writer, log) = LogWriter::memory();
        let state = Arc::new(LayerState {
            metrics: super::super::red::HttpMetrics::register(&registry).unwrap(),
            dispatch: None,
            log_writer,
            exporter: None,
            hook: RECORDING_HOOK,
        });
        let handler = tower::service_fn(|_request: Request| async {
            let seen = crate::trace::current_span_ids();
            let response = Response::new(axum::body::Body::from(format!("{seen:?}")));
            Ok::<_, Infallible>((response, seen))
        });
        let handler = tower::util::MapResponse::new(handler, |(response, seen)| {
            HOOK_CALLS.with(|c| c.borrow_mut().push(seen));
            response
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let response = tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            let mut handler = handler;
            runtime.block_on(serve(
                &state,
                &Arc::new(RouteCache::default()),
                Request::new(axum::body::Body::empty()),
                &mut handler,
            ))
        });
        let Ok(response) = response;
        assert!(response.headers().contains_key(REQUEST_ID_HEADER));
        let calls = HOOK_CALLS.with(|c| c.borrow().clone());
        // Told on entering the poll, then what the handler saw, then cleared on leaving.
        let [Some(told), Some(seen), None] = calls[..] else {
            panic!("hook calls {calls:?}");
        };
        assert_eq!(told, seen, "the handler saw the request's span");
        assert_eq!(crate::trace::current_span_ids(), None, "out of the request");
        let line = log.lines().pop().expect("an access line");
        assert!(
            line.contains(&format!("span_id={}", crate::ids::hex(&seen.1))),
            "{line}"
        );
    }

    /// A layer state without a log filter of its own, hook or exporter.
    fn quiet_state(registry: &Registry) -> (Arc<LayerState>, crate::log::MemoryLog) {
        let (log_writer, log) = LogWriter::memory();
        let state = Arc::new(LayerState {
            metrics: super::super::red::HttpMetrics::register(registry).unwrap(),
            dispatch: None,
            log_writer,
            exporter: None,
            hook: crate::trace::layer::PROFILING_HOOK,
        });
        (state, log)
    }

    fn in_progress(state: &LayerState) -> f64 {
        state
            .metrics
            .in_progress
            .with(&["GET", UNMATCHED_PATH])
            .get()
    }

    #[test]
    fn a_request_dropped_before_its_response_leaves_the_in_progress_gauge() {
        let registry = Registry::new();
        let (state, log) = quiet_state(&registry);
        let mut never = tower::service_fn(|_request: Request| {
            std::future::pending::<Result<Response, Infallible>>()
        });
        let cache = Arc::new(RouteCache::default());
        let mut served = Box::pin(serve(
            &state,
            &cache,
            Request::new(axum::body::Body::empty()),
            &mut never,
        ));
        assert_eq!(in_progress(&state), 1.0);
        let waker = std::task::Waker::noop();
        assert!(
            served
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending()
        );
        drop(served);
        assert_eq!(in_progress(&state), 0.0, "the client went away");
        assert!(log.lines().is_empty(), "no response, no access line");
        // Dropped without ever being polled, too.
        drop(serve(
            &state,
            &cache,
            Request::new(axum::body::Body::empty()),
            &mut never,
        ));
        assert_eq!(in_progress(&state), 0.0);
        assert_eq!(
            state.metrics.requests.with(&["GET", UNMATCHED_PATH]).get(),
            2.0
        );
    }

    /// A service that panics in `call`, before any future exists.
    #[derive(Clone)]
    struct PanicsInCall;

    impl tower::Service<Request> for PanicsInCall {
        type Response = Response;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response, Infallible>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _request: Request) -> Self::Future {
            std::panic::panic_any(crate::Exception::new("RoutingError", "no handler"))
        }
    }

    #[test]
    fn a_panic_while_creating_the_handler_is_a_counted_500() {
        let registry = Registry::new();
        let (state, log) = quiet_state(&registry);
        crate::quiet_exception_panics();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let cache = Arc::new(RouteCache::default());
        let response = tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            runtime.block_on(serve(
                &state,
                &cache,
                Request::new(axum::body::Body::empty()),
                &mut PanicsInCall,
            ))
        });
        let Ok(response) = response;
        assert_eq!(response.status(), 500);
        let counted = state
            .metrics
            .exceptions
            .with(&["GET", UNMATCHED_PATH, "RoutingError"])
            .get();
        assert_eq!(counted, 1.0);
        assert_eq!(in_progress(&state), 0.0);
        let line = log.lines().pop().expect("an access line");
        assert!(line.starts_with("level=error"), "{line}");
        assert!(line.contains(" status=500 "), "{line}");
    }
}
