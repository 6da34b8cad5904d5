//! Aggregation operators (`sum`, `avg`, `count`, `min`, `max`, `group`, `stddev`, `stdvar`,
//! `topk`, `bottomk`, `quantile`, `count_values`) with `by`/`without`, computed step by step
//! with Prometheus 2.42's arithmetic (incremental mean, Welford variance, NaN handling).

use crate::Error;
use crate::eval::Evaluator;
use crate::functions::quantile;
use crate::series::{MeanAcc, OutBuilder, StepCursor, Val, go_format_float, kahan_inc};
use model::{Labels, is_valid_label_name};
use promql_syntax::AggregateExpr;
use std::collections::HashMap;

#[derive(Clone, Default)]
struct Acc {
    value: f64,
    kahan_c: f64,
    avg: MeanAcc,
    mean: f64,
    count: f64,
    selected: Vec<(usize, f64)>,
    values: Vec<f64>,
}

/// The labels of the group series `l` falls in.
pub(crate) fn group_labels(a: &AggregateExpr, l: &Labels) -> Labels {
    if a.without {
        let mut names: Vec<&str> = a.grouping.iter().map(String::as_str).collect();
        names.push(model::METRIC_NAME);
        l.drop_names(&names)
    } else {
        l.keep(&a.grouping)
    }
}

/// Whether `a` should be dropped before `b` when keeping the k largest (NaN counts as smallest).
fn worse_for_topk(a: f64, b: f64) -> bool {
    a.is_nan() || a < b
}

/// Whether `a` should be dropped before `b` when keeping the k smallest (NaN counts as largest).
fn worse_for_bottomk(a: f64, b: f64) -> bool {
    a.is_nan() || a > b
}

pub(crate) fn eval_aggregate(ev: &Evaluator, a: &AggregateExpr) -> Result<Val, Error> {
    let op = a.op.name().to_string();
    if let Some(out) = crate::aggr_by_series::aggregate_streamed(ev, a, &op)? {
        return Ok(Val::Vector(out));
    }
    let input = ev.eval_vector(&a.expr)?;
    let mut params: Option<Vec<f64>> = None;
    let mut value_label = String::new();
    match op.as_str() {
        "topk" | "bottomk" | "quantile" => {
            let p = a
                .param
                .as_ref()
                .ok_or_else(|| Error::BadData(format!("parse error: missing parameter of {op}")))?;
            params = Some(ev.eval_scalar(p)?);
        }
        "count_values" => {
            let p = a.param.as_ref().ok_or_else(|| {
                Error::BadData("parse error: missing parameter of count_values".into())
            })?;
            value_label = ev.eval_string(p)?;
            if !is_valid_label_name(&value_label) {
                return Err(Error::Execution(format!(
                    "invalid label name {value_label:?}"
                )));
            }
        }
        _ => {}
    }

    // Group of each input series, interned once (count_values groups per value instead).
    let mut ids: HashMap<Labels, usize> = HashMap::new();
    let mut glabels: Vec<Labels> = Vec::new();
    let mut group_of: Vec<usize> = Vec::with_capacity(input.len());
    for s in &input {
        let g = group_labels(a, &s.labels);
        let n = ids.len();
        let id = *ids.entry(g.clone()).or_insert_with(|| {
            glabels.push(g);
            n
        });
        group_of.push(id);
    }

    if let Some(out) =
        crate::aggr_by_series::aggregate_by_series(ev, &op, &input, &group_of, &glabels)?
    {
        return Ok(Val::Vector(out));
    }

    let mut accs: Vec<Acc> = vec![Acc::default(); glabels.len()];
    let mut seen: Vec<bool> = vec![false; glabels.len()];
    let mut order: Vec<usize> = Vec::new();
    let mut cur = StepCursor::new(&input);
    let mut out_group: OutBuilder<usize> = OutBuilder::new();
    let mut cv_out: OutBuilder<usize> = OutBuilder::new();
    let is_select = op == "topk" || op == "bottomk";

    for (step, ts) in ev.steps().enumerate() {
        ev.ctx.check_timeout()?;
        cur.advance(ts);
        if cur.current.is_empty() {
            continue;
        }
        if op == "count_values" {
            count_values_step(a, &input, &cur.current, &value_label, ts, &mut cv_out)?;
            continue;
        }
        let param = params.as_ref().map_or(0.0, |p| p[step]);
        let k = if is_select {
            let k = if param.is_nan() {
                0
            } else {
                param.clamp(-1.0, 1e9) as i64
            };
            if k < 1 {
                continue;
            }
            (k as usize).min(cur.current.len())
        } else {
            0
        };
        for &g in &order {
            seen[g] = false;
        }
        order.clear();
        for &(i, v) in &cur.current {
            let g = group_of[i];
            let acc = &mut accs[g];
            if !seen[g] {
                seen[g] = true;
                order.push(g);
                *acc = Acc {
                    value: v,
                    kahan_c: 0.0,
                    avg: MeanAcc::new(v),
                    mean: v,
                    count: 1.0,
                    selected: Vec::new(),
                    values: Vec::new(),
                };
                match op.as_str() {
                    "stddev" | "stdvar" => acc.value = 0.0,
                    "topk" | "bottomk" => acc.selected.push((i, v)),
                    "quantile" => acc.values.push(v),
                    _ => {}
                }
                continue;
            }
            match op.as_str() {
                "sum" => (acc.value, acc.kahan_c) = kahan_inc(v, acc.value, acc.kahan_c),
                "avg" => acc.avg.add(v),
                "count" => acc.count += 1.0,
                "group" => {}
                "max" => {
                    if acc.value < v || acc.value.is_nan() {
                        acc.value = v;
                    }
                }
                "min" => {
                    if acc.value > v || acc.value.is_nan() {
                        acc.value = v;
                    }
                }
                "stddev" | "stdvar" => {
                    acc.count += 1.0;
                    let delta = v - acc.mean;
                    acc.mean += delta / acc.count;
                    acc.value += delta * (v - acc.mean);
                }
                "topk" | "bottomk" => {
                    let worse = if op == "topk" {
                        worse_for_topk
                    } else {
                        worse_for_bottomk
                    };
                    if acc.selected.len() < k {
                        acc.selected.push((i, v));
                    } else {
                        // The element the heap would evict: the worst kept one.
                        let mut w = 0;
                        for (x, e) in acc.selected.iter().enumerate() {
                            if worse(e.1, acc.selected[w].1) {
                                w = x;
                            }
                        }
                        let top = acc.selected[w].1;
                        let replace = if op == "topk" {
                            top < v || (top.is_nan() && !v.is_nan())
                        } else {
                            top > v || (top.is_nan() && !v.is_nan())
                        };
                        if replace {
                            acc.selected[w] = (i, v);
                        }
                    }
                }
                "quantile" => acc.values.push(v),
                other => {
                    return Err(Error::BadData(format!(
                        "parse error: unknown aggregation {other:?}"
                    )));
                }
            }
        }
        for &g in &order {
            let acc = &mut accs[g];
            let v = match op.as_str() {
                "avg" => acc.avg.value(),
                "sum" => {
                    if acc.value.is_infinite() {
                        acc.value
                    } else {
                        acc.value + acc.kahan_c
                    }
                }
                "count" => acc.count,
                "group" => 1.0,
                "stddev" => (acc.value / acc.count).sqrt(),
                "stdvar" => acc.value / acc.count,
                "quantile" => quantile(param, &mut acc.values),
                "topk" | "bottomk" => {
                    let worse = if op == "topk" {
                        worse_for_topk
                    } else {
                        worse_for_bottomk
                    };
                    // Best first, NaN last, like popping the heap in reverse.
                    acc.selected.sort_by(|a, b| {
                        if worse(b.1, a.1) {
                            std::cmp::Ordering::Less
                        } else if worse(a.1, b.1) {
                            std::cmp::Ordering::Greater
                        } else {
                            std::cmp::Ordering::Equal
                        }
                    });
                    for &(i, v) in &acc.selected {
                        out_group.push(i, || input[i].labels.clone(), ts, v)?;
                    }
                    continue;
                }
                _ => acc.value,
            };
            out_group.push(g, || glabels[g].clone(), ts, v)?;
        }
    }
    let out = if op == "count_values" {
        cv_out.finish()
    } else {
        out_group.finish()
    };
    let held: usize = out.iter().map(|s| s.points.len()).sum();
    ev.ctx.hold_samples(held)?;
    Ok(Val::Vector(out))
}

fn count_values_step(
    a: &AggregateExpr,
    input: &[crate::series::Series],
    current: &[(usize, f64)],
    value_label: &str,
    ts: i64,
    out: &mut OutBuilder<usize>,
) -> Result<(), Error> {
    let mut counts: Vec<(Labels, f64)> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    for &(i, v) in current {
        let mut b = input[i].labels.builder();
        b.set(value_label.to_string(), go_format_float(v));
        let with_value = b.build();
        let g = if a.without {
            group_labels(a, &with_value)
        } else {
            let mut names = a.grouping.clone();
            names.push(value_label.to_string());
            with_value.keep(&names)
        };
        match index.get(&g) {
            Some(&x) => counts[x].1 += 1.0,
            None => {
                index.insert(g.clone(), counts.len());
                counts.push((g, 1.0));
            }
        }
    }
    for (l, c) in counts {
        out.push_labels(l, ts, c)?;
    }
    Ok(())
}
