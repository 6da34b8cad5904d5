//! Errors of the crate: one enum per concern, each variant naming what was wrong.

/// Why a metric could not be registered or a label set not created.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// The metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("invalid metric name {0:?}: must match [a-zA-Z_:][a-zA-Z0-9_:]*")]
    InvalidMetricName(String),
    /// A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*` or starts with `__`.
    #[error(
        "metric {metric}: invalid label name {label:?}: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __"
    )]
    InvalidLabelName {
        /// The metric.
        metric: String,
        /// The label name.
        label: String,
    },
    /// A label name the metric type uses itself (`le` for histograms).
    #[error("metric {metric}: label name {label:?} is reserved for this metric type")]
    ReservedLabelName {
        /// The metric.
        metric: String,
        /// The label name.
        label: String,
    },
    /// The same label name given twice.
    #[error("metric {metric}: label name {label:?} given twice")]
    DuplicateLabelName {
        /// The metric.
        metric: String,
        /// The label name.
        label: String,
    },
    /// A metric of that name exists with another type, help, label names or buckets.
    #[error("metric {0} is already registered with a different type, help, label names or buckets")]
    Conflict(String),
    /// Histogram buckets that are empty, not increasing, or not finite.
    #[error(
        "histogram {metric}: buckets must be finite, strictly increasing and non-empty (got {buckets:?})"
    )]
    InvalidBuckets {
        /// The metric.
        metric: String,
        /// The buckets given.
        buckets: Vec<f64>,
    },
    /// Wrong number of label values.
    #[error("metric {metric}: expected {expected} label values, got {got}")]
    LabelCount {
        /// The metric.
        metric: String,
        /// How many label names the metric has.
        expected: usize,
        /// How many values were given.
        got: usize,
    },
    /// The family already has as many label sets as its limit allows.
    #[error("metric {metric}: cardinality limit of {limit} label sets reached")]
    CardinalityLimit {
        /// The metric.
        metric: String,
        /// The limit per family.
        limit: usize,
    },
}

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A metric of the built-in HTTP set could not be registered.
    #[error("registering the HTTP metrics: {0}")]
    Metrics(#[from] MetricsError),
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` is not a usable URI.
    #[error("invalid OTLP endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as configured.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The span exporter thread could not be started.
    #[error("starting the span exporter: {0}")]
    Exporter(std::io::Error),
    /// `RUST_LOG` (or the configured filter) does not parse.
    #[error("invalid log filter {filter:?}: {reason}")]
    InvalidLogFilter {
        /// The filter text.
        filter: String,
        /// The parser's complaint.
        reason: String,
    },
    /// The metrics path is not a plain absolute path.
    #[error("invalid metrics path {0:?}: must start with / and hold no route parameters")]
    InvalidMetricsPath(String),
    /// Another global `tracing` subscriber (or `log` logger) is already installed.
    #[error("installing the global tracing subscriber: {0}")]
    SubscriberAlreadySet(String),
}
