//! The status endpoints and the pipeline view of the real binary: the server hands them its
//! effective config (secrets redacted), settings and store.

mod common;

use common::{Tetrad, get_json};
use std::time::{Duration, Instant};

#[test]
fn status_endpoints_report_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tetrad.yaml");
    std::fs::write(
        &file,
        "global:\n  scrape_interval: 1s\nretention:\n  metrics: 3d\nscrape_configs:\n  - job_name: locked\n    basic_auth: {username: u, password: hunter2}\n    static_configs:\n      - targets: ['127.0.0.1:9']\n",
    )
    .unwrap();
    let f = file.to_string_lossy().to_string();
    let t = Tetrad::start(&dir.path().join("data"), &["-f", &f]);

    let (status, v) = get_json(&format!("{}/api/v1/status/config", t.http));
    assert_eq!(status, 200, "{v}");
    let yaml = v["data"]["yaml"].as_str().unwrap_or_default();
    assert!(yaml.contains("- job_name: locked\n"), "{yaml}");
    assert!(yaml.contains("    password: <secret>\n"), "{yaml}");
    assert!(!yaml.contains("hunter2"), "{yaml}");
    // tetrad's own scrape job is part of the effective config.
    assert!(yaml.contains("- job_name: tetrad\n"), "{yaml}");

    let (_, v) = get_json(&format!("{}/api/v1/status/runtimeinfo", t.http));
    assert_eq!(v["data"]["storageRetention"], "3d", "{v}");
    let (_, v) = get_json(&format!("{}/api/v1/status/flags", t.http));
    assert_eq!(v["data"]["retention"], "3d", "{v}");
    assert_eq!(v["data"]["file"], f.as_str(), "{v}");
    assert!(
        v["data"]["http-addr"]
            .as_str()
            .is_some_and(|a| t.http.ends_with(a)),
        "{v}"
    );

    // Once tetrad scraped itself, the store and the scrape jobs show in the pipeline.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) = get_json(&format!("{}/api/tetrad/pipeline", t.http));
        let components = v["data"]["components"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let find = |id: &str| components.iter().find(|c| c["id"] == id).cloned();
        let own = find("scrape.tetrad");
        let locked = find("scrape.locked");
        let store = find("store.metrics");
        if let (Some(own), Some(locked), Some(store)) = (own, locked, store)
            && own["state"] == "healthy"
            && locked["state"] == "down"
            && store["detail"]["head_series"] != "0"
        {
            assert_eq!(locked["errors"], 1, "{locked}");
            assert!(find("receiver.otlp_grpc").is_some(), "{v}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pipeline never showed the scrapes: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let (_, v) = get_json(&format!("{}/api/v1/status/tsdb", t.http));
    assert!(
        v["data"]["headStats"]["numSeries"].as_u64().unwrap_or(0) > 0,
        "{v}"
    );
    let names: Vec<&str> = v["data"]["seriesCountByMetricName"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(names.contains(&"up"), "{v}");
}
