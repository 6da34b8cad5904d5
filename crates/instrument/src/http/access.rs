//! The request access middleware (outermost): request id, the request's SERVER span, and one
//! logfmt access line when the response is ready.
//!
//! The access line has exactly these keys, in this order:
//! `level ts msg method path route status duration_ms request_id trace_id span_id client`.
//! `level` is `info` below 400, `warn` for 4xx, `error` for 5xx.

use super::red::UNMATCHED_PATH;
use crate::ids::{HexId, SpanId, TraceId, new_request_id};
use crate::trace::span_ids;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;
use tracing::field::Empty;

/// The response header (and accepted request header) carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Accepted as the request id when there is no `X-Request-Id`.
pub const CORRELATION_ID_HEADER: &str = "x-correlation-id";
/// Longest accepted incoming request id; longer ones are replaced by a fresh id.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The request id of the current request, in the request's extensions for handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

fn incoming_request_id(headers: &HeaderMap) -> Option<String> {
    [REQUEST_ID_HEADER, CORRELATION_ID_HEADER]
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::trim)
        .find(|v| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID_LEN
                && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_string)
}

/// The host of a `Host` header value: `example.com:8080` → `example.com`, `[::1]:80` → `::1`.
fn host_without_port(host: &str) -> &str {
    match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(bracketed),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    }
}

/// What the access stage hands the stages inside it, so they need not look it up again.
#[derive(Clone, Copy)]
pub(crate) struct RequestContext {
    /// When the request arrived (the start of every duration measured for it).
    pub(crate) start: Instant,
    /// The request span's ids, for exemplars.
    pub(crate) span_ids: Option<(TraceId, SpanId)>,
}

/// The SERVER span's name, `GET /items/{id}` (or just the method outside any route), written
/// straight into the span's field instead of through a temporary `String`.
struct SpanName<'a> {
    method: &'a Method,
    route: Option<&'a str>,
}

impl std::fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.route {
            Some(route) => write!(f, "{} {route}", self.method),
            None => write!(f, "{}", self.method),
        }
    }
}

/// The peer's IP address, or nothing when the server was not asked for it; formatted only
/// where it is written.
struct Client(Option<IpAddr>);

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(ip) => ip.fmt(f),
            None => Ok(()),
        }
    }
}

/// Handles the request id, the SERVER span and the access line around `inner`.
pub(crate) async fn access<F, Fut>(mut request: Request, inner: F) -> Response
where
    F: FnOnce(Request, RequestContext) -> Fut,
    Fut: Future<Output = Response>,
{
    let start = Instant::now();
    let request_id = incoming_request_id(request.headers()).unwrap_or_else(new_request_id);
    let method = request.method().clone();
    // A parsed URI shares its bytes: this clone copies no text.
    let uri = request.uri().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let client = Client(
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip()),
    );
    let span = {
        let headers = request.headers();
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| uri.host())
            .map(host_without_port);
        let span_name = SpanName {
            method: &method,
            route: route.as_ref().map(MatchedPath::as_str),
        };
        tracing::info_span!(
            "http_request",
            otel.name = %span_name,
            otel.kind = "server",
            otel.traceparent = headers.get("traceparent").and_then(|v| v.to_str().ok()),
            otel.status_code = Empty,
            http.request.method = %method,
            http.route = route.as_ref().map(MatchedPath::as_str),
            url.path = uri.path(),
            url.scheme = "http",
            server.address = host,
            client.address = %client,
            user_agent.original = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()),
            http.response.status_code = Empty,
            request_id = request_id.as_str(),
        )
    };
    // Incoming ids were checked to be visible ASCII and new ones are hex: the header value
    // cannot fail, and it keeps the text for the access line, so the id itself moves into the
    // handlers' extension without a copy.
    let header_value = HeaderValue::from_str(&request_id).ok();
    request.extensions_mut().insert(RequestId(request_id));

    // The ids are looked up once, here, for the exemplars inside and the access line after.
    let ids = span_ids(&span);
    let context = RequestContext {
        start,
        span_ids: ids,
    };
    // Inside the span for every poll, as `Instrument` would do, without a second handle on
    // the span to clone and close.
    let mut stages = std::pin::pin!(inner(request, context));
    let mut response = std::future::poll_fn(|cx| {
        let _entered = span.enter();
        stages.as_mut().poll(cx)
    })
    .await;

    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "error");
    }
    let duration_ms = (start.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    let hex_ids = ids.map(|(t, s)| (HexId::<32>::new(&t), HexId::<16>::new(&s)));
    let (trace_id, span_id) = hex_ids
        .as_ref()
        .map_or(("", ""), |(t, s)| (t.as_str(), s.as_str()));
    let route = route.as_ref().map_or(UNMATCHED_PATH, MatchedPath::as_str);
    let status = status.as_u16();
    let request_id = header_value
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // The line names its span as parent rather than entering it: same context for the
    // subscriber, without an enter and exit.
    macro_rules! access_line {
        ($level:expr) => {
            tracing::event!(
                target: "instrument::access",
                parent: &span,
                $level,
                method = method.as_str(),
                path = uri.path(),
                route,
                status,
                duration_ms,
                request_id,
                trace_id,
                span_id,
                client = %client,
                "request"
            )
        };
    }
    match status {
        500.. => access_line!(tracing::Level::ERROR),
        400..500 => access_line!(tracing::Level::WARN),
        _ => access_line!(tracing::Level::INFO),
    }
    if let Some(value) = header_value {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(host_without_port("example.com:8080"), "example.com");
        assert_eq!(host_without_port("example.com"), "example.com");
        assert_eq!(host_without_port("[::1]:80"), "::1");
        assert_eq!(host_without_port("[::1]"), "::1");
    }

    #[test]
    fn incoming_ids() {
        let mut h = HeaderMap::new();
        assert_eq!(incoming_request_id(&h), None);
        h.insert(CORRELATION_ID_HEADER, HeaderValue::from_static("corr"));
        assert_eq!(incoming_request_id(&h).as_deref(), Some("corr"));
        h.insert(REQUEST_ID_HEADER, HeaderValue::from_static("req"));
        assert_eq!(incoming_request_id(&h).as_deref(), Some("req"));
        // An unusable X-Request-Id falls back to X-Correlation-ID.
        h.insert(REQUEST_ID_HEADER, HeaderValue::from_static("has space"));
        assert_eq!(incoming_request_id(&h).as_deref(), Some("corr"));
    }
}
