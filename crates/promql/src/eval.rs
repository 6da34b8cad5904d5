//! The evaluator core: time bookkeeping, selectors, subqueries and dispatch.
//!
//! Like Prometheus' engine, every node is evaluated over all steps of the query at once
//! (`start..=end` by `step`; an instant query is one step). A selector fetches each series once
//! for the whole range and walks the steps with a cursor; range functions slide a window over a
//! series' samples; vector-level operators walk the steps of their inputs in lock step.

use crate::series::{Series, Val, merge_same_labels};
use crate::{Error, aggr, binop, functions};
use model::{Labels, MatchOp, Matcher, Sample, is_stale_nan};
use promql_syntax::{AtModifier, Expr, MatchOp as PMatchOp, VectorSelector};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tsdb::{Queryable, SelectHints};

/// Selections with fewer series than this are read on the calling thread: there is too little
/// to share out.
const PARALLEL_MIN_SERIES: usize = 64;
/// The sample interval assumed when estimating a selection's samples before reading it (a
/// common scrape interval); only the choice between serial and parallel reading depends on it.
const NOMINAL_INTERVAL_MS: i64 = 15_000;

thread_local! {
    /// Calls to [`Ctx::check_timeout`] on this thread; per thread so that workers checking the
    /// clock in their inner loops never write a cache line another core reads.
    static TICKS: Cell<u32> = const { Cell::new(0) };
}

/// State shared by the evaluators of one query (the top level and its subqueries). It is
/// `Sync` so that worker threads can run the per-series part of an evaluation (see
/// `parallel`); only the calling thread updates the sample counters, in series order.
pub(crate) struct Ctx<'q> {
    pub queryable: &'q dyn Queryable,
    pub lookback_ms: i64,
    pub max_samples: usize,
    pub subquery_step_ms: i64,
    pub deadline: Instant,
    /// The query's own start and end, which `@ start()` and `@ end()` refer to.
    pub query_start: i64,
    pub query_end: i64,
    pub total_samples: AtomicU64,
    pub peak_samples: AtomicU64,
    /// Worker threads for the per-series work of a big selection; 1 reads serially.
    pub workers: usize,
    /// Estimated samples below which a selection is read serially.
    pub parallel_min_samples: usize,
}

impl<'q> Ctx<'q> {
    pub fn new(
        queryable: &'q dyn Queryable,
        opts: &crate::EngineOptions,
        query_start: i64,
        query_end: i64,
    ) -> Self {
        Ctx {
            queryable,
            lookback_ms: opts.lookback_delta_ms,
            max_samples: opts.max_samples,
            subquery_step_ms: opts.default_subquery_step_ms.max(1),
            deadline: Instant::now() + opts.timeout,
            query_start,
            query_end,
            total_samples: AtomicU64::new(0),
            peak_samples: AtomicU64::new(0),
            workers: opts.parallelism.clamp(1, crate::MAX_PARALLELISM),
            parallel_min_samples: opts.parallel_min_samples,
        }
    }

    /// Fails once the deadline has passed; cheap enough to call in inner loops.
    pub fn check_timeout(&self) -> Result<(), Error> {
        let t = TICKS.with(|c| {
            let t = c.get().wrapping_add(1);
            c.set(t);
            t
        });
        if t.is_multiple_of(256) && Instant::now() > self.deadline {
            return Err(Error::Timeout("expression evaluation".into()));
        }
        Ok(())
    }

    /// Accounts for `n` samples held by one node; fails past `max_samples`.
    pub fn hold_samples(&self, n: usize) -> Result<(), Error> {
        if n > self.max_samples {
            return Err(Error::TooManySamples("query execution".into()));
        }
        // Relaxed load and store: only the calling thread writes the counters.
        if n as u64 > self.peak_samples.load(Ordering::Relaxed) {
            self.peak_samples.store(n as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Fails for one series holding more than `max_samples` samples: the part of
    /// [`Ctx::hold_samples`] a worker thread can check without the query's running totals.
    pub fn check_series_samples(&self, n: usize) -> Result<(), Error> {
        if n > self.max_samples {
            return Err(Error::TooManySamples("query execution".into()));
        }
        Ok(())
    }

    /// Adds `n` to the samples the query has read.
    fn add_total_samples(&self, n: usize) {
        let total = self.total_samples.load(Ordering::Relaxed) + n as u64;
        self.total_samples.store(total, Ordering::Relaxed);
    }
}

/// Evaluates expressions over one grid of steps.
pub(crate) struct Evaluator<'c, 'q> {
    pub ctx: &'c Ctx<'q>,
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

/// How each evaluation step of a range function maps to a window of its input.
#[derive(Clone, Copy)]
pub(crate) struct RangeWindow {
    pub range: i64,
    pub offset: i64,
    pub at: Option<i64>,
}

impl RangeWindow {
    /// The window end for evaluation step `ts`; the window is `[end - range, end]`.
    pub fn window_end(&self, ts: i64) -> i64 {
        self.at.unwrap_or(ts).saturating_sub(self.offset)
    }
}

/// The input of a range function, materialized: raw series plus their windows.
pub(crate) struct RangeArg {
    pub series: Vec<Series>,
    pub window: RangeWindow,
}

/// Strips any number of parentheses.
pub(crate) fn unwrap_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// The selector's matchers in the model's form, with the metric name as a `__name__` matcher.
pub(crate) fn selector_matchers(vs: &VectorSelector) -> Result<Vec<Matcher>, Error> {
    // The parser already appended the metric name as the last `__name__` matcher.
    let mut out = Vec::with_capacity(vs.matchers.len());
    for m in &vs.matchers {
        let op = match m.op {
            PMatchOp::Equal => MatchOp::Equal,
            PMatchOp::NotEqual => MatchOp::NotEqual,
            PMatchOp::RegexMatch => MatchOp::Regex,
            PMatchOp::RegexNoMatch => MatchOp::NotRegex,
        };
        // Go's regex semantics (2.42: `.` stops at newlines, Perl classes are ASCII); the shared
        // matcher follows Rust's. Plain alternations stay as they are so stores can still look
        // their literals up directly.
        let plain = m
            .value
            .chars()
            .all(|c| c.is_alphanumeric() || "|_-:/ ".contains(c));
        let value = if matches!(op, MatchOp::Regex | MatchOp::NotRegex) && !plain {
            crate::go_regex::go_compatible(&m.value)
        } else {
            m.value.clone()
        };
        out.push(
            Matcher::new(op, m.name.clone(), value)
                .map_err(|e| Error::BadData(format!("parse error: {e}")))?,
        );
    }
    Ok(out)
}

impl<'c, 'q> Evaluator<'c, 'q> {
    /// Number of steps.
    pub fn num_steps(&self) -> usize {
        if self.end < self.start {
            0
        } else {
            // i128: the API's extreme times would overflow an i64 difference.
            usize::try_from((i128::from(self.end) - i128::from(self.start)) / i128::from(self.step))
                .unwrap_or(usize::MAX - 1)
                + 1
        }
    }

    /// The step timestamps.
    pub fn steps(&self) -> impl Iterator<Item = i64> + use<> {
        let (start, step, n) = (self.start, self.step, self.num_steps());
        (0..n).map(move |i| start + i as i64 * step)
    }

    /// Index of step timestamp `t`.
    pub fn step_index(&self, t: i64) -> usize {
        ((t - self.start) / self.step) as usize
    }

    pub fn resolve_at(&self, at: &Option<AtModifier>) -> Option<i64> {
        match at {
            None => None,
            Some(AtModifier::Start) => Some(self.ctx.query_start),
            Some(AtModifier::End) => Some(self.ctx.query_end),
            Some(AtModifier::Timestamp(t)) => Some(*t),
        }
    }

    /// Evaluates `e` over all steps.
    pub fn eval(&self, e: &Expr) -> Result<Val, Error> {
        self.ctx.check_timeout()?;
        match e {
            Expr::Number(n) => Ok(Val::Scalar(vec![n.value; self.num_steps()])),
            Expr::String(s) => Ok(Val::Str(s.value.clone())),
            Expr::Paren(p) => self.eval(&p.expr),
            // Unary plus changes nothing, not even the metric name.
            Expr::Unary(u) if !u.negate => self.eval(&u.expr),
            Expr::Unary(u) => match self.eval(&u.expr)? {
                Val::Scalar(v) => Ok(Val::Scalar(v.into_iter().map(|x| -x).collect())),
                Val::Vector(ss) => {
                    let out = ss
                        .into_iter()
                        .map(|s| Series {
                            labels: s.labels.without_metric_name(),
                            points: s
                                .points
                                .into_iter()
                                .map(|p| Sample { t: p.t, v: -p.v })
                                .collect(),
                        })
                        .collect();
                    Ok(Val::Vector(merge_same_labels(out)?))
                }
                _ => Err(Error::Execution(
                    "unary expression only allowed on expressions of type scalar or instant vector"
                        .into(),
                )),
            },
            Expr::Vector(vs) => Ok(Val::Vector(self.vector_selector(vs, false)?)),
            Expr::Matrix(_) | Expr::Subquery(_) => {
                let arg = self.range_arg(e)?;
                Ok(Val::Matrix(self.windows_at_start(arg)?))
            }
            Expr::Call(c) => functions::eval_call(self, c),
            Expr::Aggregate(a) => aggr::eval_aggregate(self, a),
            Expr::Binary(b) => binop::eval_binary(self, b),
        }
    }

    /// Evaluates an expression that must be a scalar (function and aggregation parameters).
    pub fn eval_scalar(&self, e: &Expr) -> Result<Vec<f64>, Error> {
        match self.eval(e)? {
            Val::Scalar(v) => Ok(v),
            _ => Err(Error::Execution("expected scalar argument".into())),
        }
    }

    /// Evaluates an expression that must be an instant vector.
    pub fn eval_vector(&self, e: &Expr) -> Result<Vec<Series>, Error> {
        match self.eval(e)? {
            Val::Vector(v) => Ok(v),
            _ => Err(Error::Execution("expected instant vector argument".into())),
        }
    }

    /// Evaluates a string literal argument.
    pub fn eval_string(&self, e: &Expr) -> Result<String, Error> {
        match self.eval(e)? {
            Val::Str(s) => Ok(s),
            _ => Err(Error::Execution("expected string argument".into())),
        }
    }

    /// Reads the series of a selector whose samples lie in `[mint, maxt]`, maps each one's
    /// samples with `map` and hands its labels and the result to `consume`, in the selector's
    /// order (ascending labels). Series without samples are skipped.
    ///
    /// Only one series' samples are held per reader at a time, and that is what is accounted
    /// for; consumers account for what they keep (the points of a vector selector, a range
    /// function's outputs and window), as Prometheus counts points and not the raw samples read
    /// along the way. A consumer that does not keep the mapped value touches it while it is
    /// still in cache.
    ///
    /// When the store can split the select, it has at least [`PARALLEL_MIN_SERIES`] series and
    /// an estimated `EngineOptions::parallel_min_samples` samples or more,
    /// reading and mapping run on the query's worker threads (see `parallel`) while `consume`
    /// stays on this thread and sees the series in the same order with the same values, so
    /// answers and errors are those of the serial loop.
    fn fetch_map<T: Send>(
        &self,
        vs: &VectorSelector,
        mint: i64,
        maxt: i64,
        range: i64,
        map: impl Fn(Vec<Sample>) -> Result<T, Error> + Sync,
        mut consume: impl FnMut(Labels, T) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let matchers = selector_matchers(vs)?;
        let querier = self.ctx.queryable.querier(mint, maxt)?;
        let hints = SelectHints {
            start: mint,
            end: maxt,
            step: if self.num_steps() > 1 { self.step } else { 0 },
            range,
            func: None,
        };
        let ctx = self.ctx;
        let Some(split) = querier.select_split(&hints, &matchers) else {
            for s in querier.select(&hints, &matchers) {
                ctx.check_timeout()?;
                let s = s?;
                ctx.hold_samples(s.samples.len())?;
                ctx.add_total_samples(s.samples.len());
                let t = map(s.samples)?;
                consume(s.labels, t)?;
            }
            return Ok(());
        };
        let mut labels = split.labels;
        let n_series = labels.len();
        let reader = &split.reader;
        // A worker's share: read, check what needs no running totals, map. `None` for a series
        // without samples here.
        let work = |i: usize| -> Result<Option<(usize, T)>, Error> {
            ctx.check_timeout()?;
            let samples = reader.samples(i)?;
            if samples.is_empty() {
                return Ok(None);
            }
            let n = samples.len();
            ctx.check_series_samples(n)?;
            Ok(Some((n, map(samples)?)))
        };
        let mut take = |i: usize, got: Option<(usize, T)>| -> Result<(), Error> {
            let Some((n, t)) = got else { return Ok(()) };
            ctx.hold_samples(n)?;
            ctx.add_total_samples(n);
            let l = labels
                .get_mut(i)
                .map(std::mem::take)
                .ok_or_else(|| Error::Execution(format!("series {i} is not in the selection")))?;
            consume(l, t)
        };
        // Series × samples per series at a nominal interval (at least one chunk's worth read).
        let per_series = usize::try_from(maxt.saturating_sub(mint) / NOMINAL_INTERVAL_MS)
            .unwrap_or(0)
            .max(1);
        let estimate = n_series.saturating_mul(per_series);
        if ctx.workers > 1
            && n_series >= PARALLEL_MIN_SERIES
            && estimate >= ctx.parallel_min_samples
        {
            crate::parallel::ordered_map(n_series, ctx.workers, work, take)
        } else {
            for i in 0..n_series {
                take(i, work(i)?)?;
            }
            Ok(())
        }
    }

    /// The reference times (sample lookup times) of the first and last step.
    fn ref_bounds(&self, at: Option<i64>, offset: i64) -> (i64, i64) {
        match at {
            Some(a) => (a.saturating_sub(offset), a.saturating_sub(offset)),
            None => (
                self.start.saturating_sub(offset),
                self.end.saturating_sub(offset),
            ),
        }
    }

    /// An instant vector selector over all steps. With `sample_time`, each value is the
    /// timestamp of the sample found, in seconds (for `timestamp()`).
    pub fn vector_selector(
        &self,
        vs: &VectorSelector,
        sample_time: bool,
    ) -> Result<Vec<Series>, Error> {
        let mut out = Vec::new();
        self.for_each_selected(vs, sample_time, |labels, points| {
            out.push(Series { labels, points });
            Ok(())
        })?;
        Ok(out)
    }

    /// [`Evaluator::vector_selector`] series by series: each series with points is handed to
    /// `f` as soon as it is computed, in the selector's order.
    pub fn for_each_selected(
        &self,
        vs: &VectorSelector,
        sample_time: bool,
        mut f: impl FnMut(Labels, Vec<Sample>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let at = self.resolve_at(&vs.at);
        let offset = vs.offset_ms;
        let (lo, hi) = self.ref_bounds(at, offset);
        let lookback = self.ctx.lookback_ms;
        let mut held = 0usize;
        // Each series is walked as it is decoded, while its samples are still in cache.
        let walk = |samples: Vec<Sample>| -> Result<Vec<Sample>, Error> {
            // Sized once instead of regrowing: a sample fills at most the steps of one
            // lookback window, so this never reserves much more than the points made.
            let per_sample = usize::try_from(lookback / self.step.max(1))
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let cap = samples
                .len()
                .saturating_mul(per_sample)
                .min(self.num_steps());
            let mut points = Vec::with_capacity(cap);
            let mut j = 0usize;
            for ts in self.steps() {
                let r = at.unwrap_or(ts).saturating_sub(offset);
                while j < samples.len() && samples[j].t <= r {
                    j += 1;
                }
                if j == 0 {
                    continue;
                }
                let p = samples[j - 1];
                if p.t < r.saturating_sub(lookback) || is_stale_nan(p.v) {
                    continue;
                }
                let v = if sample_time {
                    p.t as f64 / 1000.0
                } else {
                    p.v
                };
                points.push(Sample { t: ts, v });
            }
            Ok(points)
        };
        self.fetch_map(
            vs,
            lo.saturating_sub(lookback),
            hi,
            0,
            walk,
            |labels, points| {
                if !points.is_empty() {
                    held += points.len();
                    self.ctx.hold_samples(held)?;
                    f(labels, points)?;
                }
                Ok(())
            },
        )
    }

    /// The input of a range function: a matrix selector or a subquery (in parentheses or not).
    pub fn range_arg(&self, e: &Expr) -> Result<RangeArg, Error> {
        let mut series = Vec::new();
        let window = self.for_each_range_series(e, |_, s| {
            series.push(s);
            Ok(())
        })?;
        Ok(RangeArg { series, window })
    }

    /// Hands each series of a range argument (a matrix selector or a subquery, in parentheses or
    /// not) to `f` with its windows, in the order the argument yields them. A matrix selector
    /// streams from storage: one series' samples are decoded, handed over and dropped before
    /// the next, which keeps a range function's input in cache instead of materializing all of
    /// it first. Stale markers are dropped.
    pub fn for_each_range_series(
        &self,
        e: &Expr,
        mut f: impl FnMut(&RangeWindow, Series) -> Result<(), Error>,
    ) -> Result<RangeWindow, Error> {
        self.for_each_range_mapped(
            e,
            |_, points| Ok(points),
            |w, labels, points| f(w, Series { labels, points }),
        )
    }

    /// [`Evaluator::for_each_range_series`] with a per-series computation: `map` turns each
    /// series' samples (without stale markers) into a value, on the query's worker threads
    /// when the argument is a big matrix selector, and `consume` gets each series' labels and
    /// value on this thread in the argument's order.
    pub fn for_each_range_mapped<T: Send>(
        &self,
        e: &Expr,
        map: impl Fn(&RangeWindow, Vec<Sample>) -> Result<T, Error> + Sync,
        mut consume: impl FnMut(&RangeWindow, Labels, T) -> Result<(), Error>,
    ) -> Result<RangeWindow, Error> {
        match unwrap_parens(e) {
            Expr::Matrix(ms) => {
                let vs = &ms.selector;
                let w = RangeWindow {
                    range: ms.range_ms,
                    offset: vs.offset_ms,
                    at: self.resolve_at(&vs.at),
                };
                let (lo, hi) = self.ref_bounds(w.at, w.offset);
                self.fetch_map(
                    vs,
                    lo.saturating_sub(w.range),
                    hi,
                    w.range,
                    |mut samples| {
                        // Stale markers are rare: look before rewriting every sample.
                        if samples.iter().any(|p| is_stale_nan(p.v)) {
                            samples.retain(|p| !is_stale_nan(p.v));
                        }
                        map(&w, samples)
                    },
                    |labels, t| consume(&w, labels, t),
                )?;
                Ok(w)
            }
            Expr::Subquery(sq) => {
                let w = RangeWindow {
                    range: sq.range_ms,
                    offset: sq.offset_ms,
                    at: self.resolve_at(&sq.at),
                };
                let step = if sq.step_ms > 0 {
                    sq.step_ms
                } else {
                    self.ctx.subquery_step_ms
                };
                let (lo, hi) = self.ref_bounds(w.at, w.offset);
                let first = lo.saturating_sub(w.range);
                // The first step at or after `first` that is a multiple of `step` in absolute time.
                let start = (first.div_euclid(step) * step)
                    .saturating_add(if first.rem_euclid(step) == 0 { 0 } else { step });
                let inner = Evaluator {
                    ctx: self.ctx,
                    start,
                    end: hi,
                    step,
                };
                // Even a literal holds one value per step: bound the grid before evaluating.
                self.ctx.hold_samples(inner.num_steps())?;
                let series = match inner.eval(&sq.expr)? {
                    Val::Vector(v) => v,
                    Val::Scalar(v) => vec![Series {
                        labels: Labels::empty(),
                        points: inner.steps().zip(v).map(|(t, v)| Sample { t, v }).collect(),
                    }],
                    _ => {
                        return Err(Error::Execution(
                            "subquery is only allowed on instant vector".into(),
                        ));
                    }
                };
                for s in series {
                    let t = map(&w, s.points)?;
                    consume(&w, s.labels, t)?;
                }
                Ok(w)
            }
            other => Err(Error::Execution(format!(
                "expected a range vector, got {}",
                other.value_type().documented_name()
            ))),
        }
    }

    /// The range vector as an instant query shows it: each series' samples in the window of the
    /// (single) evaluation step, labels untouched.
    fn windows_at_start(&self, arg: RangeArg) -> Result<Vec<Series>, Error> {
        let te = arg.window.window_end(self.start);
        let ts0 = te.saturating_sub(arg.window.range);
        let mut held = 0usize;
        let mut out = Vec::new();
        for s in arg.series {
            let points: Vec<Sample> = s
                .points
                .into_iter()
                .filter(|p| p.t >= ts0 && p.t <= te)
                .collect();
            if points.is_empty() {
                continue;
            }
            held += points.len();
            self.ctx.hold_samples(held)?;
            out.push(Series {
                labels: s.labels,
                points,
            });
        }
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }
}
