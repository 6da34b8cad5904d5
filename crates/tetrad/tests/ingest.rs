//! Metrics in through remote-write and scraping, out through the query API; bad pushes get
//! clear errors and lose nothing already stored.

mod common;

use common::*;
use std::time::{Duration, Instant};

fn series(name: &str, job: &str, points: Vec<(i64, f64)>) -> PushSeries {
    (
        vec![("__name__", name.to_string()), ("job", job.to_string())],
        points,
    )
}

#[test]
fn remote_write_then_query() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tetrad::start(&dir.path().join("data"), &[]);
    let now = now_ms() / 1000 * 1000;
    let pts = |k: f64| {
        (0..10)
            .map(|i| (now - 90_000 + i * 10_000, k * i as f64))
            .collect()
    };
    let body = remote_write_body(&[
        series("rw_requests_total", "api", pts(1.0)),
        series("rw_requests_total", "web", pts(2.0)),
    ]);
    let (st, text) = push(&t.http, &body);
    assert_eq!(st, 204, "{text}");

    // Raw samples come back exactly.
    let d = query(&t.http, "rw_requests_total{job=\"web\"}[5m]", now);
    assert_eq!(d["resultType"], "matrix");
    let values = d["result"][0]["values"].as_array().unwrap();
    assert_eq!(values.len(), 10);
    assert_eq!(values[9][1], "18");
    // An aggregation over both: rate of 1/10 s and 2/10 s.
    let d = query(&t.http, "sum(rate(rw_requests_total[1m]))", now);
    let v: f64 = d["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((v - 0.3).abs() < 1e-9, "{v}");

    let (_, v) = get_json(&format!("{}/api/v1/label/job/values", t.http));
    let jobs: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str())
        .collect();
    assert!(jobs.contains(&"api") && jobs.contains(&"web"), "{jobs:?}");
}

#[test]
fn bad_pushes_get_clear_errors_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tetrad::start(&dir.path().join("data"), &["--log-level", "warn"]);
    let now = now_ms() / 1000 * 1000;
    let good = remote_write_body(&[series("kept_total", "a", vec![(now - 1000, 1.0)])]);
    assert_eq!(push(&t.http, &good).0, 204);

    // Truncated snappy.
    let (st, text) = push(&t.http, &good[..good.len() / 2]);
    assert_eq!(st, 400, "{text}");
    assert!(text.contains("snappy"), "{text}");
    // Not snappy at all.
    let (st, _) = push(&t.http, b"hello world");
    assert_eq!(st, 400);
    // Invalid metric name: the error names it.
    let bad = remote_write_body(&[series("1bad-name", "a", vec![(now, 1.0)])]);
    let (st, text) = push(&t.http, &bad);
    assert_eq!(st, 400, "{text}");
    assert!(text.contains("1bad-name"), "{text}");
    // Duplicate label names.
    let dup = remote_write_body(&[(
        vec![
            ("__name__", "d".into()),
            ("a", "1".into()),
            ("a", "2".into()),
        ],
        vec![(now, 1.0)],
    )]);
    let (st, text) = push(&t.http, &dup);
    assert_eq!(st, 400, "{text}");
    assert!(text.contains("duplicate"), "{text}");
    // Far in the future.
    let future = remote_write_body(&[series("f_total", "a", vec![(now + 3_600_000, 1.0)])]);
    let (st, text) = push(&t.http, &future);
    assert_eq!(st, 400, "{text}");
    // Over the body limit (default 32 MiB): 413 naming the setting.
    // Refused on its declared length, before the body is sent (a server that answers while
    // the client still writes resets the connection, which would lose the answer).
    let (st, text) = declared_length_only(&t.http, "/api/v1/write", 33 << 20);
    assert_eq!(st, 413, "{text}");
    assert!(text.contains("max_push_body_bytes"), "{text}");

    // What was stored before is intact.
    let d = query(&t.http, "kept_total", now);
    assert_eq!(d["result"][0]["value"][1], "1");
}

#[test]
fn self_scrape_shows_up_in_targets_and_queries() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tetrad.yaml");
    std::fs::write(
        &file,
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n",
    )
    .unwrap();
    let f = file.to_string_lossy().to_string();
    let t = Tetrad::start(&dir.path().join("data"), &["-f", &f]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) = get_json(&format!("{}/api/v1/targets", t.http));
        let active = v["data"]["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(tg) = active.iter().find(|x| x["scrapePool"] == "tetrad")
            && tg["health"] == "up"
        {
            assert_eq!(tg["labels"]["job"], "tetrad");
            assert_eq!(tg["scrapeInterval"], "1s");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "self-scrape target never became up: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = query(&t.http, "up{job=\"tetrad\"}", now_ms());
        if d["result"][0]["value"][1] == "1" {
            let d = query(
                &t.http,
                "process_resident_memory_bytes{job=\"tetrad\"}",
                now_ms(),
            );
            let rss: f64 = d["result"][0]["value"][1]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(rss > 1e6, "{rss}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "up{{job=\"tetrad\"}} never 1: {d}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sends only the headers of a POST declaring `len` body bytes and reads the answer.
fn declared_length_only(base: &str, path: &str, len: usize) -> (u16, String) {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    // The server closes after its answer; a reset after a complete answer is fine too.
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}
