//! Functions over range vectors (`rate`, `*_over_time`, `holt_winters`, ...). Each series is
//! walked once: a window `[end - range, end]` (both ends inclusive, as in 2.42) slides over its
//! samples as the steps advance.

use crate::Error;
use crate::eval::Evaluator;
use crate::functions::quantile;
use crate::series::{DUPLICATE_LABELSET, MeanAcc, Series, kahan_inc};
use model::{Labels, Sample};
use promql_syntax::Expr;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// The names of the functions this module evaluates.
pub(crate) const RANGE_FUNCTIONS: &[&str] = &[
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "deriv",
    "predict_linear",
    "holt_winters",
    "changes",
    "resets",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "present_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "quantile_over_time",
    "absent_over_time",
];

/// Where a window lies, for the functions that extrapolate or regress against time.
struct Window {
    /// The evaluation step's time.
    ts: i64,
    range_start: i64,
    range_end: i64,
    range: i64,
}

/// Evaluates range function `name` over its range argument `marg` with per-step scalar
/// arguments (`quantile_over_time`'s φ, `predict_linear`'s t, `holt_winters`' factors). The
/// argument's series are consumed one at a time as they are fetched.
pub(crate) fn eval_range_function(
    ev: &Evaluator,
    name: &str,
    marg: &Expr,
    scalars: &[Vec<f64>],
    absent_labels: Labels,
) -> Result<Vec<Series>, Error> {
    if name == "absent_over_time" {
        return absent_over_time(ev, marg, absent_labels);
    }
    let mut points: Vec<Vec<Sample>> = Vec::new();
    let (labels, drop_name) = for_each_range_output(ev, name, marg, scalars, |_, p| {
        points.push(p);
        Ok(())
    })?;
    Ok(labels
        .into_iter()
        .zip(points)
        .map(|(labels, points)| Series {
            labels: if drop_name {
                labels.without_metric_name()
            } else {
                labels
            },
            points,
        })
        .collect())
}

/// An output series' labels as a range function gives them: its input series' labels, without
/// the metric name unless the function keeps it (`last_over_time`). A consumer that only groups
/// by them does not need the name-less copy built.
#[derive(Clone, Copy)]
pub(crate) struct OutLabels<'a> {
    /// The input series' labels.
    pub input: &'a Labels,
    /// Whether the output drops the metric name.
    pub drop_name: bool,
}

impl OutLabels<'_> {
    /// The output labels.
    pub fn build(&self) -> Labels {
        if self.drop_name {
            self.input.without_metric_name()
        } else {
            self.input.clone()
        }
    }
}

/// The hash of `l`, without its metric name if `drop_name`.
fn out_hash(l: &Labels, drop_name: bool) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    for x in l.iter() {
        if !(drop_name && x.name == model::METRIC_NAME) {
            x.name.hash(&mut h);
            x.value.hash(&mut h);
        }
    }
    h.finish()
}

/// Whether `a` and `b` are equal, ignoring their metric names if `drop_name`.
fn out_eq(a: &Labels, b: &Labels, drop_name: bool) -> bool {
    let keep = |x: &&model::Label| !(drop_name && x.name == model::METRIC_NAME);
    a.iter().filter(keep).eq(b.iter().filter(keep))
}

/// Evaluates range function `name` (any but `absent_over_time`) series by series, handing each
/// output series' labels and points to `f` as soon as they are computed: a consumer that folds
/// them (an aggregation) reads the points while they are in cache and lets them go. Returns the
/// input labels of the output series, in order, and whether the outputs drop the metric name,
/// after checking that no two outputs have equal labels.
pub(crate) fn for_each_range_output(
    ev: &Evaluator,
    name: &str,
    marg: &Expr,
    scalars: &[Vec<f64>],
    mut f: impl FnMut(OutLabels<'_>, Vec<Sample>) -> Result<(), Error>,
) -> Result<(Vec<Labels>, bool), Error> {
    let drop_name = name != "last_over_time";
    let mut out: Vec<Labels> = Vec::new();
    // Output labels seen, by hash, as indexes into `out`; a repeat is reported at the end, as
    // Prometheus does after evaluating every series.
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut duplicate = false;
    let mut held = 0usize;
    ev.for_each_range_mapped(
        marg,
        |arg, pts| Ok(series_output(ev, name, arg, &pts, scalars)),
        |_, labels, got| {
            // The window check the serial loop makes at each step, with this series' largest
            // window up to where it stopped: `held` does not change within a series.
            if got.max_window > 0 {
                ev.ctx.hold_samples(held + got.max_window)?;
            }
            if let Some(e) = got.error {
                return Err(e);
            }
            let points = got.points;
            if !points.is_empty() {
                held += points.len();
                ev.ctx.hold_samples(held)?;
                f(
                    OutLabels {
                        input: &labels,
                        drop_name,
                    },
                    points,
                )?;
                let same = seen.entry(out_hash(&labels, drop_name)).or_default();
                duplicate |= same.iter().any(|&j| out_eq(&out[j], &labels, drop_name));
                same.push(out.len());
                out.push(labels);
            }
            Ok(())
        },
    )?;
    // Prometheus refuses two output series with one labelset here, even at different steps.
    if duplicate {
        return Err(Error::Execution(DUPLICATE_LABELSET.into()));
    }
    Ok((out, drop_name))
}

/// A range function's output for one series, computed without the query's running totals so
/// that it can run on a worker thread.
struct SeriesOutput {
    points: Vec<Sample>,
    /// The most samples in one window, up to where the computation stopped.
    max_window: usize,
    /// Why the computation stopped early (a bad argument, the timeout).
    error: Option<Error>,
}

thread_local! {
    /// [`counter_resets_upto`]'s table, reused across the series a thread computes.
    static RESETS_UPTO: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Slides the windows of `arg` over one series' samples `pts` and applies range function
/// `name` at each step with samples in its window.
fn series_output(
    ev: &Evaluator,
    name: &str,
    arg: &crate::eval::RangeWindow,
    pts: &[Sample],
    scalars: &[Vec<f64>],
) -> SeriesOutput {
    let is_counter_fn = matches!(name, "rate" | "increase");
    RESETS_UPTO.with(|cell| {
        // Not re-entered: nothing below evaluates another range function.
        let mut resets_upto = cell.take();
        if is_counter_fn {
            counter_resets_upto(pts, &mut resets_upto);
        }
        let got = slide_windows(ev, name, arg, pts, scalars, is_counter_fn, &resets_upto);
        cell.replace(resets_upto);
        got
    })
}

fn slide_windows(
    ev: &Evaluator,
    name: &str,
    arg: &crate::eval::RangeWindow,
    pts: &[Sample],
    scalars: &[Vec<f64>],
    is_counter_fn: bool,
    resets_upto: &[u32],
) -> SeriesOutput {
    let (mut lo, mut hi) = (0usize, 0usize);
    // Sized once (regrowing copies): at most the steps whose window can reach a sample.
    let cap = match (pts.first(), pts.last(), arg.at) {
        (Some(f), Some(l), None) => {
            let span = l.t.saturating_sub(f.t).saturating_add(arg.range);
            usize::try_from(span / ev.step.max(1))
                .unwrap_or(usize::MAX)
                .saturating_add(1)
                .min(ev.num_steps())
        }
        (Some(_), Some(_), Some(_)) => ev.num_steps(),
        _ => 0,
    };
    let mut out = SeriesOutput {
        points: Vec::with_capacity(cap),
        max_window: 0,
        error: None,
    };
    for (step, ts) in ev.steps().enumerate() {
        // Every 16 steps: most steps cost a few nanoseconds, the check a thread-local update.
        if step % 16 == 0
            && let Err(e) = ev.ctx.check_timeout()
        {
            out.error = Some(e);
            break;
        }
        let te = arg.window_end(ts);
        let t0 = te.saturating_sub(arg.range);
        if hi < lo {
            hi = lo;
        }
        while hi < pts.len() && pts[hi].t <= te {
            hi += 1;
        }
        while lo < hi && pts[lo].t < t0 {
            lo += 1;
        }
        if lo >= hi {
            continue;
        }
        let win = &pts[lo..hi];
        out.max_window = out.max_window.max(win.len());
        let w = Window {
            ts,
            range_start: t0,
            range_end: te,
            range: arg.range,
        };
        let arg_at = |k: usize| scalars.get(k).map_or(f64::NAN, |v| v[step]);
        let got = if is_counter_fn {
            // Most windows hold no counter reset: then the reset loop can be skipped.
            let has_reset = resets_upto[hi - 1] != resets_upto[lo];
            extrapolated_rate_scan(win, &w, true, name == "rate", has_reset)
        } else {
            match apply(name, win, &w, arg_at) {
                Ok(v) => v,
                Err(e) => {
                    out.error = Some(e);
                    break;
                }
            }
        };
        if let Some(v) = got {
            out.points.push(Sample { t: ts, v });
        }
    }
    out
}

/// `out[i]` = how many samples in `pts[1..=i]` are below their predecessor (counter resets), so
/// a window `lo..hi` holds a reset exactly when `out[hi - 1] != out[lo]`.
fn counter_resets_upto(pts: &[Sample], out: &mut Vec<u32>) {
    out.clear();
    let mut n = 0u32;
    let mut prev = f64::NAN;
    for p in pts {
        // NaN compares false, so the first sample never counts.
        if p.v < prev {
            n += 1;
        }
        prev = p.v;
        out.push(n);
    }
}

fn absent_over_time(ev: &Evaluator, marg: &Expr, labels: Labels) -> Result<Vec<Series>, Error> {
    let mut present = vec![false; ev.num_steps()];
    ev.for_each_range_series(marg, |arg, s| {
        let pts = &s.points;
        let mut hi = 0usize;
        let mut lo = 0usize;
        for (i, ts) in ev.steps().enumerate() {
            ev.ctx.check_timeout()?;
            let te = arg.window_end(ts);
            while hi < pts.len() && pts[hi].t <= te {
                hi += 1;
            }
            while lo < hi && pts[lo].t < te.saturating_sub(arg.range) {
                lo += 1;
            }
            if lo < hi {
                present[i] = true;
            }
        }
        Ok(())
    })?;
    Ok(absent_series(ev, &present, labels).into_iter().collect())
}

/// `absent`'s and `absent_over_time`'s answer: 1 at every step where nothing was `present`, as
/// one series with `labels`; `None` when something was present at every step.
pub(crate) fn absent_series(ev: &Evaluator, present: &[bool], labels: Labels) -> Option<Series> {
    let points: Vec<Sample> = ev
        .steps()
        .zip(present)
        .filter(|(_, p)| !**p)
        .map(|(t, _)| Sample { t, v: 1.0 })
        .collect();
    (!points.is_empty()).then_some(Series { labels, points })
}

fn apply(
    name: &str,
    win: &[Sample],
    w: &Window,
    arg: impl Fn(usize) -> f64,
) -> Result<Option<f64>, Error> {
    let n = win.len();
    let last = win[n - 1];
    Ok(match name {
        "rate" => extrapolated_rate(win, w, true, true),
        "increase" => extrapolated_rate(win, w, true, false),
        "delta" => extrapolated_rate(win, w, false, false),
        "irate" => instant_value(win, true),
        "idelta" => instant_value(win, false),
        "deriv" => {
            if n < 2 {
                None
            } else {
                Some(linear_regression(win, win[0].t).0)
            }
        }
        "predict_linear" => {
            if n < 2 {
                None
            } else {
                let (slope, intercept) = linear_regression(win, w.ts);
                Some(slope * arg(0) + intercept)
            }
        }
        "holt_winters" => holt_winters(win, arg(0), arg(1))?,
        "changes" => {
            let mut c = 0.0;
            for p in win.windows(2) {
                let (a, b) = (p[0].v, p[1].v);
                if a != b && !(a.is_nan() && b.is_nan()) {
                    c += 1.0;
                }
            }
            Some(c)
        }
        "resets" => Some(win.windows(2).filter(|p| p[1].v < p[0].v).count() as f64),
        "avg_over_time" => Some(avg_over_time(win)),
        "min_over_time" => Some(
            win.iter()
                .fold(win[0].v, |m, p| if p.v < m || m.is_nan() { p.v } else { m }),
        ),
        "max_over_time" => Some(
            win.iter()
                .fold(win[0].v, |m, p| if p.v > m || m.is_nan() { p.v } else { m }),
        ),
        "sum_over_time" => Some(sum_over_time(win)),
        "count_over_time" => Some(n as f64),
        "last_over_time" => Some(last.v),
        "present_over_time" => Some(1.0),
        "stddev_over_time" => Some(variance_over_time(win).sqrt()),
        "stdvar_over_time" => Some(variance_over_time(win)),
        "quantile_over_time" => {
            let mut vals: Vec<f64> = win.iter().map(|p| p.v).collect();
            Some(quantile(arg(0), &mut vals))
        }
        other => {
            return Err(Error::BadData(format!(
                "parse error: unknown function with name {other:?}"
            )));
        }
    })
}

/// `rate`, `increase` and `delta`: the change over the window, extrapolated towards the window's
/// ends as Prometheus 2.42 does (at most half an average sample interval past the first/last
/// sample, and never below zero for counters).
fn extrapolated_rate(win: &[Sample], w: &Window, is_counter: bool, is_rate: bool) -> Option<f64> {
    extrapolated_rate_scan(win, w, is_counter, is_rate, is_counter)
}

/// [`extrapolated_rate`] where the caller knows whether the window may hold a counter reset:
/// without one the correction loop adds nothing and is skipped.
fn extrapolated_rate_scan(
    win: &[Sample],
    w: &Window,
    is_counter: bool,
    is_rate: bool,
    may_reset: bool,
) -> Option<f64> {
    let n = win.len();
    if n < 2 {
        return None;
    }
    let first = win[0];
    let last = win[n - 1];
    let mut result = last.v - first.v;
    if is_counter && may_reset {
        let mut prev = first.v;
        for p in &win[1..] {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
    }
    let mut duration_to_start = (first.t - w.range_start) as f64 / 1000.0;
    let duration_to_end = (w.range_end - last.t) as f64 / 1000.0;
    let sampled_interval = (last.t - first.t) as f64 / 1000.0;
    let avg_between = sampled_interval / (n - 1) as f64;
    if is_counter && result > 0.0 && first.v >= 0.0 {
        let duration_to_zero = sampled_interval * (first.v / result);
        if duration_to_zero < duration_to_start {
            duration_to_start = duration_to_zero;
        }
    }
    let threshold = avg_between * 1.1;
    let mut extrapolate_to = sampled_interval;
    extrapolate_to += if duration_to_start < threshold {
        duration_to_start
    } else {
        avg_between / 2.0
    };
    extrapolate_to += if duration_to_end < threshold {
        duration_to_end
    } else {
        avg_between / 2.0
    };
    let mut factor = extrapolate_to / sampled_interval;
    if is_rate {
        factor /= w.range as f64 / 1000.0;
    }
    Some(result * factor)
}

/// `irate` and `idelta`: from the last two samples.
fn instant_value(win: &[Sample], is_rate: bool) -> Option<f64> {
    let n = win.len();
    if n < 2 {
        return None;
    }
    let (prev, last) = (win[n - 2], win[n - 1]);
    let mut result = if is_rate && last.v < prev.v {
        // A counter reset: the last value is the increase since the reset.
        last.v
    } else {
        last.v - prev.v
    };
    let interval = last.t - prev.t;
    if interval == 0 {
        return None;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// Least-squares slope and intercept (at `intercept_time`) of the samples, time in seconds.
fn linear_regression(win: &[Sample], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = win[0].v;
    let mut const_y = true;
    for (i, p) in win.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(p.v, sy, cy);
        (sxy, cxy) = kahan_inc(x * p.v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov_xy = sxy - sx * sy / n;
    let var_x = sx2 - sx * sx / n;
    let slope = cov_xy / var_x;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

fn avg_over_time(win: &[Sample]) -> f64 {
    let mut acc = MeanAcc::new(win[0].v);
    for p in &win[1..] {
        acc.add(p.v);
    }
    acc.value()
}

fn sum_over_time(win: &[Sample]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for p in win {
        (sum, c) = kahan_inc(p.v, sum, c);
    }
    if sum.is_infinite() { sum } else { sum + c }
}

fn variance_over_time(win: &[Sample]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in win {
        count += 1.0;
        let delta = p.v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Double exponential smoothing with smoothing factor `sf` and trend factor `tf`.
fn holt_winters(win: &[Sample], sf: f64, tf: f64) -> Result<Option<f64>, Error> {
    if sf <= 0.0 || sf >= 1.0 {
        return Err(Error::Execution(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
        )));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(Error::Execution(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
        )));
    }
    let l = win.len();
    if l < 2 {
        return Ok(None);
    }
    let (mut s0, mut s1) = (0.0, win[0].v);
    let mut b = win[1].v - win[0].v;
    for (i, p) in win.iter().enumerate().skip(1) {
        let x = sf * p.v;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Ok(Some(s1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipping_the_reset_scan_changes_no_rate() {
        // A counter with resets (and a NaN) at irregular places; every window is checked.
        let vals = [5.0, 7.0, 2.0, 2.0, 9.0, f64::NAN, 4.0, 11.0, 1.0, 0.5, 3.0];
        let pts: Vec<Sample> = vals
            .iter()
            .enumerate()
            .map(|(i, &v)| Sample {
                t: i as i64 * 15_000,
                v,
            })
            .collect();
        let mut upto = Vec::new();
        counter_resets_upto(&pts, &mut upto);
        assert_eq!(upto.len(), pts.len());
        let mut skipped = 0;
        for lo in 0..pts.len() {
            for hi in lo + 1..=pts.len() {
                let w = Window {
                    ts: pts[hi - 1].t,
                    range_start: pts[lo].t - 5_000,
                    range_end: pts[hi - 1].t + 5_000,
                    range: pts[hi - 1].t - pts[lo].t + 10_000,
                };
                let win = &pts[lo..hi];
                let has_reset = upto[hi - 1] != upto[lo];
                if !has_reset {
                    skipped += 1;
                }
                let full = extrapolated_rate(win, &w, true, true).map(f64::to_bits);
                let fast = extrapolated_rate_scan(win, &w, true, true, has_reset).map(f64::to_bits);
                assert_eq!(full, fast, "window {lo}..{hi}");
            }
        }
        assert!(skipped > 0);
    }
}
