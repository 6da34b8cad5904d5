use super::*;
use crate::test_store::dump;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric::Data,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use tsdb::mem::MemStorage;

const T: u64 = 1_700_000_000_000_000_000;
const T_MS: i64 = 1_700_000_000_000;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn number(attrs: Vec<KeyValue>, v: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: T,
        value: Some(number_data_point::Value::AsDouble(v)),
        ..Default::default()
    }
}

fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: "help text".into(),
        data: Some(data),
        ..Default::default()
    }
}

fn value(d: &[(String, Vec<(i64, f64)>)], name: &str) -> f64 {
    d.iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} missing in {d:#?}"))
        .1
        .last()
        .unwrap()
        .1
}

fn ingest(store: &MemStorage, delta: &DeltaState, req: &ExportMetricsServiceRequest) -> OtlpStats {
    ingest_otlp_metrics(req, store, delta, &OtlpLimits::default()).unwrap()
}

#[test]
fn gauges_counters_resource_labels_and_target_info() {
    let store = MemStorage::new();
    let req = request(
        vec![
            kv("service.name", "api"),
            kv("service.namespace", "shop"),
            kv("service.instance.id", "pod-1"),
            kv("host.name", "h1"),
        ],
        vec![
            metric(
                "process.memory.usage",
                "By",
                Data::Gauge(Gauge {
                    data_points: vec![number(vec![kv("memory.kind", "heap")], 42.0)],
                }),
            ),
            metric(
                "http.requests",
                "{request}",
                Data::Sum(Sum {
                    data_points: vec![number(vec![kv("http.method", "GET")], 7.0)],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    is_monotonic: true,
                }),
            ),
        ],
    );
    let stats = ingest(&store, &DeltaState::default(), &req);
    assert_eq!(stats.data_points, 2);
    assert_eq!(stats.rejected_points, 0);
    let d = dump(&store);
    assert_eq!(
        value(
            &d,
            r#"process_memory_usage_bytes{instance="pod-1", job="shop/api", memory_kind="heap", service="api"}"#
        ),
        42.0
    );
    assert_eq!(
        value(
            &d,
            r#"http_requests_total{http_method="GET", instance="pod-1", job="shop/api", service="api"}"#
        ),
        7.0
    );
    let ti = d
        .iter()
        .find(|(n, _)| n.starts_with("target_info"))
        .unwrap();
    assert_eq!(
        ti.0,
        r#"target_info{host_name="h1", instance="pod-1", job="shop/api", service="api"}"#
    );
    assert_eq!(ti.1, vec![(T_MS, 1.0)]);
}

#[test]
fn histograms_with_exemplars_and_summaries() {
    let store = MemStorage::new();
    let ex = Exemplar {
        time_unix_nano: T,
        trace_id: vec![0xab; 16],
        span_id: vec![0xcd; 8],
        value: Some(exemplar::Value::AsDouble(0.3)),
        ..Default::default()
    };
    let req = request(
        vec![kv("service.name", "svc")],
        vec![
            metric(
                "rpc.duration",
                "s",
                Data::Histogram(Histogram {
                    data_points: vec![HistogramDataPoint {
                        time_unix_nano: T,
                        count: 6,
                        sum: Some(2.5),
                        bucket_counts: vec![1, 2, 3],
                        explicit_bounds: vec![0.1, 0.5],
                        exemplars: vec![ex],
                        ..Default::default()
                    }],
                    aggregation_temporality: AggregationTemporality::Cumulative as i32,
                }),
            ),
            metric(
                "gc.pause",
                "ms",
                Data::Summary(Summary {
                    data_points: vec![SummaryDataPoint {
                        time_unix_nano: T,
                        count: 3,
                        sum: 9.0,
                        quantile_values: vec![ValueAtQuantile {
                            quantile: 0.99,
                            value: 5.0,
                        }],
                        ..Default::default()
                    }],
                }),
            ),
        ],
    );
    ingest(&store, &DeltaState::default(), &req);
    let d = dump(&store);
    let b = |le: &str| {
        value(
            &d,
            &format!(r#"rpc_duration_seconds_bucket{{job="svc", le="{le}", service="svc"}}"#),
        )
    };
    assert_eq!((b("0.1"), b("0.5"), b("+Inf")), (1.0, 3.0, 6.0));
    assert_eq!(
        value(&d, r#"rpc_duration_seconds_sum{job="svc", service="svc"}"#),
        2.5
    );
    assert_eq!(
        value(
            &d,
            r#"rpc_duration_seconds_count{job="svc", service="svc"}"#
        ),
        6.0
    );
    assert_eq!(
        value(
            &d,
            r#"gc_pause_milliseconds{job="svc", quantile="0.99", service="svc"}"#
        ),
        5.0
    );
    assert_eq!(
        value(
            &d,
            r#"gc_pause_milliseconds_count{job="svc", service="svc"}"#
        ),
        3.0
    );
    use tsdb::interface::ExemplarQueryable;
    let m = model::Matcher::new(model::MatchOp::Equal, "le", "0.5").unwrap();
    let exs = store.exemplars(i64::MIN, i64::MAX, &[vec![m]]).unwrap();
    assert_eq!(
        exs.len(),
        1,
        "the 0.3 exemplar belongs to the le=0.5 bucket"
    );
    assert_eq!(exs[0].exemplars[0].labels.get("trace_id"), "ab".repeat(16));
    assert_eq!(exs[0].exemplars[0].labels.get("span_id"), "cd".repeat(8));
}

#[test]
fn delta_sums_accumulate() {
    let store = MemStorage::new();
    let delta = DeltaState::default();
    let mk = |t: u64, v: f64| {
        request(
            vec![kv("service.name", "s")],
            vec![metric(
                "jobs.done",
                "",
                Data::Sum(Sum {
                    data_points: vec![NumberDataPoint {
                        time_unix_nano: t,
                        value: Some(number_data_point::Value::AsInt(v as i64)),
                        ..Default::default()
                    }],
                    aggregation_temporality: AggregationTemporality::Delta as i32,
                    is_monotonic: true,
                }),
            )],
        )
    };
    ingest(&store, &delta, &mk(T, 3.0));
    ingest(&store, &delta, &mk(T + 1_000_000_000, 4.0));
    let d = dump(&store);
    let s = &d
        .iter()
        .find(|(n, _)| n.starts_with("jobs_done_total"))
        .unwrap()
        .1;
    assert_eq!(s, &vec![(T_MS, 3.0), (T_MS + 1000, 7.0)]);
    let small = DeltaState::new(0);
    let stats = ingest(&MemStorage::new(), &small, &mk(T, 1.0));
    assert_eq!(stats.rejected_points, 1);
    assert!(
        stats.errors[0].contains("delta series limit of 0"),
        "{:?}",
        stats.errors
    );
}

#[test]
fn exponential_histogram_to_classic_buckets() {
    let store = MemStorage::new();
    let req = request(
        vec![kv("service.name", "s")],
        vec![metric(
            "size",
            "By",
            Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    time_unix_nano: T,
                    count: 6,
                    sum: Some(10.0),
                    scale: 0,
                    zero_count: 1,
                    positive: Some(Buckets {
                        offset: 0,
                        bucket_counts: vec![1, 2],
                    }),
                    negative: Some(Buckets {
                        offset: 1,
                        bucket_counts: vec![2],
                    }),
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            }),
        )],
    );
    ingest(&store, &DeltaState::default(), &req);
    let d = dump(&store);
    let b = |le: &str| {
        value(
            &d,
            &format!(r#"size_bytes_bucket{{job="s", le="{le}", service="s"}}"#),
        )
    };
    // Negative bucket 1 is [-4, -2): le=-2 holds 2; zero bucket: le=0 adds 1;
    // positive bucket 0 is (1, 2], bucket 1 is (2, 4].
    assert_eq!(b("-2"), 2.0);
    assert_eq!(b("0"), 3.0);
    assert_eq!(b("2"), 4.0);
    assert_eq!(b("4"), 6.0);
    assert_eq!(b("+Inf"), 6.0);
}

#[test]
fn http_bodies_protobuf_json_and_errors() {
    let store = MemStorage::new();
    let delta = DeltaState::default();
    let cfg = OtlpConfig::default();
    let req = request(
        vec![kv("service.name", "web")],
        vec![metric(
            "temp",
            "Cel",
            Data::Gauge(Gauge {
                data_points: vec![number(vec![], 21.5)],
            }),
        )],
    );
    let body = req.encode_to_vec();
    let reply = receive_http(
        &body,
        Some("application/x-protobuf"),
        None,
        &store,
        &delta,
        &cfg,
    )
    .unwrap();
    assert_eq!(reply.stats.samples_stored, 1);
    assert_eq!(reply.encoding, Encoding::Protobuf);
    let resp = ExportMetricsServiceResponse::decode(&reply.body[..]).unwrap();
    assert!(resp.partial_success.is_none());

    let json = r#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"j"}}]},
      "scopeMetrics":[{"metrics":[{"name":"queue.depth","gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asInt":"5"}]}}]}]}]}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, json.as_bytes()).unwrap();
    let reply = receive_http(
        &gz.finish().unwrap(),
        Some("application/json"),
        Some("gzip"),
        &store,
        &delta,
        &cfg,
    )
    .unwrap();
    assert_eq!(reply.encoding, Encoding::Json);
    let d = dump(&store);
    assert_eq!(value(&d, r#"queue_depth{job="j", service="j"}"#), 5.0);

    let e = receive_http(b"{", Some("application/json"), None, &store, &delta, &cfg).unwrap_err();
    assert_eq!(e.http_status(), 400);
    assert!(e.to_string().starts_with("json:"), "{e}");
    let e = receive_http(&body, Some("text/plain"), None, &store, &delta, &cfg).unwrap_err();
    assert_eq!(e.http_status(), 415);
    let e = receive_http(
        b"\xff\xff",
        Some("application/x-protobuf"),
        None,
        &store,
        &delta,
        &cfg,
    )
    .unwrap_err();
    assert_eq!(e.http_status(), 400);
    let tiny = OtlpConfig {
        max_body_bytes: 1,
        ..OtlpConfig::default()
    };
    let e = receive_http(
        &body,
        Some("application/x-protobuf"),
        None,
        &store,
        &delta,
        &tiny,
    )
    .unwrap_err();
    assert_eq!(e.http_status(), 413);
}

#[tokio::test]
async fn grpc_service_exports_and_reports_partial_success() {
    let store = MemStorage::new();
    let svc = OtlpMetricsService::new(
        std::sync::Arc::new(store.clone()),
        std::sync::Arc::new(DeltaState::default()),
        OtlpLimits::default(),
    );
    let req = request(
        vec![kv("service.name", "g")],
        vec![
            metric(
                "ok",
                "",
                Data::Gauge(Gauge {
                    data_points: vec![number(vec![], 1.0)],
                }),
            ),
            metric(
                "...",
                "",
                Data::Gauge(Gauge {
                    data_points: vec![number(vec![], 1.0)],
                }),
            ),
        ],
    );
    let resp = svc
        .export(tonic::Request::new(req))
        .await
        .unwrap()
        .into_inner();
    let ps = resp.partial_success.unwrap();
    assert_eq!(ps.rejected_data_points, 1);
    assert!(
        ps.error_message.contains("no valid characters"),
        "{}",
        ps.error_message
    );
    assert_eq!(value(&dump(&store), r#"ok{job="g", service="g"}"#), 1.0);
}
