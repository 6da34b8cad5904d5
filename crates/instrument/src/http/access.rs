//! The request access middleware (outermost): request id, the request's SERVER span, and one
//! logfmt access line when the response is ready.
//!
//! The access line has exactly these keys, in this order:
//! `level ts msg method path route status duration_ms request_id trace_id span_id client`.
//! `level` is `info` below 400, `warn` for 4xx, `error` for 5xx.

use super::red::UNMATCHED_PATH;
use crate::ids::{hex, new_request_id};
use crate::trace::span_ids;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;
use tracing::Instrument;
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

/// Handles the request id, the SERVER span and the access line around `inner`.
pub(crate) async fn access<F, Fut>(mut request: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let start = Instant::now();
    let request_id = incoming_request_id(request.headers()).unwrap_or_else(new_request_id);
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host())
        .map(|h| host_without_port(h).to_string());
    let span_name = match &route {
        Some(route) => format!("{method} {}", route.as_str()),
        None => method.to_string(),
    };
    let span = {
        let headers = request.headers();
        tracing::info_span!(
            "http_request",
            otel.name = %span_name,
            otel.kind = "server",
            otel.traceparent = headers.get("traceparent").and_then(|v| v.to_str().ok()),
            otel.status_code = Empty,
            http.request.method = %method,
            http.route = route.as_ref().map(MatchedPath::as_str),
            url.path = %path,
            url.scheme = "http",
            server.address = host.as_deref(),
            client.address = %client,
            user_agent.original = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()),
            http.response.status_code = Empty,
            request_id = %request_id,
        )
    };
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));

    let mut response = inner(request).instrument(span.clone()).await;

    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "error");
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    let duration_ms = (start.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    let (trace_id, span_id) = span_ids(&span)
        .map(|(t, s)| (hex(&t), hex(&s)))
        .unwrap_or_default();
    let route = route.as_ref().map_or(UNMATCHED_PATH, MatchedPath::as_str);
    let status = status.as_u16();
    span.in_scope(|| {
        macro_rules! access_line {
            ($level:expr) => {
                tracing::event!(
                    target: "instrument::access",
                    $level,
                    method = method.as_str(),
                    path = path.as_str(),
                    route,
                    status,
                    duration_ms,
                    request_id = request_id.as_str(),
                    trace_id = trace_id.as_str(),
                    span_id = span_id.as_str(),
                    client = client.as_str(),
                    "request"
                )
            };
        }
        match status {
            500.. => access_line!(tracing::Level::ERROR),
            400..500 => access_line!(tracing::Level::WARN),
            _ => access_line!(tracing::Level::INFO),
        }
    });
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
