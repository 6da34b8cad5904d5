//! A latency histogram with log-linear buckets: each power of two is split into 16 equal
//! buckets, so any quantile is off by at most 1/32 of its value (the bucket's midpoint is
//! reported), over 1 µs to days, in a fixed 600-odd counters. Recording is O(1) and the memory
//! does not grow with the number of requests.

use std::time::Duration;

/// Linear sub-buckets per power of two.
const SUB_BUCKETS: u64 = 16;
/// log2(SUB_BUCKETS): values below `SUB_BUCKETS` µs get one bucket each.
const SUB_BITS: u32 = 4;
/// The largest power of two kept apart; longer latencies (over 12 days) share the last bucket.
const MAX_EXPONENT: u32 = 40;
const BUCKETS: usize = (SUB_BUCKETS + (MAX_EXPONENT - SUB_BITS + 1) as u64 * SUB_BUCKETS) as usize;

/// Counts of latencies in microseconds.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    count: u64,
    max_us: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            counts: vec![0; BUCKETS],
            count: 0,
            max_us: 0,
        }
    }
}

impl LatencyHistogram {
    /// Adds one latency.
    pub fn record(&mut self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.counts[bucket_of(us)] += 1;
        self.count += 1;
        self.max_us = self.max_us.max(us);
    }

    /// How many latencies were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest latency recorded (exact), zero when empty.
    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max_us)
    }

    /// The latency below which a fraction `q` (0..=1) of the recorded ones fall; `None` when
    /// nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        // The rank of the wanted value, 1-based: the smallest for q = 0, the largest for q = 1.
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
        if rank == self.count {
            return Some(self.max());
        }
        let mut seen = 0;
        for (bucket, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let (low, width) = bucket_bounds(bucket);
                let middle = low.saturating_add(width / 2);
                return Some(Duration::from_micros(middle.min(self.max_us)));
            }
        }
        Some(self.max())
    }

    /// Forgets everything recorded (for per-interval figures).
    pub fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.count = 0;
        self.max_us = 0;
    }
}

fn bucket_of(us: u64) -> usize {
    if us < SUB_BUCKETS {
        return us as usize;
    }
    let exponent = (63 - us.leading_zeros()).min(MAX_EXPONENT);
    if exponent == MAX_EXPONENT && us >> MAX_EXPONENT > 1 {
        return BUCKETS - 1;
    }
    let shift = exponent - SUB_BITS;
    let sub = (us >> shift) & (SUB_BUCKETS - 1);
    (SUB_BUCKETS + u64::from(shift) * SUB_BUCKETS + sub) as usize
}

/// Lower bound and width in µs of a bucket.
fn bucket_bounds(bucket: usize) -> (u64, u64) {
    let bucket = bucket as u64;
    if bucket < SUB_BUCKETS {
        return (bucket, 1);
    }
    let shift = (bucket - SUB_BUCKETS) / SUB_BUCKETS;
    let sub = (bucket - SUB_BUCKETS) % SUB_BUCKETS;
    ((SUB_BUCKETS + sub) << shift, 1 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_contain_their_values() {
        for us in (0..5000).chain([65_535, 65_536, 1 << 30, (1 << 41) - 1]) {
            let (low, width) = bucket_bounds(bucket_of(us));
            assert!(
                low <= us && us < low + width,
                "{us} not in [{low}, {})",
                low + width
            );
        }
        for bucket in 1..BUCKETS {
            let (low, _) = bucket_bounds(bucket);
            let (prev_low, prev_width) = bucket_bounds(bucket - 1);
            assert_eq!(prev_low + prev_width, low, "gap before bucket {bucket}");
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_are_within_three_percent() {
        let mut h = LatencyHistogram::default();
        for ms in 1..=1000 {
            h.record(Duration::from_millis(ms));
        }
        for (q, want_ms) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let got = h.quantile(q).map(|d| d.as_secs_f64() * 1000.0);
            let got = got.unwrap_or(f64::NAN);
            assert!(
                (got - want_ms).abs() / want_ms < 0.035,
                "q{q}: {got} vs {want_ms}"
            );
        }
        assert_eq!(h.max(), Duration::from_millis(1000));
        assert_eq!(h.quantile(1.0), Some(Duration::from_millis(1000)));
        assert_eq!(h.count(), 1000);
    }

    #[test]
    fn empty_and_cleared_have_no_quantiles() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.quantile(0.5), None);
        h.record(Duration::from_micros(3));
        assert_eq!(h.quantile(0.5), Some(Duration::from_micros(3)));
        h.clear();
        assert_eq!((h.quantile(0.99), h.count()), (None, 0));
    }
}
