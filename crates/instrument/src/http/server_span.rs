//! The request's SERVER span as exported: its name, attributes and status, gathered only when
//! spans are exported (without an exporter nothing reads them, and the request pays nothing).
//!
//! Name `"{METHOD} {route}"` (just the method outside any route); attributes in this order:
//! `http.request.method`, `http.route`, `url.path`, `url.scheme`, `server.address`,
//! `client.address`, `user_agent.original`, `request_id`, `http.response.status_code`; the
//! status is an error for 5xx. Events are the request's log lines outside the application's
//! own spans (see `trace::scope`).

use crate::ids::{SpanId, TraceId};
use crate::trace::data::{Kind, SpanData, Value, truncate};
use crate::trace::scope::RequestScope;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use opentelemetry_proto::tonic::trace::v1::Span;
use std::net::IpAddr;
use std::time::SystemTime;

/// The host of a `Host` header value: `example.com:8080` → `example.com`, `[::1]:80` → `::1`.
pub(crate) fn host_without_port(host: &str) -> &str {
    match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(bracketed),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    }
}

/// A SERVER span being recorded.
pub(crate) struct ServerSpan(SpanData);

fn text(s: &str) -> Value {
    Value::Str(truncate(s.to_string()))
}

impl ServerSpan {
    /// The span of `request`, started now.
    pub(crate) fn begin(
        request: &Request,
        route: Option<&str>,
        client: Option<IpAddr>,
        request_id: &str,
        ids: (TraceId, SpanId),
        parent: Option<SpanId>,
    ) -> ServerSpan {
        let method = request.method().as_str();
        let headers = request.headers();
        let name = match route {
            Some(route) => format!("{method} {route}"),
            None => method.to_string(),
        };
        let mut data = SpanData::start(ids.0, ids.1, parent, name, Kind::Server, 9);
        data.set_attribute("http.request.method", text(method));
        if let Some(route) = route {
            data.set_attribute("http.route", text(route));
        }
        data.set_attribute("url.path", text(request.uri().path()));
        data.set_attribute("url.scheme", text("http"));
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| request.uri().host())
            .map(host_without_port);
        if let Some(host) = host {
            data.set_attribute("server.address", text(host));
        }
        let client = client.map(|ip| ip.to_string()).unwrap_or_default();
        data.set_attribute("client.address", Value::Str(client));
        if let Some(agent) = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
        {
            data.set_attribute("user_agent.original", text(agent));
        }
        data.set_attribute("request_id", text(request_id));
        ServerSpan(data)
    }

    /// The OTLP span, ended at `end` with the response's `status` and the events `scope`
    /// gathered.
    pub(crate) fn finish(
        self,
        status: StatusCode,
        scope: &mut RequestScope,
        end: SystemTime,
    ) -> Span {
        let mut data = self.0;
        data.set_attribute(
            "http.response.status_code",
            Value::I64(i64::from(status.as_u16())),
        );
        if status.is_server_error() {
            data.error = Some(true);
        }
        data.events = std::mem::take(&mut scope.events);
        data.dropped_events = scope.dropped_events;
        data.to_proto(end)
    }
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
}
