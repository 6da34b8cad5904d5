//! The CLIENT span of an outgoing call made inside a request, without `tracing`'s registry.
//!
//! A registry span costs a slab slot, an extensions map, entering and leaving on every poll of
//! the call, and every layer's callbacks: several microseconds on a request whose only other
//! tracing is the request scope (see `trace::scope`). When [`super::propagate`] runs while a
//! request is being polled, and no span of the application's is open inside it, the CLIENT
//! span is a child of the request itself, so it is plain data instead: the request's trace
//! id, a fresh span id, and — only when spans are exported — the same name, kind, attributes
//! and status the registry span would have had, sent to the request's exporter when the span
//! ends (when the call is done, or when the prepared request is dropped unsent).
//!
//! What this span does not do, unlike a registry span: it is never "current", so log lines
//! and profile samples during the call carry the request's span, and events logged while the
//! call runs belong to the request span.

use super::data::{Kind, SpanData, Value, truncate};
use super::enabled::filter_enabled;
use super::export::SpanSender;
use super::scope;
use crate::ids::{SpanId, TraceId, new_span_id};
use std::time::SystemTime;

/// Attributes of a CLIENT span: method, URL, server address and port, response status.
const ATTRIBUTES: usize = 5;

/// What is recorded of a CLIENT span that will be exported.
struct Recording {
    data: SpanData,
    exporter: SpanSender,
}

/// A CLIENT span as plain data: its ids, and its recording when spans are exported.
pub(crate) struct PlainClientSpan {
    trace_id: TraceId,
    span_id: SpanId,
    /// Boxed: absent unless spans are exported, and the prepared request is moved around.
    recording: Option<Box<Recording>>,
}

impl std::fmt::Debug for PlainClientSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainClientSpan")
            .field("trace_id", &crate::ids::hex(&self.trace_id))
            .field("span_id", &crate::ids::hex(&self.span_id))
            .field("exported", &self.recording.is_some())
            .finish()
    }
}

/// Text as the span layer keeps a `tracing` field's text (cut at the value limit).
fn text(s: &str) -> Value {
    Value::Str(truncate(s.to_string()))
}

impl PlainClientSpan {
    /// The CLIENT span of `request`, a child of the request being polled on this thread, or
    /// `None` when the span must be a registry span: outside any traced request, or inside a
    /// span the application opened in the request (which is then the parent).
    pub(crate) fn begin_in_request(request: &reqwest::Request) -> Option<PlainClientSpan> {
        let (trace_id, parent, exporter) =
            scope::with_current(|s| s.ids.map(|(t, p)| (t, p, s.exporter.clone()))).flatten()?;
        if application_span_in_trace(trace_id) {
            return None;
        }
        // The log filter decides, as it would for the registry span this replaces (whose
        // target is `propagate`'s module).
        if !filter_enabled!(SPAN, target: "instrument::trace::propagate", tracing::Level::INFO) {
            return None;
        }
        Some(PlainClientSpan::begin(request, trace_id, parent, exporter))
    }

    /// The CLIENT span of `request` in trace `trace_id` under span `parent`, started now;
    /// recorded for `exporter` when there is one.
    pub(crate) fn begin(
        request: &reqwest::Request,
        trace_id: TraceId,
        parent: SpanId,
        exporter: Option<SpanSender>,
    ) -> PlainClientSpan {
        let span_id = new_span_id();
        let recording = exporter.map(|exporter| {
            let method = request.method().as_str();
            let url = request.url();
            let mut data = SpanData::start(
                trace_id,
                span_id,
                Some(parent),
                truncate(method.to_string()),
                Kind::Client,
                ATTRIBUTES,
            );
            // In the order the registry span declares them.
            data.set_attribute("http.request.method", text(method));
            data.set_attribute("url.full", text(url.as_str()));
            data.set_attribute("server.address", text(url.host_str().unwrap_or("")));
            let port = url.port_or_known_default().map(i64::from).unwrap_or(0);
            data.set_attribute("server.port", Value::I64(port));
            Box::new(Recording { data, exporter })
        });
        PlainClientSpan {
            trace_id,
            span_id,
            recording,
        }
    }

    /// The span's trace id and span id.
    pub(crate) fn ids(&self) -> (TraceId, SpanId) {
        (self.trace_id, self.span_id)
    }

    /// Records the response status: an error for 4xx and 5xx.
    pub(crate) fn record_status(&mut self, status: reqwest::StatusCode) {
        if let Some(recording) = &mut self.recording {
            let data = &mut recording.data;
            data.set_attribute(
                "http.response.status_code",
                Value::I64(i64::from(status.as_u16())),
            );
            if status.is_client_error() || status.is_server_error() {
                data.error = Some(true);
            }
        }
    }

    /// Marks the span as failed with `message` (a transport error).
    pub(crate) fn record_error(&mut self, message: &str) {
        if let Some(recording) = &mut self.recording {
            recording.data.error = Some(true);
            recording.data.status_message = truncate(message.to_string());
        }
    }
}

impl Drop for PlainClientSpan {
    /// The span ends: exported now, as a registry span is when it closes.
    fn drop(&mut self) {
        if let Some(recording) = self.recording.take() {
            let end = SystemTime::now();
            recording.exporter.send(recording.data.to_proto(end));
        }
    }
}

/// Whether the thread runs inside a registry span of trace `trace_id` (a span the application
/// opened inside the request, which would be the CLIENT span's parent).
fn application_span_in_trace(trace_id: TraceId) -> bool {
    tracing::dispatcher::get_default(|dispatch| {
        let current = dispatch.current_span();
        let Some(id) = current.id() else {
            return false;
        };
        let Some(registry) = dispatch.downcast_ref::<tracing_subscriber::Registry>() else {
            return false;
        };
        use tracing_subscriber::registry::LookupSpan;
        registry
            .span(id)
            .and_then(|span| {
                span.extensions()
                    .get::<SpanData>()
                    .map(|d| d.trace_id == trace_id)
            })
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::layer::{SpanLayer, span_ids};
    use crate::trace::scope::{RequestIdText, RequestScope};
    use opentelemetry_proto::tonic::common::v1::any_value;
    use opentelemetry_proto::tonic::trace::v1::{Span, span, status};
    use std::cell::RefCell;
    use tracing_subscriber::layer::SubscriberExt;

    const HOOK: crate::trace::layer::SpanHook = crate::trace::layer::SpanHook {
        set: |_, _| {},
        clear: || {},
        active: || false,
    };

    fn request(url: &str) -> reqwest::Request {
        crate::ensure_crypto_provider();
        reqwest::Client::new().post(url).build().unwrap()
    }

    fn attribute(span: &Span, key: &str) -> Option<any_value::Value> {
        span.attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.clone()?.value)
    }

    fn str_value(s: &str) -> Option<any_value::Value> {
        Some(any_value::Value::StringValue(s.to_string()))
    }

    #[test]
    fn exported_with_the_request_as_parent_and_the_registry_span_attributes() {
        let (exporter, mut spans) = SpanSender::channel_for_tests(4);
        let scope = RefCell::new(RequestScope::new(
            Some(([1; 16], [2; 8])),
            RequestIdText::new("r-1"),
            Some(exporter),
        ));
        let subscriber = tracing_subscriber::registry().with(SpanLayer::new(None, HOOK));
        let mut client_span = tracing::subscriber::with_default(subscriber, || {
            let _entered = scope::enter(&scope);
            PlainClientSpan::begin_in_request(&request("http://inventory.test:8001/stock/7"))
        })
        .expect("a plain span inside the request");
        let (trace_id, span_id) = client_span.ids();
        assert_eq!(trace_id, [1; 16], "the request's trace");
        assert_ne!(span_id, [2; 8], "a span id of its own");
        client_span.record_status(reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert!(spans.try_recv().is_err(), "exported only when it ends");
        drop(client_span);

        let exported = spans.try_recv().expect("exported when dropped");
        assert_eq!(exported.trace_id, vec![1; 16]);
        assert_eq!(exported.span_id, span_id.to_vec());
        assert_eq!(exported.parent_span_id, vec![2; 8]);
        assert_eq!(exported.name, "POST");
        assert_eq!(exported.kind, span::SpanKind::Client as i32);
        assert!(exported.start_time_unix_nano <= exported.end_time_unix_nano);
        let keys: Vec<&str> = exported.attributes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "http.request.method",
                "url.full",
                "server.address",
                "server.port",
                "http.response.status_code"
            ]
        );
        assert_eq!(
            attribute(&exported, "http.request.method"),
            str_value("POST")
        );
        assert_eq!(
            attribute(&exported, "url.full"),
            str_value("http://inventory.test:8001/stock/7")
        );
        assert_eq!(
            attribute(&exported, "server.address"),
            str_value("inventory.test")
        );
        assert_eq!(
            attribute(&exported, "server.port"),
            Some(any_value::Value::IntValue(8001))
        );
        assert_eq!(
            attribute(&exported, "http.response.status_code"),
            Some(any_value::Value::IntValue(503))
        );
        assert_eq!(
            exported.status.map(|s| s.code),
            Some(status::StatusCode::Error as i32)
        );
    }

    #[test]
    fn a_transport_error_is_the_status_message_and_nothing_is_kept_without_an_exporter() {
        let (exporter, mut spans) = SpanSender::channel_for_tests(4);
        let mut failed = PlainClientSpan::begin(
            &request("https://example.test/x"),
            [3; 16],
            [4; 8],
            Some(exporter),
        );
        failed.record_error("connection refused");
        drop(failed);
        let exported = spans.try_recv().expect("exported");
        let status = exported.status.clone().expect("a status");
        assert_eq!(status.code, status::StatusCode::Error as i32);
        assert_eq!(status.message, "connection refused");
        assert_eq!(
            attribute(&exported, "server.port"),
            Some(any_value::Value::IntValue(443)),
            "the scheme's port"
        );

        let quiet = PlainClientSpan::begin(&request("http://example.test/"), [3; 16], [4; 8], None);
        assert!(
            quiet.recording.is_none(),
            "nothing recorded when not exported"
        );
        assert_eq!(quiet.ids().0, [3; 16]);
    }

    #[test]
    fn a_registry_span_is_used_outside_requests_and_inside_application_spans() {
        let req = request("http://inventory.test/stock/1");
        let subscriber = tracing_subscriber::registry().with(SpanLayer::new(None, HOOK));
        tracing::subscriber::with_default(subscriber, || {
            assert!(
                PlainClientSpan::begin_in_request(&req).is_none(),
                "outside any request"
            );
            let untraced = RefCell::new(RequestScope::new(None, RequestIdText::new("r"), None));
            {
                let _entered = scope::enter(&untraced);
                assert!(
                    PlainClientSpan::begin_in_request(&req).is_none(),
                    "a request whose span is filtered out"
                );
            }
            let traced = RefCell::new(RequestScope::new(
                Some(([5; 16], [6; 8])),
                RequestIdText::new("r"),
                None,
            ));
            let _entered = scope::enter(&traced);
            let application = tracing::info_span!("application");
            assert_eq!(span_ids(&application).map(|i| i.0), Some([5; 16]));
            {
                let _in_span = application.enter();
                assert!(
                    PlainClientSpan::begin_in_request(&req).is_none(),
                    "the application's span is the parent"
                );
            }
            // A registry span from another trace (opened outside the request) does not count.
            let outside = tracing::info_span!(parent: None, "elsewhere");
            let _in_outside = outside.enter();
            let plain = PlainClientSpan::begin_in_request(&req).expect("plain");
            assert_eq!(plain.ids().0, [5; 16]);
        });
    }
}
