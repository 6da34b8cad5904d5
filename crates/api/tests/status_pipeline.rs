//! `/api/v1/status/{config,runtimeinfo,flags,tsdb}` and `/api/tetrad/pipeline` over a real store.

mod common;

use api::status::StatusInfo;
use api::{ApiState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use model::Labels;
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;
use tsdb::{Appendable, Db, DbOptions};

fn state(db: &Arc<Db>) -> ApiState {
    common::state_over(db.clone()).with_head_status(db.clone())
}

fn open() -> (tempfile::TempDir, Arc<Db>) {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        max_future_ms: i64::MAX / 2,
        retention_ms: 0,
        ..DbOptions::default()
    };
    let db = Arc::new(Db::open(dir.path(), opts).unwrap());
    (dir, db)
}

async fn call(app: axum::Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    (status, json)
}

async fn get(st: ApiState, uri: &str) -> serde_json::Value {
    let (status, body) = call(router(st), Request::get(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    assert_eq!(body["status"], "success", "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn config_is_prometheus_yaml_with_secrets_redacted() {
    let (_dir, db) = open();
    let job: collector::scrape::ScrapeConfig = serde_json::from_str(
        r#"{"job_name": "app", "basic_auth": {"username": "u", "password": "hunter2"},
            "static_configs": [{"targets": ["127.0.0.1:9"]}]}"#,
    )
    .unwrap();
    let st = state(&db).with_status(StatusInfo {
        scrape_configs: vec![job],
        ..Default::default()
    });
    let data = get(st, "/api/v1/status/config").await;
    let yaml = data["yaml"].as_str().unwrap();
    assert!(
        yaml.starts_with("global:\n  scrape_interval: 15s\n"),
        "{yaml}"
    );
    assert!(yaml.contains("- job_name: app\n"), "{yaml}");
    assert!(yaml.contains("    password: <secret>\n"), "{yaml}");
    assert!(!yaml.contains("hunter2"), "{yaml}");
}

#[tokio::test]
async fn runtimeinfo_and_flags_have_prometheus_fields() {
    let (_dir, db) = open();
    let mut flags = BTreeMap::new();
    flags.insert("data-dir".to_string(), "/var/lib/tetrad".to_string());
    let st = state(&db).with_status(StatusInfo {
        storage_retention: "15d".into(),
        cwd: "/srv".into(),
        flags,
        ..Default::default()
    });
    let info = get(st.clone(), "/api/v1/status/runtimeinfo").await;
    assert_eq!(info["CWD"], "/srv");
    assert_eq!(info["storageRetention"], "15d");
    assert_eq!(info["reloadConfigSuccess"], true);
    assert_eq!(info["corruptionCount"], 0);
    assert_eq!(info["GOGC"], "");
    assert_eq!(info["GODEBUG"], "");
    assert!(info["GOMAXPROCS"].as_u64().unwrap() >= 1);
    assert!(info["goroutineCount"].is_u64());
    let start = info["startTime"].as_str().unwrap();
    assert!(start.ends_with('Z') && start.contains('T'), "{start}");
    let last = info["lastConfigTime"].as_str().unwrap();
    assert!(!last.contains('.'), "whole seconds: {last}");
    let flags = get(st, "/api/v1/status/flags").await;
    assert_eq!(flags, serde_json::json!({"data-dir": "/var/lib/tetrad"}));
}

#[tokio::test]
async fn tsdb_status_reports_head_and_cardinality() {
    let (_dir, db) = open();
    let empty = get(state(&db), "/api/v1/status/tsdb").await;
    // An empty head reports Prometheus' sentinel times.
    assert_eq!(empty["headStats"]["minTime"], i64::MAX);
    assert_eq!(empty["headStats"]["maxTime"], i64::MIN);
    assert_eq!(empty["seriesCountByMetricName"], serde_json::json!([]));

    let mut app = db.appender();
    for i in 0..3 {
        let l = Labels::from_pairs([
            ("__name__", "http_requests_total"),
            ("path", ["/a", "/b", "/c"][i]),
        ]);
        app.append(&l, 1_000, 1.0).unwrap();
    }
    app.append(&Labels::from_pairs([("__name__", "up")]), 2_000, 1.0)
        .unwrap();
    app.commit().unwrap();
    let data = get(state(&db), "/api/v1/status/tsdb").await;
    let head = &data["headStats"];
    assert_eq!(head["numSeries"], 4);
    assert_eq!(head["numLabelPairs"], 5);
    assert_eq!(head["minTime"], 1_000);
    assert_eq!(head["maxTime"], 2_000);
    assert!(head["chunkCount"].as_u64().unwrap() >= 4);
    assert_eq!(
        data["seriesCountByMetricName"],
        serde_json::json!([
            {"name": "http_requests_total", "value": 3},
            {"name": "up", "value": 1}
        ])
    );
    assert_eq!(
        data["labelValueCountByLabelName"][0],
        serde_json::json!({"name": "path", "value": 3})
    );
    assert_eq!(
        data["seriesCountByLabelValuePair"][0],
        serde_json::json!({"name": "__name__=http_requests_total", "value": 3})
    );
    assert!(data["memoryInBytesByLabelName"].is_array());
}

fn component<'a>(data: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    data["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no component {id} in {data}"))
}

#[tokio::test]
async fn pipeline_lists_receivers_services_and_store() {
    let (_dir, db) = open();
    let st = state(&db);
    // A bad remote-write body is a failed request; a Loki push is two records.
    let (status, _) = call(
        router(st.clone()),
        Request::post("/api/v1/write")
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "snappy")
            .body(Body::from("not snappy"))
            .unwrap(),
    )
    .await;
    assert!(status.is_client_error(), "{status}");
    // The same two-line Loki push, sent without and then with a log sink.
    let loki_push = || {
        Request::post("/loki/api/v1/push")
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"streams":[{"stream":{"service":"web"},"values":[["1","a"],["2","b"]]}]}"#,
            ))
            .unwrap()
    };
    let (status, _) = call(router(st.clone()), loki_push()).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "no sink configured"
    );
    let sink = Arc::new(logs::MemoryLogSink::new(100, 1 << 20));
    let st = st.with_logs(sink.clone(), Some(sink));
    let (status, _) = call(router(st.clone()), loki_push()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    st.projects
        .register(
            "dev",
            serde_json::from_value(serde_json::json!({
                "ttl_seconds": 60,
                "services": [{
                    "name": "web", "replicas_desired": 2,
                    "replicas": [
                        {"instance": "web-1", "state": "running", "restarts": 0},
                        {"instance": "web-2", "state": "backoff", "restarts": 3,
                         "last_exit": "exit code 1"}
                    ]
                }]
            }))
            .unwrap(),
        )
        .unwrap();
    let mut app = db.appender();
    app.append(&Labels::from_pairs([("__name__", "up")]), 1_000, 1.0)
        .unwrap();
    app.commit().unwrap();

    let data = get(st.clone(), "/api/tetrad/pipeline").await;
    let rw = component(&data, "receiver.remote_write");
    assert_eq!(rw["kind"], "receiver");
    assert_eq!(rw["state"], "down");
    assert_eq!(rw["errors"], 1);
    assert_eq!(rw["detail"]["requests"], "1");
    assert!(rw["throughput"].is_null(), "no rate from one observation");
    let loki = component(&data, "receiver.loki_push");
    // One refused push (no sink) and one accepted: degraded.
    assert_eq!(loki["state"], "degraded");
    assert_eq!(loki["detail"]["records"], "2");
    assert_eq!(loki["unit"], "records/s");
    let grpc = component(&data, "receiver.otlp_grpc");
    assert_eq!(grpc["state"], "healthy");
    assert_eq!(grpc["detail"]["requests"], "0");
    let web = component(&data, "service.dev/web");
    assert_eq!(web["state"], "degraded");
    assert_eq!(web["errors"], 3);
    assert_eq!(web["detail"]["replicas"], "1");
    assert_eq!(web["detail"]["replicas_desired"], "2");
    assert_eq!(web["detail"]["last_exit"], "exit code 1");
    let store = component(&data, "store.metrics");
    assert_eq!(store["state"], "healthy");
    assert_eq!(store["detail"]["head_series"], "1");
    assert_eq!(store["detail"]["samples_appended"], "1");
}

#[tokio::test]
async fn grpc_observer_counts_into_the_pipeline() {
    let (_dir, db) = open();
    let st = state(&db);
    let observe = api::pipeline::receiver_observer(st.self_metrics.clone(), "otlp_grpc");
    observe(Some(5));
    observe(Some(7));
    observe(None);
    let data = get(st, "/api/tetrad/pipeline").await;
    let grpc = component(&data, "receiver.otlp_grpc");
    assert_eq!(grpc["detail"]["samples"], "12");
    assert_eq!(grpc["detail"]["requests"], "3");
    assert_eq!(grpc["errors"], 1);
    assert_eq!(grpc["state"], "degraded");
}
