//! Observability for axum/tower services.

#![warn(missing_docs)]

mod config;
mod error;
mod fields;
pub mod http;
pub mod ids;
pub mod log;
pub mod metrics;
mod telemetry;
pub mod trace;

pub use config::Config;
pub use error::{InitError, MetricsError};
pub use http::{Exception, ExceptionType, RequestId};
pub use ids::{SpanId, TraceId};
pub use telemetry::{Telemetry, ensure_crypto_provider};
pub use trace::{TracedRequest, current_span_ids, propagate};
