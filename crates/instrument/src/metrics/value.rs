//! The metric values: [`Counter`], [`Gauge`] and [`Histogram`] (one label set each), all
//! lock-free on the hot path except the exemplar slot a histogram observation may replace.

use crate::ids::{SpanId, TraceId};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// An `f64` updated atomically (bits in an `AtomicU64`, adds by compare-and-swap).
#[derive(Debug, Default)]
pub(crate) struct AtomicF64(AtomicU64);

impl AtomicF64 {
    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    fn add(&self, v: f64) {
        let mut current = self.0.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(current) + v).to_bits();
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }
}

/// A monotonically increasing value for one label set. Cloning shares the value.
#[derive(Debug, Clone, Default)]
pub struct Counter(pub(crate) Arc<AtomicF64>);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.add(1.0);
    }

    /// Adds `v`; negative and NaN amounts are ignored, since a counter never goes down.
    pub fn inc_by(&self, v: f64) {
        if v >= 0.0 {
            self.0.add(v);
        }
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

/// A value that goes up and down, for one label set. Cloning shares the value.
#[derive(Debug, Clone, Default)]
pub struct Gauge(pub(crate) Arc<AtomicF64>);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: f64) {
        self.0.set(v);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.0.add(1.0);
    }

    /// Subtracts one.
    pub fn dec(&self) {
        self.0.add(-1.0);
    }

    /// Adds `v` (which may be negative).
    pub fn add(&self, v: f64) {
        self.0.add(v);
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

/// The trace an observation belongs to, kept per histogram bucket and exposed in OpenMetrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exemplar {
    /// The trace id.
    pub trace_id: TraceId,
    /// The span id.
    pub span_id: SpanId,
    /// The observed value.
    pub value: f64,
    /// When it was observed, in seconds since the Unix epoch.
    pub timestamp: f64,
}

#[derive(Debug)]
pub(crate) struct HistogramCore {
    /// Upper bounds, finite and strictly increasing; `+Inf` is implicit.
    pub(crate) bounds: Arc<[f64]>,
    /// Per-bucket (non-cumulative) counts; the last one is the `+Inf` overflow.
    pub(crate) counts: Box<[AtomicU64]>,
    pub(crate) sum: AtomicF64,
    /// The latest exemplar per bucket (same indexes as `counts`).
    pub(crate) exemplars: Box<[Mutex<Option<Exemplar>>]>,
}

/// Observations bucketed by upper bounds, for one label set. Cloning shares the value.
#[derive(Debug, Clone)]
pub struct Histogram(pub(crate) Arc<HistogramCore>);

impl Histogram {
    pub(crate) fn new(bounds: Arc<[f64]>) -> Self {
        let n = bounds.len() + 1;
        Histogram(Arc::new(HistogramCore {
            bounds,
            counts: (0..n).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicF64::default(),
            exemplars: (0..n).map(|_| Mutex::new(None)).collect(),
        }))
    }

    fn bucket_of(&self, v: f64) -> usize {
        // The first bound >= v; NaN lands in +Inf, as in the Go client library.
        if v.is_nan() {
            return self.0.bounds.len();
        }
        self.0.bounds.partition_point(|b| *b < v)
    }

    /// Records one observation.
    pub fn observe(&self, v: f64) {
        let i = self.bucket_of(v);
        self.0.counts[i].fetch_add(1, Ordering::Relaxed);
        self.0.sum.add(v);
    }

    /// Records one observation and keeps it as the exemplar of its bucket when a trace is given.
    pub fn observe_with_trace(&self, v: f64, trace: Option<(TraceId, SpanId)>) {
        let timestamp = match trace {
            Some(_) => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            None => 0.0,
        };
        self.observe_at(v, trace, timestamp);
    }

    /// [`observe_with_trace`](Self::observe_with_trace) with the exemplar's timestamp (seconds
    /// since the epoch) given, for callers that read the clock anyway.
    pub(crate) fn observe_at(&self, v: f64, trace: Option<(TraceId, SpanId)>, timestamp: f64) {
        let i = self.bucket_of(v);
        self.0.counts[i].fetch_add(1, Ordering::Relaxed);
        self.0.sum.add(v);
        if let Some((trace_id, span_id)) = trace {
            *self.0.exemplars[i].lock() = Some(Exemplar {
                trace_id,
                span_id,
                value: v,
                timestamp,
            });
        }
    }

    /// The number of observations so far.
    pub fn count(&self) -> u64 {
        self.0
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// The sum of observations so far.
    pub fn sum(&self) -> f64 {
        self.0.sum.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_ignores_negative() {
        let c = Counter::default();
        c.inc();
        c.inc_by(2.5);
        c.inc_by(-10.0);
        c.inc_by(f64::NAN);
        assert_eq!(c.get(), 3.5);
    }

    #[test]
    fn gauge_moves_both_ways() {
        let g = Gauge::default();
        g.inc();
        g.inc();
        g.dec();
        g.add(-3.0);
        assert_eq!(g.get(), -2.0);
        g.set(7.0);
        assert_eq!(g.get(), 7.0);
    }

    #[test]
    fn histogram_buckets_are_upper_inclusive() {
        let h = Histogram::new(Arc::from(vec![0.1, 0.5]));
        h.observe(0.1);
        h.observe(0.2);
        h.observe(9.0);
        h.observe_with_trace(0.05, Some(([1; 16], [2; 8])));
        let counts: Vec<u64> =
            h.0.counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect();
        assert_eq!(counts, vec![2, 1, 1]);
        assert_eq!(h.count(), 4);
        assert!((h.sum() - 9.35).abs() < 1e-9);
        let ex = h.0.exemplars[0].lock().expect("exemplar kept");
        assert_eq!(ex.value, 0.05);
        assert_eq!(ex.trace_id, [1; 16]);
        assert!(h.0.exemplars[1].lock().is_none());
        h.observe(f64::NAN);
        assert_eq!(
            h.0.counts[2].load(Ordering::Relaxed),
            2,
            "NaN counts in +Inf"
        );
    }
}
