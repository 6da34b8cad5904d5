//! The embedded UI (content types, caching, SPA fallback that never shadows API paths) and the
//! dashboards API (built-in, provisioning folder, broken files).

mod common;

use api::dashboards::DashboardStore;
use api::{ApiState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::sync::Arc;
use tower::ServiceExt;
use tsdb::mem::MemStorage;

fn state() -> ApiState {
    common::state_over(Arc::new(MemStorage::new()))
}

struct Answer {
    status: StatusCode,
    content_type: String,
    cache_control: String,
    body: String,
}

async fn get_with(st: ApiState, uri: &str, method: &str) -> Answer {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let resp = router(st).oneshot(req).await.unwrap();
    let header_text = |name| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let content_type = header_text(header::CONTENT_TYPE);
    let cache_control = header_text(header::CACHE_CONTROL);
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 8 << 20)
        .await
        .unwrap();
    Answer {
        status,
        content_type,
        cache_control,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn get(uri: &str) -> Answer {
    get_with(state(), uri, "GET").await
}

#[tokio::test]
async fn ui_routes_get_index_html_without_caching() {
    for path in [
        "/",
        "/d/service",
        "/explore?expr=up",
        "/targets",
        "/no/such/page",
    ] {
        let a = get(path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(a.content_type, "text/html; charset=utf-8", "{path}");
        assert_eq!(a.cache_control, "no-cache", "{path}");
        assert!(a.body.contains("<div id=\"app\">"), "{path}: {}", a.body);
    }
}

#[tokio::test]
async fn hashed_assets_are_served_with_types_and_cached_forever() {
    let index = get("/").await.body;
    // Vite names the bundles in index.html: /assets/index-<hash>.js and .css.
    let asset = |ext: &str| {
        index
            .split('"')
            .find(|s| s.starts_with("/assets/") && s.ends_with(ext))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no {ext} asset in {index}"))
    };
    let js = get(&asset(".js")).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.content_type, "text/javascript; charset=utf-8");
    assert_eq!(js.cache_control, "public, max-age=31536000, immutable");
    let css = get(&asset(".css")).await;
    assert_eq!(css.content_type, "text/css; charset=utf-8");
    // A missing file is a 404, not the app (a stale bundle must fail visibly).
    assert_eq!(
        get("/assets/gone-123.js").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn api_paths_are_never_shadowed_by_the_ui() {
    for path in [
        "/api/v1/nope",
        "/api/tetrad/nope",
        "/loki/api/v1/nope",
        "/metrics/extra",
        "/-/nope",
        "/v1/nope",
    ] {
        let a = get(path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!a.body.contains("<html"), "{path}: {}", a.body);
    }
    // Real API routes still answer.
    let q = get("/api/v1/query?query=1").await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(q.body.contains("\"resultType\":\"scalar\""), "{}", q.body);
    assert_eq!(get("/-/healthy").await.status, StatusCode::OK);
    // Only GET and HEAD reach the UI.
    let post = get_with(state(), "/explore", "POST").await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dashboards_list_and_get_the_builtin() {
    let a = get("/api/tetrad/dashboards").await;
    assert_eq!(a.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"][0]["uid"], "service");
    assert_eq!(v["data"][0]["source"], "built-in");
    let d = get("/api/tetrad/dashboards/service").await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.content_type, "application/json");
    assert_eq!(d.body, api::dashboards::BUILTIN_SERVICE);
    let missing = get("/api/tetrad/dashboards/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let e: serde_json::Value = serde_json::from_str(&missing.body).unwrap();
    assert_eq!(e["errorType"], "not_found");
}

#[tokio::test]
async fn dashboards_from_a_folder_with_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        r#"{"uid":"good","title":"Good <b>one</b>","tags":["a"]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.json"), r#"{"uid": "bad", "#).unwrap();
    let st = state().with_dashboards(Arc::new(DashboardStore::with_folder(
        dir.path().to_path_buf(),
    )));
    let a = get_with(st.clone(), "/api/tetrad/dashboards", "GET").await;
    assert_eq!(a.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    let list = v["data"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{list:?}");
    let bad = list.iter().find(|d| d["uid"] == "bad").unwrap();
    assert!(
        bad["error"].as_str().unwrap().contains("invalid JSON"),
        "{bad}"
    );
    let good = get_with(st.clone(), "/api/tetrad/dashboards/good", "GET").await;
    assert_eq!(
        good.body,
        r#"{"uid":"good","title":"Good <b>one</b>","tags":["a"]}"#
    );
    let broken = get_with(st, "/api/tetrad/dashboards/bad", "GET").await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert!(broken.body.contains("bad.json"), "{}", broken.body);
}
