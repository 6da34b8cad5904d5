use super::*;
use crate::test_store::dump;
use model::is_stale_nan;
use tsdb::mem::MemStorage;

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn settings() -> AppendSettings {
    AppendSettings {
        target_labels: l(&[("job", "j"), ("instance", "i:1")]),
        honor_labels: false,
        honor_timestamps: true,
        metric_relabel: vec![],
        sample_limit: 0,
        label_limit: 0,
        label_name_length_limit: 0,
        label_value_length_limit: 0,
    }
}

#[test]
fn exported_prefix_on_conflict() {
    let exposed = l(&[("__name__", "m"), ("job", "inner"), ("exported_job", "x")]);
    let target = l(&[("job", "outer"), ("instance", "i")]);
    let out = apply_target_labels(&exposed, &target, false);
    assert_eq!(out.get("job"), "outer");
    assert_eq!(out.get("exported_job"), "x");
    assert_eq!(out.get("exported_exported_job"), "inner");
    assert_eq!(out.get("instance"), "i");
    let honored = apply_target_labels(&exposed, &target, true);
    assert_eq!(honored.get("job"), "inner");
    assert_eq!(honored.get("instance"), "i");
}

#[test]
fn samples_get_target_labels_and_staleness() {
    let store = MemStorage::new();
    let mut cache = ScrapeCache::default();
    let s = settings();
    let c = append_body(
        b"a 1\nb{x=\"y\"} 2\nc 3 500\n",
        Format::PrometheusText,
        1000,
        &store,
        &mut cache,
        &s,
    )
    .unwrap();
    assert_eq!(
        c,
        AppendCounts {
            scraped: 3,
            post_relabel: 3,
            added: 3
        }
    );
    // Second scrape: `a` vanished, `b` stays, `c` has an explicit timestamp (no staleness).
    let c2 = append_body(
        b"b{x=\"y\"} 4\n",
        Format::PrometheusText,
        2000,
        &store,
        &mut cache,
        &s,
    )
    .unwrap();
    assert_eq!(c2.added, 0);
    let d = dump(&store);
    let a = d.iter().find(|(n, _)| n.starts_with("a{")).unwrap();
    assert_eq!(a.0, r#"a{instance="i:1", job="j"}"#);
    assert_eq!(a.1[0], (1000, 1.0));
    assert!(is_stale_nan(a.1[1].1) && a.1[1].0 == 2000);
    let cser = d.iter().find(|(n, _)| n.starts_with("c{")).unwrap();
    assert_eq!(cser.1, vec![(500, 3.0)]);
    // A failed scrape marks the remaining series stale.
    mark_stale(3000, &store, &mut cache);
    let d = dump(&store);
    let b = d.iter().find(|(n, _)| n.starts_with("b{")).unwrap();
    assert!(is_stale_nan(b.1.last().unwrap().1));
    assert!(cache.series.is_empty());
}

#[test]
fn sample_limit_fails_whole_scrape() {
    let store = MemStorage::new();
    let mut cache = ScrapeCache::default();
    let s = AppendSettings {
        sample_limit: 1,
        ..settings()
    };
    let e = append_body(
        b"a 1\nb 2\n",
        Format::PrometheusText,
        1,
        &store,
        &mut cache,
        &s,
    )
    .unwrap_err();
    assert_eq!(e, "sample limit exceeded");
    assert_eq!(store.num_series(), 0);
}

#[test]
fn metric_relabel_and_label_limit() {
    let store = MemStorage::new();
    let mut cache = ScrapeCache::default();
    let rules = crate::scrape::relabel::compile_all(&[crate::scrape::relabel::RelabelConfig {
        source_labels: vec!["__name__".into()],
        regex: "drop_.*".into(),
        action: "drop".into(),
        ..Default::default()
    }])
    .unwrap();
    let s = AppendSettings {
        metric_relabel: rules,
        ..settings()
    };
    let c = append_body(
        b"drop_me 1\nkeep 2\n",
        Format::PrometheusText,
        1,
        &store,
        &mut cache,
        &s,
    )
    .unwrap();
    assert_eq!((c.scraped, c.post_relabel), (2, 1));
    let s = AppendSettings {
        label_limit: 3,
        ..settings()
    };
    let e = append_body(
        b"m{a=\"1\",b=\"2\"} 1\n",
        Format::PrometheusText,
        2,
        &store,
        &mut cache,
        &s,
    )
    .unwrap_err();
    assert!(e.starts_with("label_limit exceeded (metric: m"), "{e}");
}

#[test]
fn timestamps_ignored_unless_honored() {
    let store = MemStorage::new();
    let mut cache = ScrapeCache::default();
    let s = AppendSettings {
        honor_timestamps: false,
        ..settings()
    };
    append_body(
        b"m 1 5\n",
        Format::PrometheusText,
        777,
        &store,
        &mut cache,
        &s,
    )
    .unwrap();
    assert_eq!(dump(&store)[0].1, vec![(777, 1.0)]);
}

#[test]
fn report_series_written() {
    let store = MemStorage::new();
    let mut cache = ScrapeCache::default();
    let t = l(&[("job", "j")]);
    append_report(
        10,
        &t,
        true,
        0.5,
        AppendCounts {
            scraped: 3,
            post_relabel: 2,
            added: 1,
        },
        &store,
        &mut cache,
    );
    let d = dump(&store);
    let get = |n: &str| d.iter().find(|(k, _)| k.starts_with(n)).unwrap().1[0].1;
    assert_eq!(get("up{"), 1.0);
    assert_eq!(get("scrape_duration_seconds{"), 0.5);
    assert_eq!(get("scrape_samples_scraped{"), 3.0);
    assert_eq!(get("scrape_samples_post_metric_relabeling{"), 2.0);
    assert_eq!(get("scrape_series_added{"), 1.0);
    report_stale(20, &t, &store);
    let d = dump(&store);
    assert!(d.iter().all(|(_, s)| is_stale_nan(s[1].1)));
}
