//! The RED metrics middleware (rate, errors, duration) with the seed's metric names, labelled
//! by method and route template, never the raw path.

use super::body::{CountingBody, Sink};
use super::exception::ExceptionType;
use super::route_cache::{Cached, RouteCache, RouteHandles, RouteSlot};
use crate::error::MetricsError;
use crate::ids::{SpanId, TraceId};
use crate::metrics::{CounterVec, GaugeVec, HistogramVec, Registry};
use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, header};
use axum::response::Response;
use http_body::Body as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Duration buckets: fine below 0.5 s, with bounds at 0.1 s and 0.4 s so that Apdex
/// (satisfied ≤ T, tolerating ≤ 4T with T = 0.1 s) reads straight off two buckets.
pub const DURATION_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.4, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Size buckets in bytes: powers of ten from 100 B to 10 MB.
pub const SIZE_BUCKETS: [f64; 6] = [100.0, 1e3, 1e4, 1e5, 1e6, 1e7];

/// The `path` label of requests no route matched.
pub const UNMATCHED_PATH: &str = "<unmatched>";

/// The HTTP metric families.
#[derive(Clone)]
pub(crate) struct HttpMetrics {
    pub(super) requests: CounterVec,
    pub(super) responses: CounterVec,
    pub(super) duration: HistogramVec,
    pub(super) in_progress: GaugeVec,
    pub(super) exceptions: CounterVec,
    pub(super) request_size: HistogramVec,
    pub(super) response_size: HistogramVec,
}

impl HttpMetrics {
    pub(crate) fn register(r: &Registry) -> Result<Self, MetricsError> {
        Ok(HttpMetrics {
            requests: r.counter(
                "http_requests_total",
                "Requests received, counted when they start.",
                &["method", "path"],
            )?,
            responses: r.counter(
                "http_responses_total",
                "Responses sent, by status code.",
                &["method", "path", "status_code"],
            )?,
            duration: r.histogram(
                "http_request_duration_seconds",
                "Time from the request's arrival to its response headers.",
                &["method", "path", "status_code"],
                &DURATION_BUCKETS,
            )?,
            in_progress: r.gauge(
                "http_requests_in_progress",
                "Requests being handled now.",
                &["method", "path"],
            )?,
            exceptions: r.counter(
                "http_exceptions_total",
                "Requests that ended in an exception (a handler panic or a response marked with ExceptionType).",
                &["method", "path", "exception_type"],
            )?,
            request_size: r.histogram(
                "http_request_size_bytes",
                "Request body sizes.",
                &["method", "path"],
                &SIZE_BUCKETS,
            )?,
            response_size: r.histogram(
                "http_response_size_bytes",
                "Response body sizes.",
                &["method", "path", "status_code"],
                &SIZE_BUCKETS,
            )?,
        })
    }
}

/// The method as a label: the standard ones by name, anything else as `_OTHER` (as the
/// OpenTelemetry conventions do), so that made-up methods cannot grow the label space.
pub(crate) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

/// A body's size when known before it is read: the body's exact size hint (hyper's from the
/// request's framing; a buffered response body's own length), else a `Content-Length` header
/// the application set. The hint goes first: it costs no header lookup.
fn known_size(body: &Body, headers: &axum::http::HeaderMap) -> Option<u64> {
    body.size_hint().exact().or_else(|| {
        headers
            .get(header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse()
            .ok()
    })
}

/// What the metrics need from a request's start to its end. The route's handles are found
/// again at the end, by the slot of the cache where the start found them (by their labels when
/// the cache was full), rather than borrowed from the cache, so that the request's future owns
/// everything it holds.
pub(crate) struct RedRequest {
    method: &'static str,
    /// The route template, `None` when no route matched.
    route: Option<MatchedPath>,
    /// Where the route's metric handles were found at the start.
    route_slot: RouteSlot,
    known_request_size: Option<u64>,
    /// Bytes of a request body of unknown size, counted as the handler reads it.
    counted: Option<Arc<AtomicU64>>,
}

/// Counts the request as started (in progress included) through the handles `cache` keeps for
/// its route, and wraps its body for counting when its size is not known up front. The
/// request must then end in [`RedRequest::finish`] or [`RedRequest::cancel`].
pub(crate) fn begin(m: &HttpMetrics, cache: &RouteCache, request: &mut Request) -> RedRequest {
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let (handles, route_slot) = cache.route(m, method, route_label(&route));
    handles.requests.inc();
    handles.in_progress.inc();

    let known_request_size = known_size(request.body(), request.headers());
    // The body is wrapped in place: the request (some 200 bytes) is not moved in and out.
    let counted = match known_request_size {
        Some(_) => None,
        None => {
            let total = Arc::new(AtomicU64::new(0));
            let body = std::mem::take(request.body_mut());
            *request.body_mut() = Body::new(CountingBody::new(body, Sink::Shared(total.clone())));
            Some(total)
        }
    };
    RedRequest {
        method,
        route,
        route_slot,
        known_request_size,
        counted,
    }
}

/// The route label of a request: its route template, or `<unmatched>`.
fn route_label(route: &Option<MatchedPath>) -> &str {
    route.as_ref().map_or(UNMATCHED_PATH, MatchedPath::as_str)
}

impl RedRequest {
    /// The route template, if a route matched.
    pub(crate) fn matched_route(&self) -> Option<&str> {
        self.route.as_ref().map(MatchedPath::as_str)
    }

    /// The route label: the route template, or `<unmatched>`.
    pub(crate) fn route(&self) -> &str {
        route_label(&self.route)
    }

    /// The route's metric handles, found again where the start found them.
    fn handles<'c>(&self, m: &HttpMetrics, cache: &'c RouteCache) -> Cached<'c, RouteHandles> {
        cache.route_again(self.route_slot, m, self.method, self.route())
    }

    /// Takes a request that ends without a response (its future dropped) out of
    /// `http_requests_in_progress`.
    pub(crate) fn cancel(&self, m: &HttpMetrics, cache: &RouteCache) {
        self.handles(m, cache).in_progress.dec();
    }

    /// Counts, times and sizes the response, and takes the request out of
    /// `http_requests_in_progress`: `elapsed` seconds since the request arrived, `now`
    /// (seconds since the epoch) for the exemplar, which carries `span_ids`.
    pub(crate) fn finish(
        &self,
        m: &HttpMetrics,
        cache: &RouteCache,
        response: Response,
        elapsed: f64,
        now: f64,
        span_ids: Option<(TraceId, SpanId)>,
    ) -> Response {
        let route = self.handles(m, cache);
        route.in_progress.dec();
        let by_status = route.status(m, response.status());
        by_status.responses.inc();
        by_status.duration.observe_at(elapsed, span_ids, now);
        if let Some(exception) = response.extensions().get::<ExceptionType>() {
            m.exceptions
                .with(&[route.method(), route.route(), &exception.0])
                .inc();
        }
        let request_size = self
            .known_request_size
            .or_else(|| self.counted.as_ref().map(|c| c.load(Ordering::Relaxed)))
            .unwrap_or(0);
        route.request_size.observe(request_size as f64);

        let response_size = &by_status.response_size;
        match known_size(response.body(), response.headers()) {
            Some(n) => {
                response_size.observe(n as f64);
                response
            }
            None => {
                let (parts, body) = response.into_parts();
                let sink = Sink::ObserveOnDrop(response_size.clone());
                let body = Body::new(CountingBody::new(body, sink));
                Response::from_parts(parts, body)
            }
        }
    }
}
