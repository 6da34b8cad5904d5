//! What `tetrad load` counts, and the two ways it shows it: a one-line live status and the
//! summary at the end. Memory is fixed: per endpoint a map of the status codes seen (at most a
//! few hundred distinct codes exist) and two latency histograms.

use super::histogram::LatencyHistogram;
use super::mix::ENDPOINTS;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer with this status, read to the end.
    Status(u16),
    /// No complete answer: the kind of connection error.
    Failed(FailureKind),
}

/// Why a request got no complete answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureKind {
    /// The connection could not be made.
    Connect,
    /// The per-request timeout expired.
    Timeout,
    /// The connection broke (e.g. the server dropped it mid-answer).
    Other,
}

impl FailureKind {
    fn name(self) -> &'static str {
        match self {
            FailureKind::Connect => "connect",
            FailureKind::Timeout => "timeout",
            FailureKind::Other => "broken",
        }
    }
}

#[derive(Debug, Default, Clone)]
struct EndpointCounts {
    statuses: BTreeMap<u16, u64>,
    failures: u64,
}

/// Counters of a load run.
#[derive(Debug, Clone)]
pub struct Stats {
    endpoints: Vec<EndpointCounts>,
    /// Answers by status class: index 0 is 1xx ... index 4 is 5xx.
    classes: [u64; 5],
    failures: BTreeMap<FailureKind, u64>,
    /// Ticks that found every in-flight slot taken.
    pub skipped: u64,
    /// Requests started.
    pub sent: u64,
    latency: LatencyHistogram,
    /// Latencies and answers since the last live line.
    window: LatencyHistogram,
    window_done: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            endpoints: vec![EndpointCounts::default(); ENDPOINTS.len()],
            classes: [0; 5],
            failures: BTreeMap::new(),
            skipped: 0,
            sent: 0,
            latency: LatencyHistogram::default(),
            window: LatencyHistogram::default(),
            window_done: 0,
        }
    }
}

impl Stats {
    /// Counts a finished request to endpoint `endpoint` (an index into [`ENDPOINTS`]).
    pub fn record(&mut self, endpoint: usize, outcome: Outcome, latency: Duration) {
        let Some(counts) = self.endpoints.get_mut(endpoint) else {
            return;
        };
        self.window_done += 1;
        match outcome {
            Outcome::Status(status) => {
                *counts.statuses.entry(status).or_default() += 1;
                if let Some(class) = self
                    .classes
                    .get_mut(usize::from(status / 100).wrapping_sub(1))
                {
                    *class += 1;
                }
                self.latency.record(latency);
                self.window.record(latency);
            }
            Outcome::Failed(kind) => {
                counts.failures += 1;
                *self.failures.entry(kind).or_default() += 1;
            }
        }
    }

    /// Requests that ended, with an answer or not.
    pub fn finished(&self) -> u64 {
        self.answered() + self.failed()
    }

    fn answered(&self) -> u64 {
        self.classes.iter().sum()
    }

    fn failed(&self) -> u64 {
        self.failures.values().sum()
    }

    /// Whether every request ended in a connection failure (nothing listens at the URL?).
    pub fn only_failures(&self) -> bool {
        self.failed() > 0 && self.answered() == 0
    }

    /// The live status line for the interval of length `window` that just ended, then starts a
    /// new interval. Latencies are the interval's, counts the whole run's.
    pub fn take_live_line(
        &mut self,
        elapsed: Duration,
        window: Duration,
        in_flight: u64,
    ) -> String {
        let rate = self.window_done as f64 / window.as_secs_f64().max(1e-3);
        let mut line = format!("{:>5.0}s  {rate:>6.1} req/s ", elapsed.as_secs_f64());
        for (class, count) in self.classes.iter().enumerate() {
            // 1xx and 3xx are rare here: shown only when they occur.
            if class == 1 || class >= 3 || *count > 0 {
                let _ = write!(line, " {}xx {count} ", class + 1);
            }
        }
        let _ = write!(line, " err {}", self.failed());
        let _ = write!(line, "  p50 {}", ms_or_dash(self.window.quantile(0.5)));
        let _ = write!(line, "  p99 {}", ms_or_dash(self.window.quantile(0.99)));
        let _ = write!(line, "  in flight {in_flight}");
        if self.skipped > 0 {
            let _ = write!(line, "  skipped {}", self.skipped);
        }
        self.window.clear();
        self.window_done = 0;
        line
    }

    /// The end-of-run summary: totals, latency quantiles and a table of endpoints × statuses.
    pub fn summary(&self, url: &str, elapsed: Duration, unfinished: u64) -> String {
        let secs = elapsed.as_secs_f64().max(1e-3);
        let mut out = format!(
            "tetrad load: {} requests to {url} in {:.1} s ({:.1} req/s sent, {:.1} finished/s)\n",
            self.sent,
            elapsed.as_secs_f64(),
            self.sent as f64 / secs,
            self.finished() as f64 / secs,
        );
        out.push_str("  answers:");
        for (class, count) in self.classes.iter().enumerate() {
            if class > 0 || *count > 0 {
                let _ = write!(out, "  {}xx {count}", class + 1);
            }
        }
        let _ = write!(out, "\n  connection errors: {}", self.failed());
        if !self.failures.is_empty() {
            let kinds: Vec<String> = self
                .failures
                .iter()
                .map(|(kind, n)| format!("{} {n}", kind.name()))
                .collect();
            let _ = write!(out, " ({})", kinds.join(", "));
        }
        let _ = writeln!(
            out,
            "  skipped (in-flight limit reached): {}  unfinished at the end: {unfinished}",
            self.skipped
        );
        let _ = writeln!(
            out,
            "  latency ms:  p50 {}  p90 {}  p99 {}  max {}",
            ms_or_dash(self.latency.quantile(0.5)),
            ms_or_dash(self.latency.quantile(0.9)),
            ms_or_dash(self.latency.quantile(0.99)),
            if self.latency.count() == 0 {
                "-".to_string()
            } else {
                format_ms(self.latency.max())
            },
        );
        let _ = writeln!(
            out,
            "\n  {:<14} {:>8} {:>6} {:>6} {:>6} {:>6}  statuses",
            "endpoint", "requests", "2xx", "4xx", "5xx", "errors"
        );
        for (endpoint, counts) in ENDPOINTS.iter().zip(&self.endpoints) {
            let in_class = |class: u16| -> u64 {
                counts
                    .statuses
                    .iter()
                    .filter(|(status, _)| **status / 100 == class)
                    .map(|(_, n)| n)
                    .sum()
            };
            let total: u64 = counts.statuses.values().sum::<u64>() + counts.failures;
            let statuses: Vec<String> = counts
                .statuses
                .iter()
                .map(|(status, n)| format!("{status}:{n}"))
                .collect();
            let row = format!(
                "  {:<14} {total:>8} {:>6} {:>6} {:>6} {:>6}  {}",
                endpoint.label,
                in_class(2),
                in_class(4),
                in_class(5),
                counts.failures,
                statuses.join(" "),
            );
            out.push_str(row.trim_end());
            out.push('\n');
        }
        out
    }
}

fn format_ms(latency: Duration) -> String {
    let ms = latency.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

fn ms_or_dash(latency: Option<Duration>) -> String {
    latency.map_or_else(|| "-".to_string(), format_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(label: &str) -> usize {
        ENDPOINTS
            .iter()
            .position(|e| e.label == label)
            .unwrap_or(usize::MAX)
    }

    #[test]
    fn summary_has_a_row_per_endpoint_with_status_counts() {
        let mut stats = Stats::default();
        let ms = Duration::from_millis;
        stats.sent = 5;
        stats.record(index_of("/"), Outcome::Status(200), ms(2));
        stats.record(index_of("/fail"), Outcome::Status(401), ms(3));
        stats.record(index_of("/fail"), Outcome::Status(400), ms(3));
        stats.record(index_of("/error"), Outcome::Status(500), ms(4));
        stats.record(
            index_of("/panic"),
            Outcome::Failed(FailureKind::Other),
            ms(1),
        );
        let text = stats.summary("http://x", Duration::from_secs(1), 0);
        assert!(text.contains("5 requests to http://x"), "{text}");
        assert!(text.contains("2xx 1  3xx 0  4xx 2  5xx 1"), "{text}");
        assert!(text.contains("connection errors: 1 (broken 1)"), "{text}");
        let row = |label: &str| -> Vec<String> {
            text.lines()
                .map(str::split_whitespace)
                .map(|words| words.map(str::to_string).collect::<Vec<_>>())
                .find(|words| words.first().map(String::as_str) == Some(label))
                .unwrap_or_default()
        };
        assert_eq!(
            row("/fail"),
            ["/fail", "2", "0", "2", "0", "0", "400:1", "401:1"]
        );
        assert_eq!(row("/panic"), ["/panic", "1", "0", "0", "0", "1"]);
        assert_eq!(row("/slow"), ["/slow", "0", "0", "0", "0", "0"]);
        assert!(stats.finished() == 5 && !stats.only_failures());
    }

    #[test]
    fn live_line_reports_the_interval_then_starts_a_new_one() {
        let mut stats = Stats::default();
        for _ in 0..10 {
            stats.record(0, Outcome::Status(200), Duration::from_millis(4));
        }
        let line = stats.take_live_line(Duration::from_secs(3), Duration::from_secs(2), 4);
        assert!(line.contains("5.0 req/s"), "{line}");
        assert!(
            line.contains("2xx 10") && line.contains("in flight 4"),
            "{line}"
        );
        assert!(line.contains("p50 4.00"), "{line}");
        let next = stats.take_live_line(Duration::from_secs(4), Duration::from_secs(1), 0);
        assert!(
            next.contains("0.0 req/s") && next.contains("p50 -"),
            "{next}"
        );
    }

    #[test]
    fn only_failures_when_nothing_answered() {
        let mut stats = Stats::default();
        assert!(!stats.only_failures());
        stats.record(0, Outcome::Failed(FailureKind::Connect), Duration::ZERO);
        assert!(stats.only_failures());
    }
}
