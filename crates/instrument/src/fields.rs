//! Collecting the fields of `tracing` spans and events into owned values, shared by the span
//! layer (attributes) and the log layer (logfmt pairs).

use crate::trace::data::{Value, truncate};
use std::fmt;
use tracing::field::{Field, Visit};

/// Fields in the order they were recorded; the `message` field apart.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub(crate) message: Option<String>,
    pub(crate) pairs: Vec<(&'static str, Value)>,
    /// Keep only the `otel.*` steering fields and `request_id` (when attributes would be
    /// thrown away anyway, because nothing is exported).
    steering_only: bool,
}

impl Fields {
    /// Collects only the fields that steer a span, not its attributes.
    pub(crate) fn steering_only() -> Self {
        Fields {
            steering_only: true,
            ..Fields::default()
        }
    }

    /// Whether the field is worth converting at all.
    fn wanted(&self, field: &Field) -> bool {
        !self.steering_only || field.name().starts_with("otel.") || field.name() == "request_id"
    }

    fn push(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::Str(s) => s,
                other => other.to_text(),
            });
        } else {
            self.pairs.push((field.name(), value));
        }
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if !self.wanted(field) {
            return;
        }
        self.push(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if !self.wanted(field) {
            return;
        }
        self.push(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if !self.wanted(field) {
            return;
        }
        let v = i64::try_from(value).map_or_else(|_| Value::Str(value.to_string()), Value::I64);
        self.push(field, v);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if !self.wanted(field) {
            return;
        }
        self.push(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.wanted(field) {
            return;
        }
        self.push(field, Value::Str(truncate(value.to_string())));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !self.wanted(field) {
            return;
        }
        self.push(field, Value::Str(truncate(value.to_string())));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.wanted(field) {
            return;
        }
        self.push(field, Value::Str(truncate(format!("{value:?}"))));
    }
}
