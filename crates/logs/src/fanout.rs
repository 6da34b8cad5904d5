//! A sink that hands every batch to several sinks.

use std::sync::Arc;

use model::LogRecord;

use crate::{LogSink, LogSinkError};

/// Hands every batch to each of its sinks in order (for example the terminal and the server).
///
/// Every sink gets the batch even when an earlier one refused it; the first error is
/// returned so the caller can count it, and the others are not lost silently because each
/// sink counts its own refusals.
pub struct FanoutSink(pub Vec<Arc<dyn LogSink>>);

impl FanoutSink {
    /// A fan-out over `sinks`.
    pub fn new(sinks: Vec<Arc<dyn LogSink>>) -> Self {
        FanoutSink(sinks)
    }
}

impl LogSink for FanoutSink {
    fn push(&self, records: Vec<LogRecord>) -> Result<(), LogSinkError> {
        let mut first_error = None;
        let last = self.0.len().saturating_sub(1);
        let mut records = Some(records);
        for (i, sink) in self.0.iter().enumerate() {
            // The last sink takes the batch itself; the others get copies.
            let batch = if i == last {
                records.take().unwrap_or_default()
            } else {
                records.clone().unwrap_or_default()
            };
            if let Err(e) = sink.push(batch)
                && first_error.is_none()
            {
                first_error = Some(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryLogSink;
    use model::Labels;

    struct Refusing;
    impl LogSink for Refusing {
        fn push(&self, _: Vec<LogRecord>) -> Result<(), LogSinkError> {
            Err(LogSinkError::Unavailable {
                sink: "refusing".into(),
                reason: "always".into(),
            })
        }
    }

    fn record(line: &str) -> LogRecord {
        LogRecord::new(1, Labels::from_pairs([("service", "a")]), line)
    }

    #[test]
    fn every_sink_gets_every_batch() {
        let a = Arc::new(MemoryLogSink::new(10, 1 << 20));
        let b = Arc::new(MemoryLogSink::new(10, 1 << 20));
        let fan = FanoutSink::new(vec![a.clone(), b.clone()]);
        fan.push(vec![record("x"), record("y")]).unwrap();
        assert_eq!(a.recent(10), vec![record("x"), record("y")]);
        assert_eq!(b.recent(10), vec![record("x"), record("y")]);
    }

    #[test]
    fn a_refusing_sink_does_not_starve_the_others() {
        let a = Arc::new(MemoryLogSink::new(10, 1 << 20));
        let fan = FanoutSink::new(vec![Arc::new(Refusing), a.clone()]);
        let err = fan.push(vec![record("x")]).unwrap_err();
        assert!(err.to_string().contains("refusing"), "{err}");
        assert_eq!(a.recent(10), vec![record("x")]);
    }

    #[test]
    fn empty_fanout_accepts() {
        assert!(FanoutSink::new(Vec::new()).push(vec![record("x")]).is_ok());
    }
}
