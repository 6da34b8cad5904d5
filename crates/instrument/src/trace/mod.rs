//! Traces: a lightweight tracer on `tracing` (no OpenTelemetry SDK) that gives spans W3C ids,
//! exports them over OTLP/gRPC in batches, and propagates context to outgoing HTTP calls.

pub(crate) mod client_span;
pub(crate) mod data;
pub(crate) mod enabled;
pub(crate) mod export;
pub(crate) mod layer;
mod propagate;
pub(crate) mod scope;

pub use layer::{current_span_ids, span_ids};
pub use propagate::{TracedRequest, inject, propagate};
