//! The real Prometheus 2.42 scrapes an instrumented service: it negotiates OpenMetrics, stores
//! the RED series under route templates, and keeps the exemplar that points at the request's
//! trace (the same trace id as the access line).

mod common;

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use common::{logfmt_map, serve};
use instrument::log::LogWriter;
use instrument::{Config, Telemetry};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the Prometheus we started when the test ends, however it ends.
struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls a Prometheus API URL until `done` accepts its JSON (at most ~60 s).
async fn poll(
    client: &reqwest::Client,
    url: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    for _ in 0..300 {
        if let Ok(r) = client.get(url).send().await
            && let Ok(v) = r.json::<serde_json::Value>().await
            && done(&v)
        {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

#[tokio::test]
async fn prometheus_scrapes_series_and_exemplars() {
    let (writer, log) = LogWriter::memory();
    let telemetry = Telemetry::new(Config::new("scraped").with_log_writer(writer)).unwrap();
    let app = telemetry.instrument(Router::new().route(
        "/items/{id}",
        get(|Path(id): Path<u32>| async move { format!("item {id}") }),
    ));
    let url = serve(app).await;
    let target = url.trim_start_matches("http://").to_string();

    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: app\n    static_configs: [{{targets: ['{target}']}}]\n"
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--enable-feature=exemplar-storage")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("log")).unwrap())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "Prometheus is needed for this test (apt-get install -y --no-install-recommends prometheus): {e}"
            )
        });
    let _prometheus = Killer(child);
    let api = format!("http://127.0.0.1:{port}/api/v1");
    let client = reqwest::Client::new();
    let prometheus_log = || std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();

    let r = client.get(format!("{url}/items/7")).send().await.unwrap();
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let access = log
        .lines()
        .into_iter()
        .map(|l| logfmt_map(&l))
        .find(|m| m.get("request_id") == Some(&request_id))
        .expect("access line");

    let query = format!(
        "{api}/query?query=http_requests_total%7Bjob%3D%22app%22%2Cpath%3D%22%2Fitems%2F%7Bid%7D%22%7D"
    );
    let v = poll(&client, &query, |v| {
        v["data"]["result"]
            .as_array()
            .is_some_and(|r| r.first().is_some_and(|s| s["value"][1] == "1"))
    })
    .await
    .unwrap_or_else(|| panic!("http_requests_total never reached 1\n{}", prometheus_log()));
    assert_eq!(v["data"]["result"][0]["metric"]["method"], "GET");

    let exemplars = format!(
        "{api}/query_exemplars?query=http_request_duration_seconds_bucket%7Bjob%3D%22app%22%7D&start=0&end=9999999999"
    );
    let want = access["trace_id"].clone();
    let v = poll(&client, &exemplars, |v| {
        v["data"].as_array().is_some_and(|series| {
            series.iter().any(|s| {
                s["exemplars"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["labels"]["trace_id"] == want.as_str()))
            })
        })
    })
    .await
    .unwrap_or_else(|| panic!("no exemplar with trace_id {want}\n{}", prometheus_log()));
    let series = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["exemplars"].as_array().is_some_and(|e| !e.is_empty()))
        .unwrap();
    assert_eq!(series["seriesLabels"]["path"], "/items/{id}");
    assert_eq!(
        series["exemplars"][0]["labels"]["span_id"],
        access["span_id"].as_str()
    );
}
