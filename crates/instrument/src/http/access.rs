//! The request access middleware (outermost), with the other stages inside it: request id,
//! the request's SERVER span, RED metrics, panic catcher, and one access line when the
//! response is ready.
//!
//! The stages share one reading of the clocks at each end of the request, and the SERVER span
//! is a [`RequestScope`] rather than a `tracing` span (see `trace::scope`): on a trivial
//! handler the layers would otherwise cost more than the handler.

use super::access_line::{self, AccessLine};
use super::red::{self, UNMATCHED_PATH};
use super::route_cache::RouteCache;
use super::server_span::ServerSpan;
use super::{LayerState, panic};
use crate::ids::{SpanContext, new_request_id_bytes, new_span_id, new_trace_id};
use crate::trace::scope::{self, RequestIdText, RequestScope};
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use std::cell::RefCell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
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

/// The usable incoming request id: its header value and its text, trimmed.
fn incoming_request_id(headers: &HeaderMap) -> Option<(&HeaderValue, &str)> {
    [&REQUEST_ID_NAME, &CORRELATION_ID_NAME]
        .into_iter()
        .filter_map(|name| {
            let value = headers.get(name)?;
            Some((value, value.to_str().ok()?.trim()))
        })
        .find(|(_, v)| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID_LEN
                && v.bytes().all(|b| b.is_ascii_graphic())
        })
}

/// Runs the request through `inner` (the application's router) inside the stages.
pub(crate) async fn serve<S>(
    state: Arc<LayerState>,
    cache: Arc<RouteCache>,
    request: Request,
    mut inner: S,
) -> Result<Response, Infallible>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    let start = Instant::now();
    // The log filter decides, as for the `tracing` span this replaces.
    let traced = tracing::span_enabled!(tracing::Level::INFO);

    // Incoming ids were checked to be visible ASCII and new ones are hex: the header value
    // cannot fail.
    let (request_id, header_value) = match incoming_request_id(request.headers()) {
        Some((value, text)) => {
            let reuse = value.len() == text.len();
            let id = RequestIdText::new(text);
            (id, reuse.then(|| value.clone()))
        }
        None => {
            let fresh = new_request_id_bytes();
            (
                RequestIdText::new(std::str::from_utf8(&fresh).unwrap_or_default()),
                None,
            )
        }
    };
    let header_value = header_value.or_else(|| HeaderValue::from_str(request_id.as_str()).ok());

    let route = request.extensions().get::<MatchedPath>().cloned();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let method = request.method().clone();
    // A parsed URI shares its bytes: this clone copies no text.
    let uri = request.uri().clone();

    // Boxed: only there when spans are exported, and it would double the request's future.
    let mut server_span = None;
    let scope = if traced {
        let remote = request
            .headers()
            .get(&TRACEPARENT_NAME)
            .and_then(|v| v.to_str().ok())
            .and_then(SpanContext::from_traceparent);
        let (trace_id, parent) = match remote {
            Some(remote) => (remote.trace_id, Some(remote.span_id)),
            None => (new_trace_id(), None),
        };
        let ids = (trace_id, new_span_id());
        if state.exporter.is_some() {
            server_span = Some(Box::new(ServerSpan::begin(
                &request,
                route.as_ref().map(MatchedPath::as_str),
                client,
                request_id.as_str(),
                ids,
                parent,
            )));
        }
        RequestScope::new(Some(ids), request_id, state.exporter.clone())
    } else {
        RequestScope::new(None, request_id, None)
    };
    let ids = scope.ids;

    let (red, request) = red::begin(&state.metrics, &cache, request);
    let in_progress = red.in_progress();
    let hook = state.hook;
    let mut handler = std::pin::pin!(panic::catch_panic(request, |request| inner.call(request)));
    // The poll function owns the scope (so the future stays `Send`) and hands it back with the
    // response; its place may change between polls, it is only published during one.
    let mut owned = Some(RefCell::new(scope));
    let (response, scope) = std::future::poll_fn(move |cx| {
        let polled = match owned.as_ref() {
            Some(scope) => {
                // The handler's log lines, spans, profile samples and request id extractor
                // see the request while it runs.
                let entered = scope::enter(scope);
                let profiled = ids.filter(|_| (hook.active)());
                if let Some((trace_id, span_id)) = profiled {
                    (hook.set)(trace_id, span_id);
                }
                let polled: Poll<Response> = handler.as_mut().poll(cx);
                if profiled.is_some() {
                    match entered.outer_ids() {
                        Some((outer_trace, outer_span)) => (hook.set)(outer_trace, outer_span),
                        None => (hook.clear)(),
                    }
                }
                polled
            }
            None => handler.as_mut().poll(cx),
        };
        polled.map(|response| (response, owned.take()))
    })
    .await;
    let mut scope = scope.map_or(RequestScope::NONE, RefCell::into_inner);

    // One reading of each clock for everything measured at the end.
    let elapsed = start.elapsed();
    let now = SystemTime::now();
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut response = red.finish(
        &state.metrics,
        response,
        elapsed.as_secs_f64(),
        now_secs,
        ids,
    );
    drop(in_progress);

    let status = response.status();
    if let (Some(span), Some(exporter)) = (server_span, &state.exporter) {
        exporter.send(span.finish(status, &mut scope, now));
    }
    let duration_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
    let line = AccessLine {
        method: &method,
        path: uri.path(),
        route: route.as_ref().map_or(UNMATCHED_PATH, MatchedPath::as_str),
        status,
        duration_ms,
        request_id: scope.request_id.as_str(),
        ids,
        client,
    };
    access_line::write(&state.log_writer, &line, now);
    if let Some(value) = header_value {
        response
            .headers_mut()
            .insert(REQUEST_ID_NAME.clone(), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(headers: &HeaderMap) -> Option<&str> {
        incoming_request_id(headers).map(|(_, t)| t)
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
            runtime.block_on(serve(
                state,
                Arc::new(RouteCache::default()),
                Request::new(axum::body::Body::empty()),
                handler,
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
}
