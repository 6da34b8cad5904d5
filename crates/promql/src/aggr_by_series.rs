//! The simple aggregations (`sum`, `avg`, `count`, `group`, `min`, `max`, `stddev`, `stdvar`)
//! computed series by series instead of step by step.
//!
//! Walking the steps in lock step touches every input series at every step, even where it has
//! no point. Here each series' points are visited once and folded into a dense table of
//! accumulators indexed by (group, step). Within one (group, step) cell the values still arrive
//! in input-series order, which is the order the step-wise walk (and Prometheus) uses, so every
//! float operation and its result is the same. The output keeps the step-wise walk's series
//! order: by first step with a value, then by the first input series contributing there.
//!
//! When the argument is a selector or a range function call, [`aggregate_streamed`] folds each
//! series the moment the argument produces it and drops it, so the argument is never
//! materialized; a table past [`MAX_CELLS`] falls back to evaluating the argument whole.

use crate::Error;
use crate::aggr::group_labels;
use crate::eval::{Evaluator, unwrap_parens};
use crate::range_fns::OutLabels;
use crate::series::{MeanAcc, Series, kahan_inc};
use model::{Labels, Sample};
use promql_syntax::{AggregateExpr, Expr};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// The largest accumulator table (groups × steps) built; bigger queries take the step-wise walk.
const MAX_CELLS: usize = 1 << 18;

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Sum,
    Avg,
    Count,
    Group,
    Min,
    Max,
    Stddev,
    Stdvar,
}

impl Op {
    fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "sum" => Op::Sum,
            "avg" => Op::Avg,
            "count" => Op::Count,
            "group" => Op::Group,
            "min" => Op::Min,
            "max" => Op::Max,
            "stddev" => Op::Stddev,
            "stdvar" => Op::Stdvar,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Default)]
struct Cell {
    seen: bool,
    /// The input series that opened this cell (orders the output series).
    first: usize,
    value: f64,
    kahan_c: f64,
    avg: MeanAcc,
    mean: f64,
    count: f64,
}

/// Aggregates `input` by the precomputed group of each series (`group_of`, indexes into
/// `glabels`). Returns `None` when this path does not apply (another operator, a table over
/// [`MAX_CELLS`], or a point off the step grid); the caller then walks the steps.
pub(crate) fn aggregate_by_series(
    ev: &Evaluator,
    op_name: &str,
    input: &[Series],
    group_of: &[usize],
    glabels: &[Labels],
) -> Result<Option<Vec<Series>>, Error> {
    let Some(mut folder) = Folder::new(ev, op_name) else {
        return Ok(None);
    };
    for (s, &g) in input.iter().zip(group_of) {
        ev.ctx.check_timeout()?;
        if !folder.add(g, &s.points) {
            return Ok(None);
        }
    }
    folder.finish(glabels).map(Some)
}

/// Aggregates `a` (one of this path's operators) while its argument is evaluated, when the
/// argument is an instant vector selector or a range function call: each input series is folded
/// into the table as soon as it is computed and then dropped, so the argument's series are never
/// all held and never re-read from memory. `None` when the argument is something else or the
/// table cannot take the input (the caller then evaluates the argument and walks the steps).
pub(crate) fn aggregate_streamed(
    ev: &Evaluator,
    a: &AggregateExpr,
    op_name: &str,
) -> Result<Option<Vec<Series>>, Error> {
    let Some(mut folder) = Folder::new(ev, op_name) else {
        return Ok(None);
    };
    let mut groups = GroupIndex::new(a);
    let mut fits = true;
    // Grouping by the input's labels gives the output's groups unless `by` keeps the metric name
    // a range function drops (then the name-less labels are built).
    let by_name = !a.without && a.grouping.iter().any(|n| n == model::METRIC_NAME);
    let mut fold = |labels: OutLabels<'_>, points: Vec<Sample>| {
        if fits {
            let g = if labels.drop_name && by_name {
                groups.group_of(&labels.build())
            } else {
                groups.group_of(labels.input)
            };
            fits = folder.add(g, &points);
        }
        Ok(())
    };
    let streamed = match unwrap_parens(&a.expr) {
        Expr::Vector(vs) => {
            ev.for_each_selected(vs, false, |l, p| {
                fold(
                    OutLabels {
                        input: &l,
                        drop_name: false,
                    },
                    p,
                )
            })?;
            true
        }
        e => crate::functions::for_each_call_output(ev, e, fold)?,
    };
    if !streamed || !fits {
        return Ok(None);
    }
    folder.finish(&groups.labels).map(Some)
}

/// Numbers the groups of an aggregation in order of first appearance, looking a series' group
/// up by the hash of the labels it keeps: a series whose group exists (nearly all of them)
/// costs a hash and a comparison, and no group label set is built for it.
struct GroupIndex<'a> {
    a: &'a AggregateExpr,
    /// Group numbers by the hash of their labels.
    by_hash: HashMap<u64, Vec<usize>>,
    /// Each group's labels, by number.
    labels: Vec<Labels>,
}

impl<'a> GroupIndex<'a> {
    fn new(a: &'a AggregateExpr) -> Self {
        GroupIndex {
            a,
            by_hash: HashMap::new(),
            labels: Vec::new(),
        }
    }

    /// Whether a label named `name` is part of a series' group (as [`group_labels`] decides).
    fn keeps(&self, name: &str) -> bool {
        let listed = self.a.grouping.iter().any(|g| g == name);
        if self.a.without {
            !listed && name != model::METRIC_NAME
        } else {
            listed
        }
    }

    /// The group number of a series with labels `l`.
    fn group_of(&mut self, l: &Labels) -> usize {
        let mut h = std::hash::DefaultHasher::new();
        for x in l.iter().filter(|x| self.keeps(&x.name)) {
            x.name.hash(&mut h);
            x.value.hash(&mut h);
        }
        let hash = h.finish();
        if let Some(found) = self.by_hash.get(&hash) {
            for &g in found {
                let same = l
                    .iter()
                    .filter(|x| self.keeps(&x.name))
                    .eq(self.labels[g].iter());
                if same {
                    return g;
                }
            }
        }
        let g = self.labels.len();
        self.labels.push(group_labels(self.a, l));
        self.by_hash.entry(hash).or_default().push(g);
        g
    }
}

/// Folds series into the (group, step) table one at a time, so they can be dropped as soon as
/// they are folded (see [`crate::aggr`]'s streamed path).
pub(crate) struct Folder<'e, 'c, 'q> {
    ev: &'e Evaluator<'c, 'q>,
    op: Op,
    steps: usize,
    /// Rows of `steps` cells, one per group seen so far.
    table: Vec<Cell>,
    /// Series folded so far (the next one's input index).
    inputs: usize,
}

impl<'e, 'c, 'q> Folder<'e, 'c, 'q> {
    /// A folder for aggregation `op_name`, or `None` for operators this path does not compute.
    pub fn new(ev: &'e Evaluator<'c, 'q>, op_name: &str) -> Option<Self> {
        Some(Folder {
            ev,
            op: Op::from_name(op_name)?,
            steps: ev.num_steps(),
            table: Vec::new(),
            inputs: 0,
        })
    }

    /// Folds the next input series, of group `group`. `false` when this path cannot take it
    /// (the table would pass [`MAX_CELLS`], or a point is off the step grid).
    pub fn add(&mut self, group: usize, points: &[Sample]) -> bool {
        let (op, steps, i) = (self.op, self.steps, self.inputs);
        self.inputs += 1;
        let row = match group.checked_mul(steps) {
            Some(r) if r.saturating_add(steps) <= MAX_CELLS => r,
            _ => return false,
        };
        if self.table.len() < row + steps {
            self.table.resize(row + steps, Cell::default());
        }
        let row = &mut self.table[row..row + steps];
        // Points ascend and usually fill consecutive steps: find each one's step by walking
        // the grid from the previous one instead of dividing.
        let (start, step_ms) = (self.ev.start, self.ev.step);
        let mut k = 0usize;
        let mut kt = start;
        for p in points {
            while kt < p.t && k < steps {
                k += 1;
                kt = kt.saturating_add(step_ms);
            }
            if k >= steps || kt != p.t {
                return false;
            }
            let c = &mut row[k];
            let v = p.v;
            if !c.seen {
                *c = Cell {
                    seen: true,
                    first: i,
                    value: if matches!(op, Op::Stddev | Op::Stdvar) {
                        0.0
                    } else {
                        v
                    },
                    kahan_c: 0.0,
                    avg: MeanAcc::new(v),
                    mean: v,
                    count: 1.0,
                };
                continue;
            }
            match op {
                Op::Sum => (c.value, c.kahan_c) = kahan_inc(v, c.value, c.kahan_c),
                Op::Avg => c.avg.add(v),
                Op::Count => c.count += 1.0,
                Op::Group => {}
                Op::Max => {
                    if c.value < v || c.value.is_nan() {
                        c.value = v;
                    }
                }
                Op::Min => {
                    if c.value > v || c.value.is_nan() {
                        c.value = v;
                    }
                }
                Op::Stddev | Op::Stdvar => {
                    c.count += 1.0;
                    let delta = v - c.mean;
                    c.mean += delta / c.count;
                    c.value += delta * (v - c.mean);
                }
            }
        }
        true
    }

    /// The output series, group `g` labelled `glabels[g]`, in the step-wise walk's order.
    pub fn finish(self, glabels: &[Labels]) -> Result<Vec<Series>, Error> {
        let (op, steps, ev) = (self.op, self.steps, self.ev);
        let table = self.table;
        // Output order of the step-wise walk: first step with a value, then first input series.
        let mut order: Vec<(usize, usize, usize)> = Vec::with_capacity(glabels.len());
        for (g, row) in table.chunks(steps.max(1)).enumerate() {
            if let Some(step) = row.iter().position(|c| c.seen) {
                order.push((step, row[step].first, g));
            }
        }
        order.sort_unstable();
        let mut out = Vec::with_capacity(order.len());
        let mut held = 0usize;
        for (_, _, g) in order {
            let row = &table[g * steps..(g + 1) * steps];
            let points: Vec<Sample> = ev
                .steps()
                .zip(row)
                .filter(|(_, c)| c.seen)
                .map(|(t, c)| Sample {
                    t,
                    v: cell_value(op, c),
                })
                .collect();
            held += points.len();
            let labels = glabels
                .get(g)
                .cloned()
                .ok_or_else(|| Error::Execution(format!("aggregation group {g} has no labels")))?;
            out.push(Series { labels, points });
        }
        ev.ctx.hold_samples(held)?;
        Ok(out)
    }
}

fn cell_value(op: Op, c: &Cell) -> f64 {
    match op {
        Op::Avg => c.avg.value(),
        Op::Sum => {
            if c.value.is_infinite() {
                c.value
            } else {
                c.value + c.kahan_c
            }
        }
        Op::Count => c.count,
        Op::Group => 1.0,
        Op::Stddev => (c.value / c.count).sqrt(),
        Op::Stdvar => c.value / c.count,
        Op::Min | Op::Max => c.value,
    }
}
