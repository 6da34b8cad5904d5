//! Parallel evaluation gives the serial answers bit for bit: the same queries over the same
//! data, once serially (one thread, a store that cannot split selects) and once with several
//! workers over a store that splits them (and lists series without samples, as a real store
//! does for a series outside the range).

use model::{Labels, Matcher, Sample, stale_nan};
use promql::{Engine, EngineOptions, Error, QueryResult, Value};
use std::time::Duration;
use tsdb::mem::MemStorage;
use tsdb::{
    Appendable, Querier, Queryable, SampleReader, SelectHints, SeriesIter, SplitSelect,
    StorageError,
};

/// A store that splits every select: it reads the inner store's answer and adds an empty
/// series after every fifth one.
struct Splitting(MemStorage);

struct SplittingQuerier<'a>(Box<dyn Querier + 'a>);

struct Materialized(Vec<Vec<Sample>>);

impl SampleReader for Materialized {
    fn samples(&self, i: usize) -> Result<Vec<Sample>, StorageError> {
        self.0
            .get(i)
            .cloned()
            .ok_or_else(|| StorageError::Io(format!("no series {i}")))
    }
}

impl Queryable for Splitting {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier + '_>, StorageError> {
        Ok(Box::new(SplittingQuerier(self.0.querier(mint, maxt)?)))
    }
}

impl Querier for SplittingQuerier<'_> {
    fn select<'a>(&'a self, hints: &SelectHints, matchers: &[Matcher]) -> SeriesIter<'a> {
        self.0.select(hints, matchers)
    }

    fn select_split<'a>(
        &'a self,
        hints: &SelectHints,
        matchers: &[Matcher],
    ) -> Option<SplitSelect<'a>> {
        let mut labels = Vec::new();
        let mut samples = Vec::new();
        for (k, s) in self.0.select(hints, matchers).enumerate() {
            let s = s.ok()?;
            labels.push(s.labels);
            samples.push(s.samples);
            if k % 5 == 4 {
                // Sorts right after the series it copies: `~` is after every digit.
                let copy = labels[labels.len() - 1]
                    .builder()
                    .set("zz", "~empty")
                    .build();
                labels.push(copy);
                samples.push(Vec::new());
            }
        }
        Some(SplitSelect {
            labels,
            reader: Box::new(Materialized(samples)),
        })
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.0.label_names(matchers)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.0.label_values(name, matchers)
    }
}

const STEP: i64 = 15_000;

/// 400 counters and gauges in 8 jobs over 2 h at 15 s, with counter resets, stale markers,
/// a NaN, series that start late and end early, and float values with full mantissas.
fn data() -> MemStorage {
    let s = MemStorage::new();
    let mut app = s.appender();
    for i in 0..400u64 {
        let job = format!("j{}", i % 8);
        let inst = format!("i{i:03}");
        let counter = Labels::from_pairs([
            ("__name__", "reqs_total"),
            ("job", job.as_str()),
            ("instance", inst.as_str()),
        ]);
        let gauge = Labels::from_pairs([
            ("__name__", "mem"),
            ("job", job.as_str()),
            ("instance", inst.as_str()),
        ]);
        let (from, to) = ((i % 7) as i64 * 600, 480 - (i % 5) as i64 * 40);
        let mut c = (i * 37) as f64;
        for k in from..to {
            let t = k * STEP + (i as i64 * 97) % STEP;
            let x = ((i * 7919 + k as u64 * 104_729) % 1000) as f64 / 7.0;
            c = if k % 200 == (i % 200) as i64 {
                x
            } else {
                c + x
            };
            let cv = if k == 300 && i % 11 == 0 {
                stale_nan()
            } else {
                c
            };
            app.append(&counter, t, cv).unwrap();
            let gv = if k == 100 && i == 3 {
                f64::NAN
            } else {
                x.sin() * 1e3 + i as f64
            };
            app.append(&gauge, t, gv).unwrap();
        }
    }
    app.commit().unwrap();
    s
}

const QUERIES: &[&str] = &[
    "reqs_total",
    "mem",
    "rate(reqs_total[5m])",
    "increase(reqs_total[10m])",
    "irate(reqs_total[1m])",
    "delta(mem[5m])",
    "deriv(mem[5m])",
    "predict_linear(mem[10m], 600)",
    "holt_winters(mem[10m], 0.5, 0.3)",
    "changes(mem[10m])",
    "resets(reqs_total[30m])",
    "avg_over_time(mem[5m])",
    "min_over_time(mem[5m])",
    "max_over_time(mem[5m])",
    "sum_over_time(mem[5m])",
    "count_over_time(mem[5m])",
    "last_over_time(mem[5m])",
    "present_over_time(mem[5m])",
    "stddev_over_time(mem[5m])",
    "stdvar_over_time(mem[5m])",
    "quantile_over_time(0.9, mem[5m])",
    "absent_over_time(mem[5m])",
    "sum(rate(reqs_total[5m]))",
    "sum by (job) (rate(reqs_total[5m]))",
    "avg by (job) (avg_over_time(mem[5m]))",
    "stddev by (job) (mem)",
    "count(mem)",
    "topk(3, rate(reqs_total[5m]))",
    "sum by (job) (rate(reqs_total[5m])) / sum by (job) (rate(reqs_total[10m]))",
    "max by (job) (mem) - min by (job) (mem)",
    "timestamp(mem)",
    "rate(reqs_total[5m] offset 10m)",
    "rate(reqs_total[5m] @ 3600)",
    "max_over_time(rate(reqs_total[5m])[10m:1m])",
    "mem[5m]",
    "holt_winters(mem[10m], 2, 0.3)",
    "last_over_time({__name__=~\"mem|reqs_total\"}[5m])",
];

/// A result with floats as bits, so NaNs compare and nothing is rounded.
fn bits(r: &Result<QueryResult, Error>) -> Result<(String, u64, u64), Error> {
    match r {
        Ok(q) => {
            let v = match &q.value {
                Value::Matrix(m) => m
                    .iter()
                    .map(|s| {
                        let pts: Vec<(i64, u64)> =
                            s.samples.iter().map(|p| (p.t, p.v.to_bits())).collect();
                        format!("{:?} {pts:?}", s.labels)
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                Value::Vector(v) => v
                    .iter()
                    .map(|s| format!("{:?} {} {}", s.labels, s.t, s.v.to_bits()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                other => format!("{other:?}"),
            };
            Ok((v, q.stats.total_samples, q.stats.peak_samples))
        }
        Err(e) => Err(e.clone()),
    }
}

fn engines(max_samples: usize) -> (Engine, Engine) {
    let opts = |parallelism| EngineOptions {
        parallelism,
        // Every selection of at least 64 series goes parallel, however short its range.
        parallel_min_samples: 0,
        max_samples,
        ..EngineOptions::default()
    };
    (Engine::new(opts(1)), Engine::new(opts(3)))
}

#[test]
fn parallel_answers_are_the_serial_answers() {
    let serial_store = data();
    let split_store = Splitting(data());
    let (serial, parallel) = engines(50_000_000);
    let end = 480 * STEP;
    let mut nonempty = 0;
    for q in QUERIES {
        for (start, step) in [(end - 3_600_000, STEP), (0, 60_000), (end - 600_000, 7_000)] {
            let want = bits(&serial.range(&serial_store, q, start, end, step));
            let got = bits(&parallel.range(&split_store, q, start, end, step));
            assert_eq!(got, want, "range {q} from {start} step {step}");
            if want.as_ref().is_ok_and(|w| !w.0.is_empty()) {
                nonempty += 1;
            }
        }
        for t in [end, end - 1_234_567, 1_800_000] {
            let want = bits(&serial.instant(&serial_store, q, t));
            let got = bits(&parallel.instant(&split_store, q, t));
            assert_eq!(got, want, "instant {q} at {t}");
        }
    }
    // The comparison is not vacuous.
    assert!(nonempty > QUERIES.len() * 2, "{nonempty}");
}

#[test]
fn sample_limits_fail_the_same_way() {
    let serial_store = data();
    let split_store = Splitting(data());
    let end = 480 * STEP;
    // From "fits" to "fails at once", through limits that fail midway through the series.
    for max in [1_000_000, 100_000, 30_000, 5_000, 300, 20] {
        let (serial, parallel) = engines(max);
        for q in [
            "rate(reqs_total[5m])",
            "sum by (job) (rate(reqs_total[30m]))",
            "mem",
            "count(mem)",
            "max_over_time(mem[1h])",
        ] {
            let want = bits(&serial.range(&serial_store, q, end - 3_600_000, end, STEP));
            let got = bits(&parallel.range(&split_store, q, end - 3_600_000, end, STEP));
            assert_eq!(got, want, "{q} with max_samples {max}");
        }
    }
    let (serial, _) = engines(300);
    assert_eq!(
        serial
            .range(
                &serial_store,
                "rate(reqs_total[5m])",
                end - 3_600_000,
                end,
                STEP
            )
            .unwrap_err(),
        Error::TooManySamples("query execution".into())
    );
}

#[test]
fn the_timeout_stops_parallel_workers() {
    let e = Engine::new(EngineOptions {
        parallelism: 4,
        parallel_min_samples: 0,
        timeout: Duration::ZERO,
        ..EngineOptions::default()
    });
    let err = e
        .range(
            &Splitting(data()),
            "sum(rate(reqs_total[5m]))",
            0,
            480 * STEP,
            1_000,
        )
        .unwrap_err();
    assert_eq!(err, Error::Timeout("expression evaluation".into()));
}
