//! Metrics of our own: a [`Registry`] of counter, gauge and histogram families with label
//! vectors and a cardinality limit per family, written in the Prometheus text format 0.0.4 or
//! OpenMetrics 1.0 (with exemplars) as the scraper's `Accept` header asks ([`negotiate`]).

mod exposition;
mod family;
mod names;
mod negotiate;
mod registry;
mod value;

pub use exposition::Format;
pub use family::{CounterVec, GaugeVec, HistogramVec};
pub use negotiate::negotiate;
pub use registry::{DEFAULT_CARDINALITY_LIMIT, Registry};
pub use value::{Counter, Exemplar, Gauge, Histogram};
