use super::proto::*;
use super::*;
use crate::test_store::dump as stored;
use model::Labels;
use tsdb::mem::MemStorage;
use tsdb::{Queryable, SelectHints};

fn label(n: &str, v: &str) -> Label {
    Label {
        name: n.into(),
        value: v.into(),
    }
}

fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels.iter().map(|(n, v)| label(n, v)).collect(),
        samples: samples
            .iter()
            .map(|&(t, v)| Sample {
                value: v,
                timestamp: t,
            })
            .collect(),
        exemplars: vec![],
    }
}

const NOW: i64 = 1_700_000_000_000;

#[test]
fn valid_request_is_stored() {
    let store = MemStorage::new();
    let req = WriteRequest {
        timeseries: vec![series(
            &[("job", "a"), ("__name__", "up")],
            &[(NOW, 1.0), (NOW + 1000, 0.0)],
        )],
        metadata: vec![],
    };
    let stats = ingest_at(&req, &store, &Limits::default(), NOW).unwrap();
    assert_eq!(stats.samples_stored, 2);
    assert_eq!(stats.series_created, 1);
    assert_eq!(
        stored(&store),
        vec![(
            r#"up{job="a"}"#.to_string(),
            vec![(NOW, 1.0), (NOW + 1000, 0.0)]
        )]
    );
}

#[test]
fn invalid_series_reported_rest_stored() {
    let store = MemStorage::new();
    let req = WriteRequest {
        timeseries: vec![
            series(&[("job", "nameless")], &[(NOW, 1.0)]),
            series(&[("__name__", "1bad")], &[(NOW, 1.0)]),
            series(&[("__name__", "ok"), ("a-b", "x")], &[(NOW, 1.0)]),
            series(&[("__name__", "ok"), ("a", "1"), ("a", "2")], &[(NOW, 1.0)]),
            series(&[("__name__", "good")], &[(NOW, 5.0)]),
        ],
        metadata: vec![],
    };
    let err = ingest_at(&req, &store, &Limits::default(), NOW).unwrap_err();
    assert_eq!(err.http_status(), 400);
    let msg = err.to_string();
    assert!(msg.contains("metric name (__name__) missing"), "{msg}");
    assert!(msg.contains("invalid metric name \"1bad\""), "{msg}");
    assert!(msg.contains("invalid label name \"a-b\""), "{msg}");
    assert!(msg.contains("duplicate label name \"a\""), "{msg}");
    let IngestError::Partial { stats } = err else {
        panic!("expected partial")
    };
    assert_eq!(stats.invalid_series, 4);
    assert_eq!(stats.samples_stored, 1);
    assert_eq!(stored(&store), vec![("good".to_string(), vec![(NOW, 5.0)])]);
}

#[test]
fn future_and_duplicate_samples_refused() {
    let store = MemStorage::new();
    let req = WriteRequest {
        timeseries: vec![series(
            &[("__name__", "m")],
            &[(NOW, 1.0), (NOW, 2.0), (NOW + 3_600_000, 3.0)],
        )],
        metadata: vec![],
    };
    let err = ingest_at(&req, &store, &Limits::default(), NOW).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("too far in the future"), "{msg}");
    assert!(
        msg.contains("out of order, out of bounds or duplicate"),
        "{msg}"
    );
    assert_eq!(stored(&store), vec![("m".to_string(), vec![(NOW, 1.0)])]);
}

#[test]
fn request_limits_refuse_everything() {
    let store = MemStorage::new();
    let limits = Limits {
        max_series_per_request: 1,
        ..Limits::default()
    };
    let req = WriteRequest {
        timeseries: vec![
            series(&[("__name__", "a")], &[(NOW, 1.0)]),
            series(&[("__name__", "b")], &[(NOW, 1.0)]),
        ],
        metadata: vec![],
    };
    let err = ingest_at(&req, &store, &limits, NOW).unwrap_err();
    assert_eq!(err.http_status(), 413);
    assert!(err.to_string().contains("limit of 1"), "{err}");
    assert_eq!(store.num_series(), 0);
}

#[test]
fn label_value_limit_names_the_label() {
    let limits = Limits {
        max_label_value_bytes: 3,
        ..Limits::default()
    };
    let err =
        labels_from_proto(&[label("__name__", "m"), label("path", "/long")], &limits).unwrap_err();
    assert!(err.contains("\"path\""), "{err}");
    let ok = labels_from_proto(&[label("__name__", "m"), label("e", "")], &limits).unwrap();
    assert_eq!(ok, Labels::from_pairs([("__name__", "m")]));
}

#[test]
fn receive_checks_headers_and_sizes() {
    let store = MemStorage::new();
    let cfg = ReceiverConfig::default();
    let req = WriteRequest {
        timeseries: vec![series(
            &[("__name__", "m")],
            &[(model::time::now_ms(), 1.0)],
        )],
        metadata: vec![MetricMetadata {
            r#type: MetricMetadataType::Counter as i32,
            metric_family_name: "m".into(),
            help: "help".into(),
            unit: String::new(),
        }],
    };
    let body = encode_write_request(&req);
    let stats = receive(
        &body,
        Some("application/x-protobuf"),
        Some("snappy"),
        &store,
        &cfg,
    )
    .unwrap();
    assert_eq!(stats.samples_stored, 1);
    assert_eq!(stats.metadata, 1);

    let e = receive(&body, Some("application/json"), None, &store, &cfg).unwrap_err();
    assert_eq!(e.http_status(), 415);
    let e = receive(
        &body,
        Some("application/x-protobuf;proto=io.prometheus.write.v3.Request"),
        None,
        &store,
        &cfg,
    )
    .unwrap_err();
    assert_eq!(e.http_status(), 415);
    let e = receive(&body, None, Some("gzip"), &store, &cfg).unwrap_err();
    assert_eq!(e.http_status(), 415);
    let small = ReceiverConfig {
        max_body_bytes: 2,
        ..ReceiverConfig::default()
    };
    let e = receive(&body, None, None, &store, &small).unwrap_err();
    assert_eq!(e.http_status(), 413);
    let e = receive(b"\x05junk", None, None, &store, &cfg).unwrap_err();
    assert_eq!(e.http_status(), 400);
}

#[tokio::test]
async fn client_posts_to_receiver() {
    let store = MemStorage::new();
    let s2 = store.clone();
    let addr = crate::test_http::serve(move |r| {
        assert_eq!(
            r.headers.get("content-encoding").map(String::as_str),
            Some("snappy")
        );
        assert_eq!(
            r.headers
                .get("x-prometheus-remote-write-version")
                .map(String::as_str),
            Some("0.1.0")
        );
        match receive(
            &r.body,
            r.headers.get("content-type").map(String::as_str),
            r.headers.get("content-encoding").map(String::as_str),
            &s2,
            &ReceiverConfig::default(),
        ) {
            Ok(_) => crate::test_http::Response::ok("text/plain", ""),
            Err(e) => crate::test_http::Response {
                status: e.http_status(),
                headers: vec![],
                body: e.to_string().into_bytes(),
            },
        }
    })
    .await;
    let client = RemoteWriteClient::new(
        format!("http://{addr}/api/v1/write"),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    let now = model::time::now_ms();
    let good = WriteRequest {
        timeseries: vec![series(&[("__name__", "pushed")], &[(now, 42.0)])],
        metadata: vec![],
    };
    client.send(&good).await.unwrap();
    assert_eq!(
        stored(&store),
        vec![("pushed".to_string(), vec![(now, 42.0)])]
    );
    let bad = WriteRequest {
        timeseries: vec![series(&[("job", "x")], &[(now, 1.0)])],
        metadata: vec![],
    };
    let err = client.send(&bad).await.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("400"), "{err}");
    assert!(err.to_string().contains("metric name"), "{err}");
}

#[test]
fn remote_write_2_resolves_symbols() {
    let store = MemStorage::new();
    let now = model::time::now_ms();
    let syms: Vec<String> = [
        "",
        "__name__",
        "reqs_total",
        "code",
        "200",
        "trace_id",
        "t1",
        "Requests.",
        "req",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let req = v2::Request {
        symbols: syms.clone(),
        timeseries: vec![v2::TimeSeries {
            labels_refs: vec![1, 2, 3, 4],
            samples: vec![Sample {
                value: 9.0,
                timestamp: now,
            }],
            exemplars: vec![v2::Exemplar {
                labels_refs: vec![5, 6],
                value: 1.0,
                timestamp: now,
            }],
            metadata: Some(v2::Metadata {
                r#type: 1,
                help_ref: 7,
                unit_ref: 8,
            }),
        }],
    };
    let stats = receive(
        &v2::encode_v2(&req),
        Some("application/x-protobuf;proto=io.prometheus.write.v2.Request"),
        Some("snappy"),
        &store,
        &ReceiverConfig::default(),
    )
    .unwrap();
    assert_eq!(
        (stats.samples_stored, stats.exemplars, stats.metadata),
        (1, 1, 1)
    );
    assert_eq!(
        stored(&store),
        vec![(r#"reqs_total{code="200"}"#.to_string(), vec![(now, 9.0)])]
    );
    assert!(is_version_2(Some(
        "application/x-protobuf; proto=io.prometheus.write.v2.Request"
    )));
    assert!(!is_version_2(Some("application/x-protobuf")));
    let h = v2::written_headers(&stats);
    assert_eq!(
        h[0],
        ("X-Prometheus-Remote-Write-Samples-Written", "1".to_string())
    );

    let mut bad = req.clone();
    bad.timeseries[0].labels_refs = vec![1, 99];
    let e = receive(
        &v2::encode_v2(&bad),
        Some("application/x-protobuf;proto=io.prometheus.write.v2.Request"),
        None,
        &store,
        &ReceiverConfig::default(),
    )
    .unwrap_err();
    assert_eq!(e.http_status(), 400);
    assert!(
        e.to_string()
            .contains("timeseries[0].labels_refs: symbol reference 99 out of range of 9 symbols"),
        "{e}"
    );
    let mut odd = req.clone();
    odd.timeseries[0].labels_refs = vec![1];
    assert!(
        v2::to_v1(&odd)
            .unwrap_err()
            .to_string()
            .contains("odd number")
    );
    let mut first = req;
    first.symbols[0] = "x".into();
    assert!(v2::to_v1(&first).is_err());
}

/// Sorted labels take the path that finds existing series without building a label set; the
/// result (stored samples, refusals and their wording) must equal the general path's.
#[test]
fn sorted_and_unsorted_labels_store_and_refuse_alike() {
    let dir = tempfile::tempdir().unwrap();
    let db = tsdb::Db::open(dir.path(), tsdb::DbOptions::default()).unwrap();
    let sorted = [("__name__", "up"), ("job", "a")];
    let unsorted = [("job", "a"), ("__name__", "up")];
    let now = model::time::now_ms();
    let far = now + 3_600_000;
    let req = |labels: &[(&str, &str)], t: i64| WriteRequest {
        timeseries: vec![series(labels, &[(t, 1.0), (far, 2.0)])],
        metadata: vec![],
    };
    // First request creates the series, the next ones find it.
    let first = ingest_at(&req(&sorted, now - 2000), &db, &Limits::default(), now);
    let second = ingest_at(&req(&sorted, now - 1000), &db, &Limits::default(), now);
    let third = ingest_at(&req(&unsorted, now), &db, &Limits::default(), now);
    let msgs: Vec<(usize, usize, Vec<String>)> = [first, second, third]
        .into_iter()
        .map(|r| match r {
            Err(IngestError::Partial { stats }) => {
                (stats.samples_stored, stats.rejected_samples, stats.errors)
            }
            other => panic!("expected a partial write, got {other:?}"),
        })
        .collect();
    for (stored, rejected, errors) in &msgs {
        assert_eq!((*stored, *rejected), (1, 1));
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with(r#"series up{job="a"}: timestamp "#)
                && errors[0].contains("too far in the future"),
            "{errors:?}"
        );
    }
    assert_eq!(msgs[1].2, msgs[2].2);
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let got: Vec<(String, usize)> = q
        .select(
            &SelectHints::default(),
            &[model::Matcher::equal("__name__", "up")],
        )
        .map(|s| {
            let s = s.unwrap();
            (s.labels.to_string(), s.samples.len())
        })
        .collect();
    assert_eq!(got, vec![(r#"up{job="a"}"#.to_string(), 3)]);
}

/// A series whose labels break a rule is refused with the same wording whether or not its
/// labels are sorted (the fast path declines and the general path words the error).
#[test]
fn invalid_sorted_labels_take_the_general_path() {
    let store = MemStorage::new();
    let req = WriteRequest {
        timeseries: vec![
            series(
                &[("__name__", "up"), ("job", "a"), ("job", "b")],
                &[(NOW, 1.0)],
            ),
            series(&[("__name__", "1up")], &[(NOW, 1.0)]),
            series(&[("__name__", "up"), ("z", "")], &[(NOW, 1.0)]),
        ],
        metadata: vec![],
    };
    let Err(IngestError::Partial { stats }) = ingest_at(&req, &store, &Limits::default(), NOW)
    else {
        panic!("expected a partial write");
    };
    assert_eq!((stats.invalid_series, stats.samples_stored), (2, 1));
    assert!(
        stats.errors[0].contains("duplicate label name"),
        "{:?}",
        stats.errors
    );
    assert!(
        stats.errors[1].contains("invalid metric name"),
        "{:?}",
        stats.errors
    );
    assert_eq!(stored(&store), vec![("up".to_string(), vec![(NOW, 1.0)])]);
}

/// `receive` ingests sorted label-and-sample requests straight from the decoded bytes: the
/// answer (stats, refusals and their wording) equals the general path's for the same request.
#[test]
fn receive_fast_path_answers_as_the_general_path() {
    let now = model::time::now_ms();
    let req = WriteRequest {
        timeseries: vec![
            series(&[("__name__", "up"), ("job", "a")], &[(now - 1000, 1.0)]),
            series(
                &[("__name__", "up"), ("job", "b")],
                &[(now + 3_600_000, 1.0)],
            ),
            series(&[("__name__", "up"), ("job", "a")], &[(now - 1000, 2.0)]),
        ],
        metadata: vec![],
    };
    let answer = |fast: bool| {
        let dir = tempfile::tempdir().unwrap();
        let db = tsdb::Db::open(dir.path(), tsdb::DbOptions::default()).unwrap();
        let cfg = ReceiverConfig::default();
        let got = if fast {
            receive(&encode_write_request(&req), None, None, &db, &cfg)
        } else {
            // Metadata makes the borrowing decoder decline; an invalid name is then skipped.
            let mut with_meta = req.clone();
            with_meta.metadata.push(MetricMetadata {
                metric_family_name: "1bad".into(),
                ..Default::default()
            });
            receive(&encode_write_request(&with_meta), None, None, &db, &cfg)
        };
        let err = got.unwrap_err().to_string();
        let q = db.querier(i64::MIN, i64::MAX).unwrap();
        let stored: Vec<(String, Vec<f64>)> = q
            .select(
                &SelectHints::default(),
                &[model::Matcher::equal("__name__", "up")],
            )
            .map(|s| {
                let s = s.unwrap();
                (
                    s.labels.to_string(),
                    s.samples.iter().map(|x| x.v).collect(),
                )
            })
            .collect();
        (err, stored)
    };
    let fast = answer(true);
    assert_eq!(fast, answer(false));
    assert!(fast.0.contains("too far in the future"), "{}", fast.0);
    assert!(fast.0.contains("duplicate"), "{}", fast.0);
    assert_eq!(fast.1, vec![(r#"up{job="a"}"#.to_string(), vec![1.0])]);
}
