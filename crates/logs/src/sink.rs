//! The `LogSink` seam and its error.

use model::LogRecord;

/// Why a sink refused a batch of records.
#[derive(Debug, thiserror::Error)]
pub enum LogSinkError {
    /// The sink's bounded queue or budget is exhausted; `limit` names which and how big.
    #[error("log sink {sink} is full: {limit}")]
    Full {
        /// Which sink refused.
        sink: String,
        /// The limit that was reached, e.g. "queue of 10000 records".
        limit: String,
    },
    /// The sink's destination is not reachable (a remote server is away, a writer closed).
    #[error("log sink {sink} is unavailable: {reason}")]
    Unavailable {
        /// Which sink refused.
        sink: String,
        /// What went wrong.
        reason: String,
    },
    /// The records themselves are unacceptable (for example a label set the store refuses).
    #[error("log sink {sink} rejected records: {reason}")]
    Rejected {
        /// Which sink refused.
        sink: String,
        /// What was wrong with the records.
        reason: String,
    },
    /// Writing to the sink's writer failed.
    #[error("log sink {sink}: {source}")]
    Io {
        /// Which sink failed.
        sink: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Where log records go: the seam between every log source and every log destination.
///
/// Implementations must be cheap to call from async tasks (see the crate documentation): queue
/// and return, or refuse; never wait for a slow destination.
pub trait LogSink: Send + Sync {
    /// Takes a batch of records, in read order per stream. On error the whole batch is
    /// considered dropped by the caller.
    fn push(&self, records: Vec<LogRecord>) -> Result<(), LogSinkError>;
}

impl<T: LogSink + ?Sized> LogSink for std::sync::Arc<T> {
    fn push(&self, records: Vec<LogRecord>) -> Result<(), LogSinkError> {
        (**self).push(records)
    }
}
