//! The engine's API: result types, ordering, range-query rules, limits and stats.

use model::Labels;
use promql::{Engine, EngineOptions, Error, Value};
use std::time::Duration;
use tsdb::Appendable;
use tsdb::mem::MemStorage;

/// Label pairs and samples of one test series.
type TestSeries<'a> = (&'a [(&'a str, &'a str)], &'a [(i64, f64)]);

fn store(series: &[TestSeries]) -> MemStorage {
    let s = MemStorage::new();
    let mut app = s.appender();
    for (labels, samples) in series {
        let l = Labels::from_pairs(labels.iter().copied());
        for (t, v) in *samples {
            app.append(&l, *t, *v).unwrap();
        }
    }
    app.commit().unwrap();
    s
}

fn demo() -> MemStorage {
    store(&[
        (
            &[("__name__", "m"), ("k", "b")],
            &[(0, 1.0), (60_000, 2.0), (120_000, 3.0)],
        ),
        (
            &[("__name__", "m"), ("k", "a")],
            &[(0, 10.0), (60_000, 20.0), (120_000, 30.0)],
        ),
    ])
}

#[test]
fn instant_result_types() {
    let e = Engine::default();
    let s = demo();
    let r = e.instant(&s, "1 + 1", 5_000).unwrap();
    assert_eq!(r.value, Value::Scalar { t: 5_000, v: 2.0 });
    let r = e.instant(&s, "\"hi\"", 5_000).unwrap();
    assert_eq!(
        r.value,
        Value::String {
            t: 5_000,
            v: "hi".into()
        }
    );
    let Value::Vector(v) = e.instant(&s, "m", 60_000).unwrap().value else {
        panic!("not a vector")
    };
    assert_eq!(v.len(), 2);
    assert!(v.iter().all(|x| x.t == 60_000));
    let Value::Matrix(m) = e.instant(&s, "m[1m]", 120_000).unwrap().value else {
        panic!("not a matrix")
    };
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].labels.get("k"), "a");
    assert_eq!(m[0].samples.len(), 2);
    assert_eq!(m[0].samples[0].t, 60_000);
}

#[test]
fn vector_order_follows_sort_functions() {
    let e = Engine::default();
    let s = demo();
    let Value::Vector(v) = e.instant(&s, "sort_desc(m)", 0).unwrap().value else {
        panic!("not a vector")
    };
    assert_eq!(v[0].v, 10.0);
    let Value::Vector(v) = e.instant(&s, "sort(m)", 0).unwrap().value else {
        panic!("not a vector")
    };
    assert_eq!(v[0].v, 1.0);
}

#[test]
fn range_query_is_sorted_matrix() {
    let e = Engine::default();
    let s = demo();
    let Value::Matrix(m) = e.range(&s, "m * 2", 0, 120_000, 60_000).unwrap().value else {
        panic!("not a matrix")
    };
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].labels.get("k"), "a");
    assert!(!m[0].labels.has("__name__"));
    let vals: Vec<f64> = m[1].samples.iter().map(|p| p.v).collect();
    assert_eq!(vals, vec![2.0, 4.0, 6.0]);
    // A scalar becomes one series without labels.
    let Value::Matrix(m) = e.range(&s, "time()", 0, 120_000, 60_000).unwrap().value else {
        panic!("not a matrix")
    };
    assert_eq!(m.len(), 1);
    assert!(m[0].labels.is_empty());
    assert_eq!(m[0].samples[2].v, 120.0);
}

#[test]
fn range_query_rejects_range_vectors_and_bad_steps() {
    let e = Engine::default();
    let s = demo();
    let err = e.range(&s, "m[5m]", 0, 60_000, 1_000).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"
    );
    assert_eq!(err.error_type(), "bad_data");
    let err = e.range(&s, "\"x\"", 0, 60_000, 1_000).unwrap_err();
    assert!(err.to_string().contains("\"string\""));
    assert!(e.range(&s, "m", 0, 60_000, 0).is_err());
    assert!(e.range(&s, "m", 60_000, 0, 1_000).is_err());
}

#[test]
fn parse_errors_are_bad_data() {
    let e = Engine::default();
    let err = e.instant(&demo(), "sum(", 0).unwrap_err();
    assert!(matches!(err, Error::Parse(_)));
    assert_eq!(err.error_type(), "bad_data");
    assert_eq!(err.http_status(), 400);
}

#[test]
fn execution_errors_are_execution() {
    let e = Engine::default();
    let s = store(&[
        (&[("__name__", "a"), ("x", "1")], &[(0, 1.0)]),
        (&[("__name__", "b"), ("x", "1")], &[(0, 2.0)]),
    ]);
    let err = e.instant(&s, "-{__name__=~\"a|b\"}", 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "vector cannot contain metrics with the same labelset"
    );
    assert_eq!(err.error_type(), "execution");
}

#[test]
fn max_samples_is_enforced() {
    let samples: Vec<(i64, f64)> = (0..100).map(|i| (i * 1000, i as f64)).collect();
    let s = store(&[(&[("__name__", "m")], &samples)]);
    let e = Engine::new(EngineOptions {
        max_samples: 50,
        ..EngineOptions::default()
    });
    let err = e
        .instant(&s, "count_over_time(m[2m])", 100_000)
        .unwrap_err();
    assert_eq!(err, Error::TooManySamples("query execution".into()));
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    // Within the limit it works and reports stats.
    let r = e.instant(&s, "count_over_time(m[10s])", 100_000).unwrap();
    assert!(r.stats.total_samples > 0);
    assert!(r.stats.peak_samples <= 50);
}

#[test]
fn max_samples_counts_points_not_samples_read() {
    // 10 series of 100 samples each: 1,000 samples read, as Prometheus counts them only as the
    // points a selector yields per step.
    let samples: Vec<(i64, f64)> = (0..100).map(|i| (i * 1000, i as f64)).collect();
    let names: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let series: Vec<[(&str, &str); 2]> = names
        .iter()
        .map(|n| [("__name__", "m"), ("i", n.as_str())])
        .collect();
    let input: Vec<TestSeries> = series.iter().map(|l| (&l[..], &samples[..])).collect();
    let s = store(&input);
    let e = Engine::new(EngineOptions {
        max_samples: 300,
        ..EngineOptions::default()
    });
    // 10 steps x 10 series = 100 points: within the limit though 1,000 samples are read.
    let r = e.range(&s, "count(m)", 0, 90_000, 10_000).unwrap();
    assert!(r.stats.peak_samples <= 300, "{:?}", r.stats);
    // 100 steps x 10 series = 1,000 points held: over it.
    let err = e.range(&s, "m", 0, 99_000, 1_000).unwrap_err();
    assert_eq!(err, Error::TooManySamples("query execution".into()));
}

#[test]
fn timeout_is_enforced() {
    let samples: Vec<(i64, f64)> = (0..2000).map(|i| (i * 1000, i as f64)).collect();
    let labels: Vec<[(&str, String); 2]> = (0..50)
        .map(|i| [("__name__", "m".to_string()), ("i", i.to_string())])
        .collect();
    let s = MemStorage::new();
    let mut app = s.appender();
    for l in &labels {
        let l = Labels::from_pairs(l.iter().map(|(a, b)| (*a, b.as_str())));
        for (t, v) in &samples {
            app.append(&l, *t, *v).unwrap();
        }
    }
    app.commit().unwrap();
    let e = Engine::new(EngineOptions {
        timeout: Duration::ZERO,
        ..EngineOptions::default()
    });
    let err = e
        .range(&s, "sum(rate(m[1m]))", 0, 2_000_000, 1_000)
        .unwrap_err();
    assert_eq!(err, Error::Timeout("expression evaluation".into()));
    assert_eq!(err.error_type(), "timeout");
}

#[test]
fn subquery_default_step_is_configurable() {
    let samples: Vec<(i64, f64)> = (0..=60).map(|i| (i * 10_000, 1.0)).collect();
    let s = store(&[(&[("__name__", "m")], &samples)]);
    let e = Engine::new(EngineOptions {
        default_subquery_step_ms: 30_000,
        ..EngineOptions::default()
    });
    let Value::Vector(v) = e
        .instant(&s, "count_over_time(m[5m:])", 600_000)
        .unwrap()
        .value
    else {
        panic!("not a vector")
    };
    assert_eq!(v[0].v, 11.0);
}

#[test]
fn format_query_matches_prometheus_style() {
    assert_eq!(
        promql::format_query("sum(rate(x{a=\"b\"}[5m]))by(job)").unwrap(),
        "sum by (job) (rate(x{a=\"b\"}[5m]))"
    );
    assert!(promql::format_query("sum(").is_err());
}

#[test]
fn huge_step_grids_are_refused_before_allocating() {
    let e = Engine::default();
    let s = demo();
    let err = e
        .instant(&s, "count_over_time(vector(1)[30d:1ms])", 0)
        .unwrap_err();
    assert_eq!(err, Error::TooManySamples("query execution".into()));
    let err = e.range(&s, "1", 0, i64::MAX / 2, 1).unwrap_err();
    assert_eq!(err, Error::TooManySamples("query execution".into()));
}

#[test]
fn extreme_times_do_not_overflow() {
    let e = Engine::default();
    let s = demo();
    let min = promql::params::MIN_TIME_MS;
    let max = promql::params::MAX_TIME_MS;
    assert!(e.range(&s, "m", min, max, 1).is_err());
    let r = e.instant(&s, "m offset -1h", max).unwrap();
    assert_eq!(r.value, Value::Vector(Vec::new()));
    for q in ["m @ 1e15", "max_over_time(m[1h:1m] @ 9e15)"] {
        assert!(e.instant(&s, q, 0).is_ok(), "{q}");
    }
    // Durations past Go's int64 nanoseconds are refused as Prometheus 2.42 refuses them.
    for (q, pos) in [("rate(m[100000y])", "1:8"), ("m offset 100000y", "1:10")] {
        let err = e.instant(&s, q, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{pos}: parse error: duration out of range"),
            "{q}"
        );
    }
    let r = e
        .instant(&s, "count_over_time(m[1h] offset 1h)", min)
        .unwrap();
    assert_eq!(r.value, Value::Vector(Vec::new()));
}

#[test]
fn grouped_aggregations_over_steps_with_gaps() {
    // Steps 10 min apart (beyond the 5 min lookback), so a missing sample is a gap. Group "y"
    // only starts at the second step, and its series contribute in a different order per step.
    let s = store(&[
        (
            &[("__name__", "m"), ("g", "x"), ("k", "1")],
            &[(0, 1.0), (600_000, 2.0), (1_800_000, 4.0)],
        ),
        (
            &[("__name__", "m"), ("g", "y"), ("k", "2")],
            &[(1_200_000, 7.0), (1_800_000, -3.0)],
        ),
        (
            &[("__name__", "m"), ("g", "x"), ("k", "3")],
            &[(600_000, 10.0), (1_200_000, 20.0), (1_800_000, 8.0)],
        ),
        (
            &[("__name__", "m"), ("g", "y"), ("k", "4")],
            &[(600_000, 5.0), (1_800_000, 3.0)],
        ),
    ]);
    let e = Engine::default();
    // Each query with the expected points of group "x", then of group "y".
    type Case<'a> = (&'a str, [&'a [(i64, f64)]; 2]);
    let cases: &[Case] = &[
        (
            "sum by (g) (m)",
            [
                &[
                    (0, 1.0),
                    (600_000, 12.0),
                    (1_200_000, 20.0),
                    (1_800_000, 12.0),
                ],
                &[(600_000, 5.0), (1_200_000, 7.0), (1_800_000, 0.0)],
            ],
        ),
        (
            "count by (g) (m)",
            [
                &[(0, 1.0), (600_000, 2.0), (1_200_000, 1.0), (1_800_000, 2.0)],
                &[(600_000, 1.0), (1_200_000, 1.0), (1_800_000, 2.0)],
            ],
        ),
        (
            "max by (g) (m)",
            [
                &[
                    (0, 1.0),
                    (600_000, 10.0),
                    (1_200_000, 20.0),
                    (1_800_000, 8.0),
                ],
                &[(600_000, 5.0), (1_200_000, 7.0), (1_800_000, 3.0)],
            ],
        ),
        (
            "stdvar by (g) (m)",
            [
                &[
                    (0, 0.0),
                    (600_000, 16.0),
                    (1_200_000, 0.0),
                    (1_800_000, 4.0),
                ],
                &[(600_000, 0.0), (1_200_000, 0.0), (1_800_000, 9.0)],
            ],
        ),
    ];
    for (q, want) in cases {
        let Value::Matrix(m) = e.range(&s, q, 0, 1_800_000, 600_000).unwrap().value else {
            panic!("not a matrix")
        };
        assert_eq!(m.len(), 2, "{q}");
        for (series, want) in m.iter().zip(want) {
            let got: Vec<(i64, f64)> = series.samples.iter().map(|p| (p.t, p.v)).collect();
            assert_eq!(&got, want, "{q} {:?}", series.labels);
        }
    }
    // One step: groups come in the order of their first input series (selectors yield series
    // sorted by labels, so {g="x", k="3"} precedes {g="y", k="2"}).
    let Value::Vector(v) = e.instant(&s, "sum by (g) (m)", 1_200_000).unwrap().value else {
        panic!("not a vector")
    };
    let groups: Vec<&str> = v.iter().map(|x| x.labels.get("g")).collect();
    assert_eq!(groups, vec!["x", "y"]);
}

#[test]
fn streamed_aggregations_agree_with_step_wise_ones() {
    // 400 counters with a reset each; `sum by (k)` over 700 steps needs a (group, step) table of
    // 280k cells, past the streamed path's limit, so that query takes the fallback.
    let s = MemStorage::new();
    let mut app = s.appender();
    for i in 0..400 {
        let (g, k) = ((i % 3).to_string(), i.to_string());
        let l = Labels::from_pairs([("__name__", "c"), ("g", g.as_str()), ("k", k.as_str())]);
        for j in 0..720 {
            let v = if j < 300 + i {
                j * (i + 1)
            } else {
                j - 300 - i
            };
            app.append(&l, j as i64 * 15_000, v as f64).unwrap();
        }
    }
    app.commit().unwrap();
    let e = Engine::default();
    // `* 1` and `+ 0` make the argument a binary expression, which is evaluated first and then
    // aggregated step by step; the values are unchanged.
    let pairs = [
        ("sum by (g) (rate(c[5m]))", "sum by (g) (rate(c[5m]) * 1)"),
        ("sum by (k) (rate(c[5m]))", "sum by (k) (rate(c[5m]) * 1)"),
        ("avg(increase(c[2m]))", "avg(increase(c[2m]) * 1)"),
        // `by (__name__)` after a function that drops the name, and one that keeps it.
        (
            "sum by (__name__, g) (rate(c[5m]))",
            "sum by (__name__, g) (rate(c[5m]) * 1)",
        ),
        (
            "sum by (__name__, g) (last_over_time(c[5m]))",
            "sum by (__name__, g) (last_over_time(c[5m]) > -Inf)",
        ),
        (
            "count without (k) (delta(c[5m]))",
            "count without (k) (delta(c[5m]) * 1)",
        ),
        ("count({__name__=~\"c\"})", "count(c + 0)"),
        ("max without (k) (c)", "max without (k) (c + 0)"),
        ("stddev by (g) (c)", "stddev by (g) (c + 0)"),
    ];
    for (streamed, stepwise) in pairs {
        let a = e
            .range(&s, streamed, 300_000, 10_785_000, 15_000)
            .unwrap()
            .value;
        let b = e
            .range(&s, stepwise, 300_000, 10_785_000, 15_000)
            .unwrap()
            .value;
        let (Value::Matrix(a), Value::Matrix(b)) = (a, b) else {
            panic!("not matrices")
        };
        assert!(!a.is_empty(), "{streamed}");
        assert_eq!(a, b, "{streamed}");
    }
    // Two inputs that differ only in their name collide once `rate` drops it.
    let s = store(&[
        (&[("__name__", "a"), ("k", "1")], &[(0, 1.0), (60_000, 2.0)]),
        (&[("__name__", "b"), ("k", "1")], &[(0, 1.0), (60_000, 2.0)]),
    ]);
    let err = e
        .range(&s, "sum(rate({k=\"1\"}[5m]))", 60_000, 120_000, 60_000)
        .unwrap_err();
    assert!(err.to_string().contains("same labelset"), "{err}");
}
