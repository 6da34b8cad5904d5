//! Every route of the backend and the inventory, over real sockets on 127.0.0.1: the backend
//! talks to a real inventory service, so `/items/{id}` is tested end to end, 404 path included.

use serde_json::Value;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A backend and its inventory, serving until dropped.
struct Demo {
    backend: String,
    inventory: String,
    _stop: Vec<oneshot::Sender<()>>,
}

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

async fn start() -> Demo {
    let (inventory_listener, inventory_addr) = listener().await;
    let (backend_listener, backend_addr) = listener().await;
    let (stop_inventory, inventory_stopped) = oneshot::channel::<()>();
    let (stop_backend, backend_stopped) = oneshot::channel::<()>();
    tokio::spawn(demo::serve_inventory(inventory_listener, async {
        let _ = inventory_stopped.await;
    }));
    let config =
        demo::BackendConfig::new(&format!("http://{inventory_addr}")).expect("inventory URL");
    tokio::spawn(demo::serve_backend(backend_listener, config, async {
        let _ = backend_stopped.await;
    }));
    Demo {
        backend: format!("http://{backend_addr}"),
        inventory: format!("http://{inventory_addr}"),
        _stop: vec![stop_inventory, stop_backend],
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = client().get(url).send().await.expect("request");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.expect("JSON body");
    (status, body)
}

#[tokio::test]
async fn root_and_health_answer_ok() {
    let demo = start().await;
    let (status, body) = get_json(&format!("{}/", demo.backend)).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert!(body["message"].is_string());
    for base in [&demo.backend, &demo.inventory] {
        let (status, body) = get_json(&format!("{base}/health")).await;
        assert_eq!((status, &body["status"]), (200, &Value::from("ok")));
    }
}

#[tokio::test]
async fn items_come_with_stock_from_the_inventory() {
    let demo = start().await;
    let (status, body) = get_json(&format!("{}/items/3", demo.backend)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], 3);
    assert_eq!(body["name"], "item-3");
    let stock = body["stock"].as_u64().expect("numeric stock");
    assert!((1..=100).contains(&stock));
    assert_eq!(body["fingerprint"].as_str().map(str::len), Some(16));
    // The same stock straight from the inventory.
    let (status, direct) = get_json(&format!("{}/stock/3", demo.inventory)).await;
    assert_eq!(status, 200);
    assert_eq!(direct["stock"].as_u64(), Some(stock));
}

#[tokio::test]
async fn ids_divisible_by_seven_are_404_in_both_services() {
    let demo = start().await;
    for id in [0, 7, 49] {
        let (status, body) = get_json(&format!("{}/items/{id}", demo.backend)).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["detail"], format!("item {id} not found"));
        let (status, _) = get_json(&format!("{}/stock/{id}", demo.inventory)).await;
        assert_eq!(status, 404);
    }
}

#[tokio::test]
async fn a_bad_id_is_422_naming_it() {
    let demo = start().await;
    for base in [
        format!("{}/items", demo.backend),
        format!("{}/stock", demo.inventory),
    ] {
        let (status, body) = get_json(&format!("{base}/abc")).await;
        assert_eq!(status, 422);
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("\"abc\""), "{detail}");
    }
}

#[tokio::test]
async fn an_unreachable_inventory_is_502() {
    let (backend_listener, backend_addr) = listener().await;
    // A port that was just free: nothing listens there.
    let (closed, closed_addr) = listener().await;
    drop(closed);
    let config = demo::BackendConfig::new(&format!("http://{closed_addr}")).expect("URL");
    tokio::spawn(demo::serve_backend(
        backend_listener,
        config,
        std::future::pending(),
    ));
    let (status, body) = get_json(&format!("http://{backend_addr}/items/1")).await;
    assert_eq!(status, 502);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("inventory unreachable"), "{detail}");
}

#[tokio::test]
async fn error_is_500_and_fail_cycles_client_errors() {
    let demo = start().await;
    let (status, body) = get_json(&format!("{}/error", demo.backend)).await;
    assert_eq!(status, 500);
    assert!(body["detail"].is_string());
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let (status, body) = get_json(&format!("{}/fail", demo.backend)).await;
        assert!(body["detail"].is_string());
        statuses.push(status);
    }
    assert_eq!(statuses, [400, 401, 403, 422, 400, 401, 403, 422]);
}

#[tokio::test]
async fn slow_sleeps_between_half_a_second_and_two() {
    let demo = start().await;
    let (status, body) = get_json(&format!("{}/slow", demo.backend)).await;
    assert_eq!(status, 200);
    let slept = body["slept_ms"].as_u64().expect("slept_ms");
    assert!((500..=2000).contains(&slept), "{slept}");
}

#[tokio::test]
async fn a_panic_does_not_stop_the_server() {
    let demo = start().await;
    let answer = client().get(format!("{}/panic", demo.backend)).send().await;
    // Without a panic catcher the connection is dropped; with one the answer is a 500.
    if let Ok(response) = answer {
        assert_eq!(response.status().as_u16(), 500);
    }
    let (status, _) = get_json(&format!("{}/health", demo.backend)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn openapi_lists_every_route() {
    let demo = start().await;
    let (status, doc) = get_json(&format!("{}/openapi.json", demo.backend)).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().expect("paths object");
    for path in [
        "/",
        "/items/{id}",
        "/slow",
        "/error",
        "/fail",
        "/panic",
        "/health",
        "/openapi.json",
        "/docs",
    ] {
        let op = &paths.get(path).unwrap_or(&Value::Null)["get"];
        assert!(op["summary"].is_string(), "{path} is missing");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
    }
    let (status, doc) = get_json(&format!("{}/openapi.json", demo.inventory)).await;
    assert_eq!(status, 200);
    for path in ["/stock/{id}", "/health", "/openapi.json"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} is missing");
    }
}

#[tokio::test]
async fn docs_is_a_self_contained_page() {
    let demo = start().await;
    let response = client()
        .get(format!("{}/docs", demo.backend))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.expect("body");
    assert!(page.contains("openapi.json"));
    assert!(page.contains("Try it"));
    for external in ["http://", "https://", "src=", "<link"] {
        assert!(!page.contains(external), "the page contains {external:?}");
    }
}

#[tokio::test]
async fn shutdown_finishes_a_request_in_flight() {
    let (inventory_listener, _) = listener().await;
    let (stop, stopped) = oneshot::channel::<()>();
    let (backend_listener, backend_addr) = listener().await;
    let config = demo::BackendConfig::new("http://127.0.0.1:1").expect("URL");
    drop(inventory_listener);
    let server = tokio::spawn(demo::serve_backend(backend_listener, config, async {
        let _ = stopped.await;
    }));
    let slow = tokio::spawn(get_json_owned(format!("http://{backend_addr}/slow")));
    let (status, _) = get_json(&format!("http://{backend_addr}/health")).await;
    assert_eq!(status, 200);
    // Give the slow request time to be accepted (it then sleeps at least 500 ms).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let _ = stop.send(());
    let (status, body) = slow.await.expect("slow request task");
    assert_eq!(status, 200);
    assert!(body["slept_ms"].is_u64());
    let served = server.await.expect("server task");
    assert!(served.is_ok(), "{served:?}");
}

async fn get_json_owned(url: String) -> (u16, Value) {
    get_json(&url).await
}
