//! `POST /api/v1/admin/tsdb/snapshot` over a real store.

mod common;

use api::{ApiState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use model::Labels;
use std::sync::Arc;
use tower::ServiceExt;
use tsdb::{Appendable, Db, DbOptions};

fn state(db: &Arc<Db>) -> ApiState {
    common::state_over(db.clone())
}

fn opts() -> DbOptions {
    DbOptions {
        max_future_ms: i64::MAX / 2,
        retention_ms: 0,
        ..DbOptions::default()
    }
}

async fn post(st: ApiState, uri: &str) -> (StatusCode, serde_json::Value) {
    let req = Request::post(uri).body(Body::empty()).unwrap();
    let resp = router(st).oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

fn count_samples(db: &Db) -> usize {
    use tsdb::Queryable;
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = [model::Matcher::new(model::MatchOp::Regex, "__name__", ".+").unwrap()];
    q.select(&tsdb::SelectHints::default(), &m)
        .map(|s| s.unwrap().samples.len())
        .sum()
}

#[tokio::test]
async fn snapshot_names_a_dir_that_opens_with_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(dir.path(), opts()).unwrap());
    let mut app = db.appender();
    for i in 0..100 {
        let l = Labels::from_pairs([("__name__", "m"), ("i", &*(i % 7).to_string())]);
        app.append(&l, i * 15_000, i as f64).unwrap();
    }
    app.commit().unwrap();
    let st = state(&db).with_snapshotter(db.clone());

    let (status, body) = post(st.clone(), "/api/v1/admin/tsdb/snapshot").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "success");
    let name = body["data"]["name"].as_str().unwrap();
    let snap = Db::open(&dir.path().join("snapshots").join(name), opts()).unwrap();
    assert_eq!(count_samples(&snap), 100);
    drop(snap);

    let (status, body) = post(st.clone(), "/api/v1/admin/tsdb/snapshot?skip_head=true").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let name = body["data"]["name"].as_str().unwrap();
    let snap = Db::open(&dir.path().join("snapshots").join(name), opts()).unwrap();
    assert_eq!(count_samples(&snap), 0);

    let (status, body) = post(st, "/api/v1/admin/tsdb/snapshot?skip_head=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorType"], "bad_data");
    assert_eq!(
        body["error"],
        "invalid parameter \"skip_head\": strconv.ParseBool: parsing \"maybe\": invalid syntax"
    );
}

#[tokio::test]
async fn without_a_snapshotter_admin_is_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(dir.path(), opts()).unwrap());
    let (status, body) = post(state(&db), "/api/v1/admin/tsdb/snapshot").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["errorType"], "unavailable");
    assert_eq!(body["error"], "admin APIs disabled");
}
