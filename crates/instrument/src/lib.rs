//! Observability for axum/tower services.

#![warn(missing_docs)]

mod error;
pub mod ids;
pub mod metrics;

pub use error::{InitError, MetricsError};
pub use ids::{SpanId, TraceId};
