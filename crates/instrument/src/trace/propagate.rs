//! Outgoing calls: [`propagate`] opens a CLIENT span for a reqwest request and injects its W3C
//! `traceparent`, so the called service's request span becomes its child.
//!
//! Inside a request (and no span of the application's), the CLIENT span is plain data (see
//! `client_span`); elsewhere it is a `tracing` span, a child of the current one.

use super::client_span::PlainClientSpan;
use super::layer::span_ids;
use crate::ids::SpanContext;
use reqwest::header::{HeaderName, HeaderValue};
use std::time::Duration;
use tracing::Instrument;
use tracing::field::Empty;

/// The header's name as a value: `from_static` checks the name on every call.
static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// A request prepared by [`propagate`]: send it with [`TracedRequest::send`], which runs the
/// call inside its CLIENT span and records the response status on it.
#[derive(Debug)]
pub struct TracedRequest {
    client: reqwest::Client,
    request: reqwest::Result<reqwest::Request>,
    span: ClientSpan,
}

/// The CLIENT span of a [`TracedRequest`].
#[derive(Debug)]
enum ClientSpan {
    /// A `tracing` span (outside requests, or inside an application's span).
    Registry(tracing::Span),
    /// A child of the request being polled when the call was prepared.
    Plain(PlainClientSpan),
}

/// Prepares `builder` for sending inside a new CLIENT span (a child of the current span) named
/// by the HTTP method, with the `traceparent` header of that span. Outside any traced span the
/// call starts a new trace.
///
/// ```no_run
/// # async fn f(client: reqwest::Client) -> reqwest::Result<()> {
/// let response = instrument::propagate(client.get("http://127.0.0.1:8001/stock/1")).send().await?;
/// # Ok(()) }
/// ```
pub fn propagate(builder: reqwest::RequestBuilder) -> TracedRequest {
    let (client, request) = builder.build_split();
    let span = match &request {
        Ok(req) => match PlainClientSpan::begin_in_request(req) {
            Some(plain) => ClientSpan::Plain(plain),
            None => {
                let url = req.url();
                ClientSpan::Registry(tracing::info_span!(
                    "http_client",
                    otel.name = %req.method(),
                    otel.kind = "client",
                    otel.status_code = Empty,
                    otel.status_message = Empty,
                    http.request.method = %req.method(),
                    url.full = %url,
                    server.address = url.host_str().unwrap_or(""),
                    server.port = url.port_or_known_default().map(i64::from).unwrap_or(0),
                    http.response.status_code = Empty,
                ))
            }
        },
        Err(_) => ClientSpan::Registry(tracing::Span::none()),
    };
    let ids = match &span {
        ClientSpan::Registry(span) => span_ids(span),
        ClientSpan::Plain(plain) => Some(plain.ids()),
    };
    let request = request.map(|mut req| {
        if let Some((trace_id, span_id)) = ids {
            let traceparent = SpanContext {
                trace_id,
                span_id,
                sampled: true,
            }
            .traceparent_text();
            if let Ok(value) = HeaderValue::from_str(traceparent.as_str()) {
                req.headers_mut().insert(TRACEPARENT.clone(), value);
            }
        }
        req
    });
    TracedRequest {
        client,
        request,
        span,
    }
}

/// Adds the `traceparent` of the current span to `builder`, without a CLIENT span of its own:
/// for calls whose sending [`propagate`] cannot wrap. Outside any traced span it adds nothing.
pub fn inject(builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match super::layer::current_span_ids() {
        Some((trace_id, span_id)) => {
            let traceparent = SpanContext {
                trace_id,
                span_id,
                sampled: true,
            }
            .traceparent_text();
            builder.header(TRACEPARENT.clone(), traceparent.as_str())
        }
        None => builder,
    }
}

impl TracedRequest {
    /// Sets a header (replacing one of that name).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        if let Ok(req) = &mut self.request {
            req.headers_mut().insert(name, value);
        }
        self
    }

    /// Sets the timeout of the whole call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        if let Ok(req) = &mut self.request {
            *req.timeout_mut() = Some(timeout);
        }
        self
    }

    /// Applies any `reqwest::RequestBuilder` method to the prepared request, e.g.
    /// `.map(|b| b.json(&order))`; the `traceparent` header stays.
    pub fn map(self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        let TracedRequest {
            client,
            request,
            span,
        } = self;
        let request = match request {
            Ok(request) => {
                f(reqwest::RequestBuilder::from_parts(client.clone(), request))
                    .build_split()
                    .1
            }
            Err(e) => Err(e),
        };
        TracedRequest {
            client,
            request,
            span,
        }
    }

    /// The prepared request (absent when the builder had an error, which `send` returns).
    pub fn request_mut(&mut self) -> Option<&mut reqwest::Request> {
        self.request.as_mut().ok()
    }

    /// Sends the request inside its CLIENT span; the span ends with the response headers and is
    /// marked as an error for transport failures and 4xx/5xx statuses.
    pub async fn send(self) -> reqwest::Result<reqwest::Response> {
        let request = self.request?;
        match self.span {
            ClientSpan::Registry(span) => {
                let result = self.client.execute(request).instrument(span.clone()).await;
                match &result {
                    Ok(response) => {
                        let status = response.status();
                        span.record("http.response.status_code", i64::from(status.as_u16()));
                        if status.is_client_error() || status.is_server_error() {
                            span.record("otel.status_code", "error");
                        }
                    }
                    Err(err) => {
                        span.record("otel.status_code", "error");
                        span.record("otel.status_message", err.to_string().as_str());
                    }
                }
                result
            }
            // Ends (and is exported) when dropped here, as the registry span closes.
            ClientSpan::Plain(mut span) => {
                let result = self.client.execute(request).await;
                match &result {
                    Ok(response) => span.record_status(response.status()),
                    Err(err) => span.record_error(&err.to_string()),
                }
                result
            }
        }
    }
}
