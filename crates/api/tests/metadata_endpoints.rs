//! Series, labels, label values, metadata and exemplars endpoints over the in-memory store.

mod common;

use api::{ApiState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use model::{Exemplar, Labels, Metadata, MetricType};
use std::sync::Arc;
use tower::ServiceExt;
use tsdb::Appendable;
use tsdb::mem::MemStorage;

fn state(store: &MemStorage) -> ApiState {
    common::state_over(Arc::new(store.clone()))
}

fn fixture() -> MemStorage {
    let s = MemStorage::new();
    let mut app = s.appender();
    for (job, path) in [("api", "/a"), ("api", "/b"), ("web", "/a")] {
        let l = Labels::from_pairs([
            ("__name__", "http_requests_total"),
            ("job", job),
            ("path", path),
        ]);
        app.append(&l, 1_000, 1.0).unwrap();
        app.append(&l, 2_000, 2.0).unwrap();
    }
    let up = Labels::from_pairs([("__name__", "up"), ("job", "api")]);
    app.append(&up, 1_000, 1.0).unwrap();
    app.append_exemplar(
        &Labels::from_pairs([
            ("__name__", "http_requests_total"),
            ("job", "api"),
            ("path", "/a"),
        ]),
        &Exemplar {
            labels: Labels::from_pairs([("trace_id", "abc")]),
            value: 0.25,
            t: 1_500,
        },
    )
    .unwrap();
    app.update_metadata(
        "http_requests_total",
        &Metadata {
            metric_type: MetricType::Counter,
            help: "Requests.".into(),
            unit: String::new(),
        },
    )
    .unwrap();
    app.commit().unwrap();
    s
}

async fn call(store: &MemStorage, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let resp = router(state(store)).oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

async fn get(store: &MemStorage, uri: &str) -> (StatusCode, serde_json::Value) {
    call(store, Request::get(uri).body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn series_union_of_matchers_sorted() {
    let s = fixture();
    let (st, v) = get(
        &s,
        "/api/v1/series?match[]=http_requests_total%7Bpath%3D%22%2Fa%22%7D&match[]=up",
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v["data"],
        serde_json::json!([
            {"__name__": "http_requests_total", "job": "api", "path": "/a"},
            {"__name__": "http_requests_total", "job": "web", "path": "/a"},
            {"__name__": "up", "job": "api"},
        ])
    );
}

#[tokio::test]
async fn series_by_post_form() {
    let s = fixture();
    let req = Request::post("/api/v1/series")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(Body::from("match[]=up"))
        .unwrap();
    let (st, v) = call(&s, req).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn labels_and_values() {
    let s = fixture();
    let (_, v) = get(&s, "/api/v1/labels").await;
    assert_eq!(v["data"], serde_json::json!(["__name__", "job", "path"]));
    let (_, v) = get(&s, "/api/v1/labels?match[]=up").await;
    assert_eq!(v["data"], serde_json::json!(["__name__", "job"]));
    let (_, v) = get(&s, "/api/v1/label/job/values").await;
    assert_eq!(v["data"], serde_json::json!(["api", "web"]));
    let (_, v) = get(&s, "/api/v1/label/__name__/values").await;
    assert_eq!(v["data"], serde_json::json!(["http_requests_total", "up"]));
    // Time range excludes everything.
    let (_, v) = get(&s, "/api/v1/label/job/values?start=100&end=200").await;
    assert_eq!(v["data"], serde_json::json!([]));
}

#[tokio::test]
async fn bad_selector_is_bad_data() {
    let s = fixture();
    let (st, v) = get(&s, "/api/v1/series?match[]=up%7B").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["status"], "error");
    assert_eq!(v["errorType"], "bad_data");
    // Texts recorded from Prometheus 2.42.
    assert_eq!(
        v["error"],
        "invalid parameter \"match[]\": 1:4: parse error: unexpected end of input inside braces"
    );
    let (st, v) = get(&s, "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        "invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"
    );
    let (_, v) = get(&s, "/api/v1/labels?match[]=up%7B").await;
    assert_eq!(
        v["error"],
        "1:4: parse error: unexpected end of input inside braces"
    );
}

#[tokio::test]
async fn metadata_and_exemplars() {
    let s = fixture();
    let (_, v) = get(&s, "/api/v1/metadata").await;
    assert_eq!(
        v["data"],
        serde_json::json!({"http_requests_total": [{"type": "counter", "help": "Requests.", "unit": ""}]})
    );
    let (_, v) = get(&s, "/api/v1/metadata?metric=nope").await;
    assert_eq!(v["data"], serde_json::json!({}));
    let (st, v) = get(
        &s,
        "/api/v1/query_exemplars?query=rate(http_requests_total%5B5m%5D)&start=0&end=10",
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v["data"],
        serde_json::json!([{
            "seriesLabels": {"__name__": "http_requests_total", "job": "api", "path": "/a"},
            "exemplars": [{"labels": {"trace_id": "abc"}, "value": "0.25", "timestamp": 1.5}]
        }])
    );
}
