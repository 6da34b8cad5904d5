//! Function calls: dispatch, and the functions over instant vectors and scalars (math, clamps,
//! dates, labels, sorting, `absent`, `scalar`/`vector`, `histogram_quantile`).

use crate::eval::{Evaluator, selector_matchers, unwrap_parens};
use crate::range_fns::{RANGE_FUNCTIONS, eval_range_function, for_each_range_output};
use crate::series::{Series, Val, go_max, go_min, merge_same_labels};
use crate::{Error, hist};
use model::{Labels, MatchOp, Sample, is_valid_label_name};
use promql_syntax::{Call, Expr};
use regex::Regex;

/// φ-quantile of `values` with linear interpolation between closest ranks (NaN sorts first).
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    // Fused like Prometheus' Go build computes it (observed: 24.55, not 24.549999999999997).
    values[lower as usize].mul_add(1.0 - weight, values[upper as usize] * weight)
}

/// The labels `absent` and `absent_over_time` give their output: the selector's equality
/// matchers, except names matched more than once or also by another kind of matcher.
fn absent_labels(e: &Expr) -> Result<Labels, Error> {
    let vs = match e {
        Expr::Vector(vs) => vs,
        Expr::Matrix(ms) => &ms.selector,
        _ => return Ok(Labels::empty()),
    };
    let mut b = Labels::empty().builder();
    let mut empty: Vec<String> = Vec::new();
    for m in selector_matchers(vs)? {
        if m.name == model::METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && b.get(&m.name).is_empty() {
            b.set(m.name.clone(), m.value.clone());
        } else {
            empty.push(m.name.clone());
        }
    }
    for n in empty {
        b.del(&n);
    }
    Ok(b.build())
}

/// The matrix argument and evaluated scalar arguments of range function call `c`.
fn range_call_args<'c>(ev: &Evaluator, c: &'c Call) -> Result<(&'c Expr, Vec<Vec<f64>>), Error> {
    let name = c.func.name;
    let (mi, scalar_args): (usize, &[usize]) = match name {
        "quantile_over_time" => (1, &[0]),
        "predict_linear" => (0, &[1]),
        "holt_winters" => (0, &[1, 2]),
        _ => (0, &[]),
    };
    let missing = || Error::BadData(format!("parse error: missing argument to {name}"));
    let marg = c.args.get(mi).ok_or_else(missing)?;
    let mut scalars = Vec::new();
    for &i in scalar_args {
        scalars.push(ev.eval_scalar(c.args.get(i).ok_or_else(missing)?)?);
    }
    Ok((marg, scalars))
}

/// Evaluates `e` series by series when it is a range function call (other than
/// `absent_over_time`), handing each output series to `f` as it is computed; `Ok(false)`, with
/// nothing evaluated, for any other expression.
pub(crate) fn for_each_call_output(
    ev: &Evaluator,
    e: &Expr,
    f: impl FnMut(crate::range_fns::OutLabels<'_>, Vec<Sample>) -> Result<(), Error>,
) -> Result<bool, Error> {
    let Expr::Call(c) = e else {
        return Ok(false);
    };
    let name = c.func.name;
    if !RANGE_FUNCTIONS.contains(&name) || name == "absent_over_time" {
        return Ok(false);
    }
    let (marg, scalars) = range_call_args(ev, c)?;
    for_each_range_output(ev, name, marg, &scalars, f)?;
    Ok(true)
}

pub(crate) fn eval_call(ev: &Evaluator, c: &Call) -> Result<Val, Error> {
    let name = c.func.name;
    let args: Vec<&Expr> = c.args.iter().collect();
    if RANGE_FUNCTIONS.contains(&name) {
        let (marg, scalars) = range_call_args(ev, c)?;
        let absent = if name == "absent_over_time" {
            absent_labels(marg)?
        } else {
            Labels::empty()
        };
        return eval_range_function(ev, name, marg, &scalars, absent).map(Val::Vector);
    }
    let steps = ev.num_steps();
    match name {
        "time" => Ok(Val::Scalar(ev.steps().map(|t| t as f64 / 1000.0).collect())),
        "pi" => Ok(Val::Scalar(vec![std::f64::consts::PI; steps])),
        "vector" => {
            let s = ev.eval_scalar(arg(&args, 0, name)?)?;
            let points = ev.steps().zip(s).map(|(t, v)| Sample { t, v }).collect();
            Ok(Val::Vector(vec![Series {
                labels: Labels::empty(),
                points,
            }]))
        }
        "scalar" => {
            let v = ev.eval_vector(arg(&args, 0, name)?)?;
            let mut out = vec![f64::NAN; steps];
            let mut count = vec![0u32; steps];
            for s in &v {
                for p in &s.points {
                    let i = ev.step_index(p.t);
                    count[i] += 1;
                    out[i] = p.v;
                }
            }
            for (o, c) in out.iter_mut().zip(count) {
                if c != 1 {
                    *o = f64::NAN;
                }
            }
            Ok(Val::Scalar(out))
        }
        "timestamp" => {
            let a = unwrap_parens(arg(&args, 0, name)?);
            let v = match a {
                Expr::Vector(vs) => ev.vector_selector(vs, true)?,
                other => {
                    let mut v = ev.eval_vector(other)?;
                    for s in &mut v {
                        for p in &mut s.points {
                            p.v = p.t as f64 / 1000.0;
                        }
                    }
                    v
                }
            };
            map_values(v, true, |_, v| Some(v)).map(Val::Vector)
        }
        "absent" => {
            let a = arg(&args, 0, name)?;
            let v = ev.eval_vector(a)?;
            let mut present = vec![false; steps];
            for s in &v {
                for p in &s.points {
                    present[ev.step_index(p.t)] = true;
                }
            }
            let absent = crate::range_fns::absent_series(ev, &present, absent_labels(a)?);
            Ok(Val::Vector(absent.into_iter().collect()))
        }
        "sort" | "sort_desc" => {
            let mut v = ev.eval_vector(arg(&args, 0, name)?)?;
            if steps == 1 {
                let desc = name == "sort_desc";
                // NaN sorts last either way.
                v.sort_by(|a, b| {
                    let (x, y) = (a.points[0].v, b.points[0].v);
                    match (x.is_nan(), y.is_nan()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => std::cmp::Ordering::Greater,
                        (false, true) => std::cmp::Ordering::Less,
                        _ if desc => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
                        _ => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                    }
                });
            }
            Ok(Val::Vector(v))
        }
        "label_replace" => label_replace(ev, &args).map(Val::Vector),
        "label_join" => label_join(ev, &args).map(Val::Vector),
        "histogram_quantile" => {
            let q = ev.eval_scalar(arg(&args, 0, name)?)?;
            let v = ev.eval_vector(arg(&args, 1, name)?)?;
            hist::histogram_quantile(ev, &q, &v).map(Val::Vector)
        }
        // Native-histogram functions: float series have no native histograms.
        "histogram_count" | "histogram_sum" | "histogram_fraction" => Ok(Val::Vector(Vec::new())),
        "round" => {
            let v = ev.eval_vector(arg(&args, 0, name)?)?;
            let to = match args.get(1) {
                Some(e) => ev.eval_scalar(e)?,
                None => vec![1.0; steps],
            };
            map_values(v, true, |t, x| {
                let inv = 1.0 / to[ev.step_index(t)];
                Some((x * inv + 0.5).floor() / inv)
            })
            .map(Val::Vector)
        }
        "clamp" => {
            let v = ev.eval_vector(arg(&args, 0, name)?)?;
            let lo = ev.eval_scalar(arg(&args, 1, name)?)?;
            let hi = ev.eval_scalar(arg(&args, 2, name)?)?;
            map_values(v, true, |t, x| {
                let i = ev.step_index(t);
                if hi[i] < lo[i] {
                    None
                } else {
                    Some(go_max(lo[i], go_min(hi[i], x)))
                }
            })
            .map(Val::Vector)
        }
        "clamp_max" | "clamp_min" => {
            let v = ev.eval_vector(arg(&args, 0, name)?)?;
            let b = ev.eval_scalar(arg(&args, 1, name)?)?;
            let max = name == "clamp_max";
            map_values(v, true, |t, x| {
                let bound = b[ev.step_index(t)];
                Some(if max {
                    go_min(x, bound)
                } else {
                    go_max(x, bound)
                })
            })
            .map(Val::Vector)
        }
        "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute"
        | "month" | "year" => {
            let v = match args.first() {
                Some(e) => ev.eval_vector(e)?,
                None => vec![Series {
                    labels: Labels::empty(),
                    points: ev
                        .steps()
                        .map(|t| Sample {
                            t,
                            v: t as f64 / 1000.0,
                        })
                        .collect(),
                }],
            };
            map_values(v, true, |_, x| Some(date_part(name, x))).map(Val::Vector)
        }
        _ => {
            let f = math_function(name).ok_or_else(|| {
                Error::BadData(format!("parse error: unknown function with name {name:?}"))
            })?;
            let v = ev.eval_vector(arg(&args, 0, name)?)?;
            map_values(v, true, |_, x| Some(f(x))).map(Val::Vector)
        }
    }
}

fn arg<'a>(args: &[&'a Expr], i: usize, name: &str) -> Result<&'a Expr, Error> {
    args.get(i)
        .copied()
        .ok_or_else(|| Error::BadData(format!("parse error: missing argument {} to {name}", i + 1)))
}

/// Applies `f(step time, value)` to every point (dropping points where it gives `None`), drops
/// the metric name if asked, and merges series that now share labels.
fn map_values(
    v: Vec<Series>,
    drop_name: bool,
    f: impl Fn(i64, f64) -> Option<f64>,
) -> Result<Vec<Series>, Error> {
    let out = v
        .into_iter()
        .map(|s| Series {
            labels: if drop_name {
                s.labels.without_metric_name()
            } else {
                s.labels
            },
            points: s
                .points
                .into_iter()
                .filter_map(|p| f(p.t, p.v).map(|v| Sample { t: p.t, v }))
                .collect(),
        })
        .collect();
    merge_same_labels(out)
}

fn math_function(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |x| x * 180.0 / std::f64::consts::PI,
        "rad" => |x| x * std::f64::consts::PI / 180.0,
        "sgn" => |x| {
            if x < 0.0 {
                -1.0
            } else if x > 0.0 {
                1.0
            } else {
                x
            }
        },
        _ => return None,
    })
}

/// A calendar field (UTC) of a Unix time in seconds, as Prometheus computes it with Go.
fn date_part(name: &str, secs: f64) -> f64 {
    let c = crate::gotime::civil(crate::gotime::go_float_to_int64(secs));
    match name {
        "day_of_month" => c.day as f64,
        "day_of_week" => c.weekday as f64,
        "day_of_year" => c.day_of_year as f64,
        "hour" => c.hour as f64,
        "minute" => c.minute as f64,
        "month" => c.month as f64,
        "year" => c.year as f64,
        _ => crate::gotime::days_in_month(&c) as f64,
    }
}

/// Applies per-series label rewrites; the per-step "same labelset" check follows.
fn relabel(v: Vec<Series>, mut f: impl FnMut(&Labels) -> Labels) -> Result<Vec<Series>, Error> {
    let out = v
        .into_iter()
        .map(|s| Series {
            labels: f(&s.labels),
            points: s.points,
        })
        .collect();
    merge_same_labels(out)
}

fn label_replace(ev: &Evaluator, args: &[&Expr]) -> Result<Vec<Series>, Error> {
    let v = ev.eval_vector(arg(args, 0, "label_replace")?)?;
    let dst = ev.eval_string(arg(args, 1, "label_replace")?)?;
    let repl = ev.eval_string(arg(args, 2, "label_replace")?)?;
    let src = ev.eval_string(arg(args, 3, "label_replace")?)?;
    let re_src = ev.eval_string(arg(args, 4, "label_replace")?)?;
    // Anchored, with Go's semantics (in 2.42 `.` does not match a newline); the error names
    // only the regex, as Prometheus' does.
    let re = Regex::new(&format!(
        "^(?:{})$",
        crate::go_regex::go_compatible(&re_src)
    ))
    .map_err(|_| {
        Error::Execution(format!(
            "invalid regular expression in label_replace(): {re_src}"
        ))
    })?;
    if !is_valid_label_name(&dst) {
        return Err(Error::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    relabel(v, |l| {
        let sv = l.get(&src);
        match re.captures(sv) {
            Some(caps) => {
                let mut res = String::new();
                caps.expand(&repl, &mut res);
                let mut b = l.builder();
                b.set(dst.clone(), res);
                b.build()
            }
            None => l.clone(),
        }
    })
}

fn label_join(ev: &Evaluator, args: &[&Expr]) -> Result<Vec<Series>, Error> {
    let v = ev.eval_vector(arg(args, 0, "label_join")?)?;
    let dst = ev.eval_string(arg(args, 1, "label_join")?)?;
    let sep = ev.eval_string(arg(args, 2, "label_join")?)?;
    let mut srcs = Vec::new();
    for e in args.iter().skip(3) {
        let s = ev.eval_string(e)?;
        if !is_valid_label_name(&s) {
            return Err(Error::Execution(format!(
                "invalid source label name in label_join(): {s}"
            )));
        }
        srcs.push(s);
    }
    if !is_valid_label_name(&dst) {
        return Err(Error::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    relabel(v, |l| {
        let joined: Vec<&str> = srcs.iter().map(|s| l.get(s)).collect();
        let mut b = l.builder();
        b.set(dst.clone(), joined.join(&sep));
        b.build()
    })
}
