//! A bounded in-memory ring of the most recent log records.

use std::collections::VecDeque;

use model::LogRecord;
use parking_lot::Mutex;

use crate::{LogSink, LogSinkError};

/// Keeps the last records pushed, bounded by a record count and a byte budget; the oldest
/// records are evicted to make room, so `push` never refuses.
///
/// It stands in for the log store until that lands (the server's `/metrics` reports its
/// counters) and serves tests as a sink that can be inspected.
pub struct MemoryLogSink {
    capacity: usize,
    byte_budget: usize,
    state: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    records: VecDeque<LogRecord>,
    bytes: usize,
    received_total: u64,
    evicted_total: u64,
    oversize_total: u64,
}

/// Counters and current occupancy of a [`MemoryLogSink`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryLogSinkStats {
    /// Records held now.
    pub records: usize,
    /// Bytes held now (as [`LogRecord::size_bytes`] counts them).
    pub bytes: usize,
    /// Records pushed since creation, including those evicted or too large to keep.
    pub received_total: u64,
    /// Records evicted to make room for newer ones.
    pub evicted_total: u64,
    /// Records larger than the whole byte budget, counted and not kept.
    pub oversize_total: u64,
}

impl MemoryLogSink {
    /// A ring holding at most `capacity` records and `byte_budget` bytes.
    pub fn new(capacity: usize, byte_budget: usize) -> Self {
        MemoryLogSink {
            capacity,
            byte_budget,
            state: Mutex::new(Ring::default()),
        }
    }

    /// The last `n` records (fewer if fewer are held), oldest first.
    pub fn recent(&self, n: usize) -> Vec<LogRecord> {
        let ring = self.state.lock();
        let skip = ring.records.len().saturating_sub(n);
        ring.records.iter().skip(skip).cloned().collect()
    }

    /// The last `n` records for which `keep` is true, oldest first.
    pub fn recent_matching(&self, n: usize, keep: impl Fn(&LogRecord) -> bool) -> Vec<LogRecord> {
        let ring = self.state.lock();
        let mut out: Vec<LogRecord> = ring
            .records
            .iter()
            .rev()
            .filter(|r| keep(r))
            .take(n)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// Counters and occupancy.
    pub fn stats(&self) -> MemoryLogSinkStats {
        let ring = self.state.lock();
        MemoryLogSinkStats {
            records: ring.records.len(),
            bytes: ring.bytes,
            received_total: ring.received_total,
            evicted_total: ring.evicted_total,
            oversize_total: ring.oversize_total,
        }
    }
}

impl LogSink for MemoryLogSink {
    fn push(&self, records: Vec<LogRecord>) -> Result<(), LogSinkError> {
        let mut ring = self.state.lock();
        for record in records {
            ring.received_total += 1;
            let size = record.size_bytes();
            if size > self.byte_budget || self.capacity == 0 {
                ring.oversize_total += 1;
                continue;
            }
            while ring.records.len() >= self.capacity || ring.bytes + size > self.byte_budget {
                let Some(old) = ring.records.pop_front() else {
                    break;
                };
                ring.bytes -= old.size_bytes();
                ring.evicted_total += 1;
            }
            ring.bytes += size;
            ring.records.push_back(record);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Labels;

    fn record(line: &str) -> LogRecord {
        LogRecord::new(7, Labels::from_pairs([("service", "a")]), line)
    }

    fn lines(records: &[LogRecord]) -> Vec<&str> {
        records.iter().map(|r| r.line.as_str()).collect()
    }

    #[test]
    fn keeps_the_last_records_up_to_capacity() {
        let sink = MemoryLogSink::new(3, 1 << 20);
        sink.push((0..5).map(|i| record(&i.to_string())).collect())
            .unwrap();
        assert_eq!(lines(&sink.recent(10)), ["2", "3", "4"]);
        assert_eq!(lines(&sink.recent(2)), ["3", "4"]);
        let stats = sink.stats();
        assert_eq!(stats.records, 3);
        assert_eq!(stats.received_total, 5);
        assert_eq!(stats.evicted_total, 2);
    }

    #[test]
    fn byte_budget_evicts_oldest() {
        let one = record(&"x".repeat(100)).size_bytes();
        let sink = MemoryLogSink::new(100, one * 2);
        for line in ["a", "b", "c"] {
            sink.push(vec![record(&format!("{line}{}", "x".repeat(99)))])
                .unwrap();
        }
        let kept = sink.recent(10);
        assert_eq!(kept.len(), 2);
        assert!(kept[0].line.starts_with('b') && kept[1].line.starts_with('c'));
        assert!(sink.stats().bytes <= one * 2);
    }

    #[test]
    fn a_record_larger_than_the_budget_is_counted_not_kept() {
        let sink = MemoryLogSink::new(10, 200);
        sink.push(vec![record("small"), record(&"x".repeat(500))])
            .unwrap();
        assert_eq!(lines(&sink.recent(10)), ["small"]);
        assert_eq!(sink.stats().oversize_total, 1);
        assert_eq!(sink.stats().received_total, 2);
    }

    #[test]
    fn recent_matching_filters_and_keeps_order() {
        let sink = MemoryLogSink::new(10, 1 << 20);
        sink.push(vec![record("a1"), record("b1"), record("a2"), record("a3")])
            .unwrap();
        let got = sink.recent_matching(2, |r| r.line.starts_with('a'));
        assert_eq!(lines(&got), ["a2", "a3"]);
    }
}
