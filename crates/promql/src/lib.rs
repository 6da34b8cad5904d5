//! tetrad's PromQL engine.
//!
//! Parses with our `promql-syntax` crate and evaluates with the semantics of Prometheus 2.42
//! over any [`tsdb::Queryable`]; the engine never sees a store's internals. The public surface:
//!
//! - [`Engine`] with [`Engine::instant`] and [`Engine::range`], configured by [`EngineOptions`]
//!   (lookback delta, max samples, timeout);
//! - [`Value`], the result types of the Prometheus HTTP API (scalar, string, vector, matrix);
//! - [`Error`], whose [`Error::error_type`] is Prometheus' closed `errorType` set;
//! - [`format_query`] for `/api/v1/format_query`;
//! - [`params`]: the API's time and duration parameters with Prometheus' parsing rules;
//! - [`test_script`]: a runner for Prometheus' `promqltest` script format, used by our own
//!   test cases in `testdata/`.
//!
//! Evaluation works like Prometheus' engine: every node is computed over all steps of the query
//! at once, selectors fetch each series once, range functions slide a window per series, and
//! operators walk their inputs step by step (see `eval`). Selectors and range functions consume
//! each series as the store decodes it, and the simple aggregations (`sum`, `avg`, `count`, ...)
//! over a selector or a range function fold each input series into a (group, step) table as
//! soon as it is computed (`aggr_by_series`), so a dashboard's `sum(rate(x[5m]))` never holds
//! its argument's samples all at once and reads each one while it is still in cache.
//!
//! A big selection (a store that supports [`tsdb::Querier::select_split`], at least 64 series
//! and an estimated [`EngineOptions::parallel_min_samples`]) is read on
//! [`EngineOptions::parallelism`] worker threads: each worker decodes a series and applies the
//! range function or the selector's step walk to it, and the calling thread consumes the
//! results in the selection's order (`parallel`). Aggregations, duplicate checks, limits and
//! errors therefore see exactly what a serial evaluation sees, and answers are bit-identical
//! whatever the number of workers.
//!
//! Semantics are pinned against the real Prometheus 2.42 (Debian's `prometheus` package):
//! `testdata/*.test` scripts hold expected values taken from `promtool test rules`
//! (`scripts/check_against_promtool.py` checks or fills them), and `testdata/recorded_api.json`
//! holds `/api/v1/query` and `/api/v1/query_range` answers of a real server over the same data
//! (`scripts/record_api_cases.py`), replayed by `tests/recorded_api.rs`.
//!
//! Known differences from 2.42: results may differ in the last bit where Go's math library or
//! its fused multiply-adds round differently, or where Prometheus' result depends on the order
//! its index returns series (`topk` ties, `avg`/`stddev` rounding); `predict_linear` over an
//! `@`-pinned selector keeps its window fixed in range queries (2.42 moves it with each step);
//! some syntax errors carry the parser crate's wording ("invalid promql query") and no
//! `line:col` position.

#![warn(missing_docs)]

mod aggr;
mod aggr_by_series;
mod binop;
mod error;
mod eval;
mod functions;
mod go_regex;
mod gotime;
mod hist;
mod parallel;
pub mod params;
mod parse;
mod range_fns;
mod series;
pub mod test_script;
mod value;

pub use error::Error;
pub use parse::format_query;
pub use value::{InstantSample, QueryResult, QueryStats, RangeSeries, Value};

use eval::{Ctx, Evaluator};
use series::Val;
use std::time::{Duration, Instant};

/// Engine settings; the defaults are Prometheus' defaults.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (`--query.lookback-delta`), ms.
    pub lookback_delta_ms: i64,
    /// Most samples a query may hold in memory at once (`--query.max-samples`).
    pub max_samples: usize,
    /// Wall-clock limit of one query (`--query.timeout`).
    pub timeout: Duration,
    /// Step of subqueries without one (`foo[1h:]`): Prometheus uses the global evaluation
    /// interval, 1m by default.
    pub default_subquery_step_ms: i64,
    /// Threads that read and compute the series of one big selection at once (decoding plus
    /// the range function or the selector's step walk); 1 evaluates on the calling thread
    /// only. Defaults to the available cores; capped at [`MAX_PARALLELISM`]. Answers do not
    /// depend on it: results are consumed in series order.
    pub parallelism: usize,
    /// Selections with fewer samples than this (estimated before reading, as series × range
    /// at a 15 s interval) are read on the calling thread: for them, starting workers costs
    /// about what it saves.
    pub parallel_min_samples: usize,
}

/// The most worker threads one selection uses, whatever [`EngineOptions::parallelism`] says.
pub const MAX_PARALLELISM: usize = 64;

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            default_subquery_step_ms: 60_000,
            parallelism: std::thread::available_parallelism().map_or(1, |n| n.get()),
            parallel_min_samples: 200_000,
        }
    }
}

/// The PromQL engine. Cheap to share; each query runs on the calling thread, which hands the
/// per-series work of big selections to [`EngineOptions::parallelism`] scoped worker threads.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with the given options.
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    /// The options in force.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }
}

impl Engine {
    /// Evaluates `query` at `t_ms`: a vector, scalar or string, or a matrix for a range
    /// selector or subquery.
    pub fn instant(
        &self,
        q: &dyn tsdb::Queryable,
        query: &str,
        t_ms: i64,
    ) -> Result<QueryResult, Error> {
        let started = Instant::now();
        let expr = parse::parse_query(query)?;
        let ctx = Ctx::new(q, &self.opts, t_ms, t_ms);
        let ev = Evaluator {
            ctx: &ctx,
            start: t_ms,
            end: t_ms,
            step: 1,
        };
        let value = match ev.eval(&expr)? {
            Val::Scalar(v) => Value::Scalar {
                t: t_ms,
                v: v.first().copied().unwrap_or(f64::NAN),
            },
            Val::Str(s) => Value::String { t: t_ms, v: s },
            Val::Vector(ss) => Value::Vector(
                ss.into_iter()
                    .filter_map(|s| {
                        s.points.first().map(|p| InstantSample {
                            labels: s.labels,
                            t: t_ms,
                            v: p.v,
                        })
                    })
                    .collect(),
            ),
            Val::Matrix(ss) => Value::Matrix(
                ss.into_iter()
                    .map(|s| RangeSeries {
                        labels: s.labels,
                        samples: s.points,
                    })
                    .collect(),
            ),
        };
        Ok(finish(value, &ctx, started))
    }

    /// Evaluates `query` at every step from `start_ms` to `end_ms`: a matrix sorted by labels.
    pub fn range(
        &self,
        q: &dyn tsdb::Queryable,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, Error> {
        let started = Instant::now();
        if step_ms <= 0 {
            return Err(Error::BadData(
                "zero or negative query resolution step widths are not accepted. Try a positive integer"
                    .into(),
            ));
        }
        if end_ms < start_ms {
            return Err(Error::BadData(
                "end timestamp must not be before start time".into(),
            ));
        }
        let expr = parse::parse_query(query)?;
        let vt = expr.value_type();
        use promql_syntax::ValueType;
        if matches!(vt, ValueType::Matrix | ValueType::String) {
            let name = if vt == ValueType::Matrix {
                "range vector"
            } else {
                "string"
            };
            return Err(Error::BadData(format!(
                "invalid expression type \"{name}\" for range query, must be Scalar or instant Vector"
            )));
        }
        let ctx = Ctx::new(q, &self.opts, start_ms, end_ms);
        let ev = Evaluator {
            ctx: &ctx,
            start: start_ms,
            end: end_ms,
            step: step_ms,
        };
        ctx.hold_samples(ev.num_steps())?;
        let mut series = match ev.eval(&expr)? {
            Val::Scalar(v) => vec![RangeSeries {
                labels: model::Labels::empty(),
                samples: ev
                    .steps()
                    .zip(v)
                    .map(|(t, v)| model::Sample { t, v })
                    .collect(),
            }],
            Val::Vector(ss) | Val::Matrix(ss) => ss
                .into_iter()
                .filter(|s| !s.points.is_empty())
                .map(|s| RangeSeries {
                    labels: s.labels,
                    samples: s.points,
                })
                .collect(),
            Val::Str(_) => {
                return Err(Error::BadData(
                    "invalid expression type \"string\" for range query, must be Scalar or instant Vector".into(),
                ));
            }
        };
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(finish(Value::Matrix(series), &ctx, started))
    }
}

fn finish(value: Value, ctx: &Ctx, started: Instant) -> QueryResult {
    QueryResult {
        value,
        warnings: Vec::new(),
        stats: QueryStats {
            total_samples: ctx.total_samples.load(std::sync::atomic::Ordering::Relaxed),
            peak_samples: ctx.peak_samples.load(std::sync::atomic::Ordering::Relaxed),
            eval_seconds: started.elapsed().as_secs_f64(),
        },
    }
}
