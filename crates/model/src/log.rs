//! Log records: one line of text with its time and stream labels.

use crate::Labels;

/// Label naming the project (`tetrad up -p NAME`) a log line came from.
pub const LOG_LABEL_PROJECT: &str = "project";
/// Label naming the service of a supervised process.
pub const LOG_LABEL_SERVICE: &str = "service";
/// Label naming one replica of a service, `<service>-<n>` with `n` counted from 1.
pub const LOG_LABEL_INSTANCE: &str = "instance";
/// Label naming the output stream of a process: `stdout` or `stderr`.
pub const LOG_LABEL_STREAM: &str = "stream";

/// One log line as every log source hands it to a log sink.
///
/// The labels identify the stream the line belongs to (as a Loki stream selector does); the
/// supervisor sets `project`, `service`, `instance` and `stream`, other sources (Loki push,
/// OTLP logs, file tail) set their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// Nanoseconds since the Unix epoch, taken when the line was read or received.
    pub timestamp_ns: i64,
    /// The stream's labels.
    pub labels: Labels,
    /// The line without its trailing newline.
    pub line: String,
}

impl LogRecord {
    /// A record from its parts.
    pub fn new(timestamp_ns: i64, labels: Labels, line: impl Into<String>) -> Self {
        LogRecord {
            timestamp_ns,
            labels,
            line: line.into(),
        }
    }

    /// Approximate heap and inline size in bytes, for byte budgets of buffers holding records.
    pub fn size_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.labels.heap_bytes() + self.line.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_counts_line_and_labels() {
        let short = LogRecord::new(1, Labels::from_pairs([("service", "a")]), "x");
        let long = LogRecord::new(1, Labels::from_pairs([("service", "a")]), "x".repeat(101));
        assert_eq!(long.size_bytes() - short.size_bytes(), 100);
        let more_labels = LogRecord::new(
            1,
            Labels::from_pairs([("service", "a"), ("stream", "stdout")]),
            "x",
        );
        assert!(more_labels.size_bytes() > short.size_bytes());
    }
}
