//! What the span layer keeps per span (in the span's registry extensions) while it is open,
//! and its conversion to an OTLP span when it closes.

use crate::ids::{SpanId, TraceId};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{Span, Status, span, status};
use std::time::{SystemTime, UNIX_EPOCH};

/// Attributes kept per span; more are counted as dropped (bounded memory per span).
pub(crate) const MAX_ATTRIBUTES: usize = 64;
/// Events kept per span; more are counted as dropped.
pub(crate) const MAX_EVENTS: usize = 128;
/// Longest string attribute value kept, in bytes; longer ones are cut at a char boundary.
pub(crate) const MAX_VALUE_LEN: usize = 4096;

/// An attribute value as `tracing` fields give them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    I64(i64),
    F64(f64),
    Bool(bool),
}

impl Value {
    pub(crate) fn to_any(&self) -> AnyValue {
        let v = match self {
            Value::Str(s) => any_value::Value::StringValue(s.clone()),
            Value::I64(i) => any_value::Value::IntValue(*i),
            Value::F64(f) => any_value::Value::DoubleValue(*f),
            Value::Bool(b) => any_value::Value::BoolValue(*b),
        };
        AnyValue { value: Some(v) }
    }

    /// The value as text, taking a string value's buffer rather than copying it.
    pub(crate) fn into_text(self) -> String {
        match self {
            Value::Str(s) => s,
            other => other.to_text(),
        }
    }

    /// The value as text, for log lines.
    pub(crate) fn to_text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::I64(i) => i.to_string(),
            Value::F64(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
        }
    }
}

pub(crate) fn truncate(mut s: String) -> String {
    if s.len() > MAX_VALUE_LEN {
        let mut end = MAX_VALUE_LEN;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The OTLP span kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl Kind {
    pub(crate) fn parse(s: &str) -> Option<Kind> {
        [
            ("internal", Kind::Internal),
            ("server", Kind::Server),
            ("client", Kind::Client),
            ("producer", Kind::Producer),
            ("consumer", Kind::Consumer),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|(_, kind)| kind)
    }

    fn to_proto(self) -> span::SpanKind {
        match self {
            Kind::Internal => span::SpanKind::Internal,
            Kind::Server => span::SpanKind::Server,
            Kind::Client => span::SpanKind::Client,
            Kind::Producer => span::SpanKind::Producer,
            Kind::Consumer => span::SpanKind::Consumer,
        }
    }
}

/// One event recorded inside a span (a `tracing` event: its message and fields).
#[derive(Debug, Clone)]
pub(crate) struct SpanEvent {
    pub(crate) time: SystemTime,
    pub(crate) name: String,
    pub(crate) attributes: Vec<(String, Value)>,
}

/// The state of one open span.
#[derive(Debug, Clone)]
pub(crate) struct SpanData {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) start: SystemTime,
    pub(crate) attributes: Vec<(String, Value)>,
    pub(crate) dropped_attributes: u32,
    pub(crate) events: Vec<SpanEvent>,
    pub(crate) dropped_events: u32,
    /// `Some(true)` for error, `Some(false)` for ok, `None` for unset.
    pub(crate) error: Option<bool>,
    pub(crate) status_message: String,
    /// The request id of the request this span belongs to (inherited from the parent), so every
    /// log line in a request carries it.
    pub(crate) request_id: Option<String>,
}

impl SpanData {
    /// A span starting now, with room for `attributes` attributes and nothing else set.
    pub(crate) fn start(
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
        name: String,
        kind: Kind,
        attributes: usize,
    ) -> Self {
        SpanData {
            trace_id,
            span_id,
            parent_span_id,
            name,
            kind,
            start: SystemTime::now(),
            attributes: Vec::with_capacity(attributes),
            dropped_attributes: 0,
            events: Vec::new(),
            dropped_events: 0,
            error: None,
            status_message: String::new(),
            request_id: None,
        }
    }

    pub(crate) fn set_attribute(&mut self, key: &str, value: Value) {
        if let Some(slot) = self.attributes.iter_mut().find(|(k, _)| k == key) {
            slot.1 = value;
        } else if self.attributes.len() < MAX_ATTRIBUTES {
            self.attributes.push((key.to_string(), value));
        } else {
            self.dropped_attributes += 1;
        }
    }

    pub(crate) fn add_event(&mut self, event: SpanEvent) {
        if self.events.len() < MAX_EVENTS {
            self.events.push(event);
        } else {
            self.dropped_events += 1;
        }
    }

    /// The OTLP span, ended at `end`.
    pub(crate) fn to_proto(&self, end: SystemTime) -> Span {
        let nanos = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
                .unwrap_or(0)
        };
        let key_values = |attrs: &[(String, Value)]| -> Vec<KeyValue> {
            attrs
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.clone(),
                    value: Some(v.to_any()),
                    ..Default::default()
                })
                .collect()
        };
        let status = match self.error {
            Some(true) => Some(Status {
                message: self.status_message.clone(),
                code: status::StatusCode::Error as i32,
            }),
            Some(false) => Some(Status {
                message: String::new(),
                code: status::StatusCode::Ok as i32,
            }),
            None => None,
        };
        Span {
            trace_id: self.trace_id.to_vec(),
            span_id: self.span_id.to_vec(),
            parent_span_id: self.parent_span_id.map(|p| p.to_vec()).unwrap_or_default(),
            // Sampled; we record every span.
            flags: 0x100 | 0x1,
            name: self.name.clone(),
            kind: self.kind.to_proto() as i32,
            start_time_unix_nano: nanos(self.start),
            end_time_unix_nano: nanos(end),
            attributes: key_values(&self.attributes),
            dropped_attributes_count: self.dropped_attributes,
            events: self
                .events
                .iter()
                .map(|e| span::Event {
                    time_unix_nano: nanos(e.time),
                    name: e.name.clone(),
                    attributes: key_values(&e.attributes),
                    dropped_attributes_count: 0,
                })
                .collect(),
            dropped_events_count: self.dropped_events,
            status,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> SpanData {
        SpanData {
            trace_id: [1; 16],
            span_id: [2; 8],
            parent_span_id: None,
            name: "GET /x".into(),
            kind: Kind::Server,
            start: UNIX_EPOCH,
            attributes: Vec::new(),
            dropped_attributes: 0,
            events: Vec::new(),
            dropped_events: 0,
            error: Some(true),
            status_message: "boom".into(),
            request_id: None,
        }
    }

    #[test]
    fn attributes_are_bounded_and_replaced() {
        let mut d = data();
        d.set_attribute("a", Value::I64(1));
        d.set_attribute("a", Value::I64(2));
        assert_eq!(d.attributes, vec![("a".to_string(), Value::I64(2))]);
        for i in 0..MAX_ATTRIBUTES + 5 {
            d.set_attribute(&format!("k{i}"), Value::Bool(true));
        }
        assert_eq!(d.attributes.len(), MAX_ATTRIBUTES);
        assert_eq!(d.dropped_attributes, 6);
    }

    #[test]
    fn converts_to_otlp() {
        let mut d = data();
        d.set_attribute("http.route", Value::Str("/x".into()));
        let p = d.to_proto(UNIX_EPOCH + std::time::Duration::from_millis(5));
        assert_eq!(p.kind, span::SpanKind::Server as i32);
        assert_eq!(p.end_time_unix_nano, 5_000_000);
        assert!(p.parent_span_id.is_empty());
        assert_eq!(p.status.unwrap().code, status::StatusCode::Error as i32);
        assert_eq!(p.attributes[0].key, "http.route");
    }

    #[test]
    fn kinds_parse_in_any_case() {
        assert_eq!(Kind::parse("server"), Some(Kind::Server));
        assert_eq!(Kind::parse("CLIENT"), Some(Kind::Client));
        assert_eq!(Kind::parse("Consumer"), Some(Kind::Consumer));
        assert_eq!(Kind::parse("serverx"), None);
        assert_eq!(Value::Str("a".into()).into_text(), "a");
        assert_eq!(Value::I64(7).into_text(), "7");
    }

    #[test]
    fn long_values_are_cut_on_char_boundaries() {
        let s = "é".repeat(MAX_VALUE_LEN);
        let t = truncate(s);
        assert!(t.len() <= MAX_VALUE_LEN);
        assert!(t.chars().all(|c| c == 'é'));
    }
}
