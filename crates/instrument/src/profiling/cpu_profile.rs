//! Raw stack samples → one aggregated CPU profile per upload interval.
//!
//! Samples are counted per distinct (stack, span) pair, so a hot loop sampled a thousand times
//! costs one entry. The number of distinct pairs is bounded; samples of new pairs past the
//! bound are dropped and counted. At upload time the pairs are symbolized and written as a
//! pprof profile in the shape Go's CPU profiler produces and Pyroscope expects for
//! `process_cpu`: sample types `samples/count` and `cpu/nanoseconds`, period type
//! `cpu/nanoseconds`, period `1e9 / hz`.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::builder::{ProfileBuilder, ProfileHeader};
use super::proto::Profile;
use super::span::SpanIds;
use super::symbolize::Symbolizer;

/// Sample label carrying the 16-hex-digit span id (the key Pyroscope's span profiles use).
pub const SPAN_ID_LABEL: &str = "span_id";
/// Sample label carrying the 32-hex-digit trace id.
pub const TRACE_ID_LABEL: &str = "trace_id";

/// Counts of samples per (stack, span) for one interval.
pub(crate) struct CpuSamples {
    /// Span → stack → count; two levels so a stack is looked up by `&[usize]` without
    /// allocating a key.
    counts: HashMap<Option<SpanIds>, HashMap<Box<[usize]>, u64>>,
    distinct: usize,
    max_stacks: usize,
    dropped: u64,
}

impl CpuSamples {
    /// An empty set holding at most `max_stacks` distinct (stack, span) pairs.
    pub(crate) fn new(max_stacks: usize) -> Self {
        Self {
            counts: HashMap::new(),
            distinct: 0,
            max_stacks: max_stacks.max(1),
            dropped: 0,
        }
    }

    /// Counts one sample; `frames` is leaf first. Returns false (and counts a drop) when the
    /// pair is new and the bound is reached.
    pub(crate) fn add(&mut self, frames: &[usize], span: Option<SpanIds>) -> bool {
        if let Some(count) = self
            .counts
            .get_mut(&span)
            .and_then(|stacks| stacks.get_mut(frames))
        {
            *count += 1;
            return true;
        }
        if self.distinct >= self.max_stacks {
            self.dropped += 1;
            return false;
        }
        self.counts
            .entry(span)
            .or_default()
            .insert(frames.into(), 1);
        self.distinct += 1;
        true
    }

    /// Samples counted so far.
    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.counts
            .values()
            .flat_map(|stacks| stacks.values())
            .sum()
    }

    /// Samples dropped for the bound since the last [`CpuSamples::take_dropped`].
    pub(crate) fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }

    /// Whether nothing was counted.
    pub(crate) fn is_empty(&self) -> bool {
        self.distinct == 0
    }

    /// Turns the counted samples into a pprof profile and empties the set.
    pub(crate) fn take_profile(
        &mut self,
        symbolizer: &mut Symbolizer,
        window: ProfileWindow,
    ) -> Profile {
        let mut builder = ProfileBuilder::new();
        builder.set_main_mapping(&window.executable);
        let mut trace_hex = String::with_capacity(32);
        let mut span_hex = String::with_capacity(16);
        self.distinct = 0;
        let pairs = self
            .counts
            .drain()
            .flat_map(|(span, stacks)| stacks.into_iter().map(move |(f, c)| (span, f, c)));
        for (span, frames, count) in pairs {
            let location_id = frames
                .iter()
                .map(|&address| builder.location(address as u64, &symbolizer.resolve(address)))
                .collect();
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            let value = vec![count, count.saturating_mul(window.period_nanos)];
            match span {
                Some(ids) => {
                    hex_into(&mut trace_hex, &ids.trace_id);
                    hex_into(&mut span_hex, &ids.span_id);
                    builder.sample(
                        location_id,
                        value,
                        &[(SPAN_ID_LABEL, &span_hex), (TRACE_ID_LABEL, &trace_hex)],
                    );
                }
                None => builder.sample(location_id, value, &[]),
            }
        }
        builder.build(ProfileHeader {
            sample_types: &[("samples", "count"), ("cpu", "nanoseconds")],
            period_type: ("cpu", "nanoseconds"),
            period: window.period_nanos,
            time_nanos: window.start_unix_nanos,
            duration_nanos: window.duration_nanos,
        })
    }
}

/// The profile-wide facts of one upload interval.
pub(crate) struct ProfileWindow {
    /// CPU nanoseconds between samples: `1e9 / hz`.
    pub period_nanos: i64,
    /// Start of the interval, nanoseconds since the Unix epoch.
    pub start_unix_nanos: i64,
    /// Length of the interval in nanoseconds.
    pub duration_nanos: i64,
    /// Path of the running executable, named by the profile's mapping.
    pub executable: String,
}

/// Signals needed before the measured sampling rate is trusted over the requested one.
const MIN_SIGNALS_TO_MEASURE: u64 = 100;

/// CPU nanoseconds one sample stands for. Normally `1e9 / hz`; but `ITIMER_PROF` is checked
/// on the kernel's timer tick (often 250 Hz), so a higher `hz` yields at most one signal per
/// tick. When the process CPU time per signal received so far exceeds the requested period by
/// more than 10 %, the measured period is used, so `cpu` values still add up to the CPU time.
pub(crate) fn effective_period(nominal_nanos: i64, process_cpu_nanos: u64, signals: u64) -> i64 {
    if signals < MIN_SIGNALS_TO_MEASURE {
        return nominal_nanos;
    }
    let measured = i64::try_from(process_cpu_nanos / signals).unwrap_or(i64::MAX);
    if measured.saturating_mul(10) > nominal_nanos.saturating_mul(11) {
        measured
    } else {
        nominal_nanos
    }
}

/// Lower-case hex of `bytes` into `out` (cleared first).
pub(crate) fn hex_into(out: &mut String, bytes: &[u8]) {
    out.clear();
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn marker_function() -> usize {
        std::hint::black_box(7)
    }

    fn window() -> ProfileWindow {
        ProfileWindow {
            period_nanos: 10_000_000,
            start_unix_nanos: 5,
            duration_nanos: 6,
            executable: "/bin/app".to_owned(),
        }
    }

    #[test]
    fn identical_samples_are_aggregated_and_spans_become_hex_labels() {
        assert_eq!(marker_function(), 7);
        let leaf = marker_function as *const () as usize + 1;
        let span = SpanIds {
            trace_id: [0xab; 16],
            span_id: [0, 1, 2, 3, 4, 5, 6, 0xff],
        };
        let mut samples = CpuSamples::new(10);
        for _ in 0..3 {
            assert!(samples.add(&[leaf, 0x10], Some(span)));
        }
        assert!(samples.add(&[leaf, 0x10], None));
        assert_eq!(samples.total(), 4);
        let mut symbolizer = Symbolizer::new(16);
        let p = samples.take_profile(&mut symbolizer, window());
        assert!(samples.is_empty());
        assert_eq!(p.sample.len(), 2);
        let s = |i: i64| p.string_table[i as usize].as_str();
        let with_span = p
            .sample
            .iter()
            .find(|x| !x.label.is_empty())
            .expect("the span sample");
        assert_eq!(with_span.value, vec![3, 30_000_000]);
        let labels: Vec<(&str, &str)> = with_span
            .label
            .iter()
            .map(|l| (s(l.key), s(l.str)))
            .collect();
        assert_eq!(
            labels,
            vec![
                ("span_id", "00010203040506ff"),
                ("trace_id", "abababababababababababababababab")
            ]
        );
        let without = p
            .sample
            .iter()
            .find(|x| x.label.is_empty())
            .expect("the spanless sample");
        assert_eq!(without.value, vec![1, 10_000_000]);
        assert_eq!(with_span.location_id, without.location_id);
        let leaf_location = &p.location[(with_span.location_id[0] - 1) as usize];
        let leaf_function = &p.function[(leaf_location.line[0].function_id - 1) as usize];
        assert!(s(leaf_function.name).ends_with("marker_function"));
        let types: Vec<(&str, &str)> = p
            .sample_type
            .iter()
            .map(|t| (s(t.r#type), s(t.unit)))
            .collect();
        assert_eq!(types, vec![("samples", "count"), ("cpu", "nanoseconds")]);
        assert_eq!(p.period, 10_000_000);
        assert_eq!((p.time_nanos, p.duration_nanos), (5, 6));
    }

    #[test]
    fn the_period_follows_the_measured_rate_only_when_the_kernel_caps_it() {
        let ms = 1_000_000i64;
        let cpu_ms = |n: u64| n * 1_000_000;
        // Requested 100 Hz, got about 100 Hz: the requested period.
        assert_eq!(effective_period(10 * ms, cpu_ms(2_500), 259), 10 * ms);
        // Requested 1000 Hz on a 250 Hz kernel: 4 ms per signal.
        assert_eq!(effective_period(ms, cpu_ms(2_500), 625), 4 * ms);
        // Too few signals to judge.
        assert_eq!(effective_period(ms, cpu_ms(400), 99), ms);
        assert_eq!(effective_period(ms, 0, 0), ms);
    }

    #[test]
    fn distinct_stacks_are_bounded_and_drops_counted() {
        let mut samples = CpuSamples::new(2);
        assert!(samples.add(&[1], None));
        assert!(samples.add(&[2], None));
        assert!(!samples.add(&[3], None));
        assert!(samples.add(&[1], None), "known stacks still count");
        assert_eq!(samples.take_dropped(), 1);
        assert_eq!(samples.take_dropped(), 0);
        assert_eq!(samples.total(), 3);
    }
}
