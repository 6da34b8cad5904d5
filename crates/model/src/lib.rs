//! The shared data model of tetrad.
//!
//! Every signal is keyed by a set of labels; this crate holds the types that cross crate
//! boundaries so the stores, engines and receivers agree on them without depending on each
//! other:
//!
//! - [`Labels`]: a set of name/value pairs kept sorted by name, with Prometheus' naming rules
//!   ([`is_valid_metric_name`], [`is_valid_label_name`]) and a stable hash ([`Labels::hash64`]).
//! - [`Sample`], [`Exemplar`], [`Metadata`] and [`MetricType`]: what a metric series holds.
//! - [`Matcher`]: a label matcher (`=`, `!=`, `=~`, `!~`) with Prometheus' fully anchored regex
//!   semantics, shared by the query engines and the stores' indexes.
//! - [`LogRecord`]: one log line with its timestamp and stream labels, as every log source
//!   hands it to a log sink.
//! - [`time`]: millisecond timestamps and the special float values (stale marker).

#![warn(missing_docs)]

mod labels;
mod log;
mod matcher;
mod sample;
pub mod time;

pub use labels::{
    Label, Labels, LabelsBuilder, METRIC_NAME, is_valid_label_name, is_valid_metric_name,
};
pub use log::{
    LOG_LABEL_INSTANCE, LOG_LABEL_PROJECT, LOG_LABEL_SERVICE, LOG_LABEL_STREAM, LogRecord,
};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use sample::{Exemplar, Metadata, MetricType, STALE_NAN_BITS, Sample, is_stale_nan, stale_nan};
