//! `tetrad load` against the real demo services, each started as `tetrad demo-service` on free
//! loopback ports: the summary counts every endpoint and all of 2xx, 4xx and 5xx; bad arguments
//! are clear errors; a demo service stops gracefully on SIGTERM; and the demo stack run by
//! `tetrad up` under load ends up in the server's metrics, every endpoint labelled with its
//! project, service and instance.

mod common;

use common::terminate;
use std::io::Read;
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A `tetrad demo-service` process, killed (by its PID) when dropped.
struct Service {
    child: Child,
    port: u16,
}

impl Service {
    fn start(kind: &str, env: &[(&str, String)]) -> Service {
        let port = common::free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tetrad"));
        cmd.args(["demo-service", kind])
            .env("PORT", port.to_string())
            .env_remove("INVENTORY_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child = cmd.spawn().expect("starting tetrad demo-service");
        let service = Service { child, port };
        service.wait_listening();
        service
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_listening(&self) {
        Service::wait_for_port(self.port);
    }

    /// Waits until something listens on `port` (at most 60 s).
    fn wait_for_port(port: u16) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("nothing listens on port {port}");
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The backend with an inventory behind it.
fn demo_stack() -> (Service, Service) {
    let inventory = Service::start("inventory", &[]);
    let backend = Service::start("backend", &[("INVENTORY_URL", inventory.url())]);
    (inventory, backend)
}

fn tetrad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tetrad"))
        .args(args)
        .env_remove("TETRAD_FILE")
        .output()
        .expect("running tetrad")
}

/// The words of the summary row for `endpoint`: label, requests, 2xx, 4xx, 5xx, errors,
/// then `status:count` pairs.
fn row(summary: &str, endpoint: &str) -> Vec<String> {
    summary
        .lines()
        .map(|line| {
            line.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .find(|words| words.first().map(String::as_str) == Some(endpoint))
        .unwrap_or_else(|| panic!("no row for {endpoint} in:\n{summary}"))
}

fn number(words: &[String], column: usize) -> u64 {
    words
        .get(column)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("column {column} of {words:?} is not a number"))
}

/// A GET over a fresh connection; the whole answer, headers included.
fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n");
    std::io::Write::write_all(&mut stream, request.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

/// Waits until the service reports a request to `route` in progress (its in-progress gauge),
/// so a signal sent next finds it being served rather than still queued for accept.
fn wait_in_progress(port: u16, route: &str) {
    let series = format!("http_requests_in_progress{{method=\"GET\",path=\"{route}\"}} 1");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if http_get(port, "/metrics").lines().any(|l| l == series) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no request to {route} in progress on port {port}");
}

#[test]
fn load_covers_every_endpoint_and_status_class() {
    let (_inventory, backend) = demo_stack();
    let url = backend.url();
    let out = tetrad(&["load", "50", &url, "--duration", "2s"]);
    let summary = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{summary}\n{stderr}");
    // About 100 requests in 2 s at 50/s: each endpoint's share of the 40-request cycle shows up.
    let endpoints = [
        "/",
        "/items/{id}",
        "/health",
        "/slow",
        "/fail",
        "/error",
        "/panic",
    ];
    let mut total = 0;
    for endpoint in endpoints {
        let words = row(&summary, endpoint);
        let requests = number(&words, 1);
        assert!(requests > 0, "{endpoint} was never called:\n{summary}");
        let by_class = number(&words, 2) + number(&words, 3) + number(&words, 4);
        assert_eq!(requests, by_class + number(&words, 5), "{words:?}");
        total += requests;
    }
    let first_line = summary.lines().next().unwrap_or_default();
    assert!(
        first_line.starts_with(&format!("tetrad load: {total} requests to {url}")),
        "{first_line}"
    );
    assert!(number(&row(&summary, "/"), 2) > 0, "no 2xx:\n{summary}");
    assert!(number(&row(&summary, "/fail"), 3) > 0, "no 4xx:\n{summary}");
    assert!(
        number(&row(&summary, "/error"), 4) > 0,
        "no 5xx:\n{summary}"
    );
    // The panic is caught by the instrumentation: a 500, not a dropped connection.
    let panics = row(&summary, "/panic");
    assert_eq!(number(&panics, 4), number(&panics, 1), "{panics:?}");
    // The inventory's missing items come back as the backend's 404s.
    let items = row(&summary, "/items/{id}");
    assert!(items.iter().any(|w| w.starts_with("404:")), "{items:?}");
    assert!(items.iter().any(|w| w.starts_with("200:")), "{items:?}");
    for line in ["answers:", "latency ms:", "connection errors:"] {
        assert!(summary.contains(line), "no {line:?} in:\n{summary}");
    }
}

/// The number after `label` in the summary.
fn count_after(summary: &str, label: &str) -> u64 {
    summary
        .split(label)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in:\n{summary}"))
}

#[test]
fn full_slots_are_skipped_and_slow_answers_time_out() {
    let (_inventory, backend) = demo_stack();
    let url = backend.url();
    // One slot: while the mix's first /slow (0.5-2 s, 8th request) runs, every tick is skipped.
    let out = tetrad(&[
        "load",
        "50",
        &url,
        "--duration",
        "1s",
        "--max-in-flight",
        "1",
    ]);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{summary}");
    let skipped = count_after(&summary, "skipped (in-flight limit reached):");
    assert!(skipped > 0, "{summary}");
    let sent = count_after(&summary, "tetrad load:");
    let rows: u64 = [
        "/",
        "/items/{id}",
        "/health",
        "/slow",
        "/fail",
        "/error",
        "/panic",
    ]
    .iter()
    .map(|e| number(&row(&summary, e), 1))
    .sum();
    assert_eq!(rows, sent, "{summary}");

    // A timeout shorter than /slow's sleep: its requests end as timeouts, not answers.
    let out = tetrad(&["load", "50", &url, "--duration", "1s", "--timeout", "100ms"]);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{summary}");
    let slow = row(&summary, "/slow");
    assert!(number(&slow, 1) > 0, "{slow:?}");
    assert_eq!(number(&slow, 5), number(&slow, 1), "{slow:?}");
    assert!(summary.contains("(timeout "), "{summary}");
}

#[test]
fn bad_arguments_are_named() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["load", "fast"],
            "\"fast\" is not a number of requests per second",
        ),
        (&["load", "0"], "out of range"),
        (
            &["load", "20", "ftp://localhost:8000"],
            "the scheme must be http or https",
        ),
        (&["load", "20", "http://x/?q=1"], "no query or fragment"),
        (
            &["load", "--duration", "soon"],
            "\"soon\" is not a duration",
        ),
        (&["load", "--timeout", "0"], "must be positive"),
        (&["load", "--max-in-flight", "0"], "max-in-flight"),
    ];
    for (args, expected) in cases {
        let out = tetrad(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn nothing_listening_is_an_error() {
    let port = common::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let out = tetrad(&["load", "10", &url, "--duration", "1s"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("no answer from {url}")),
        "{stderr}"
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("connection errors:"), "{summary}");
}

#[test]
fn demo_service_stops_gracefully_on_sigterm() {
    let (_inventory, mut backend) = demo_stack();
    let port = backend.port;
    // A slow request (0.5-2 s) in flight when the signal arrives still gets its answer.
    let slow = std::thread::spawn(move || http_get(port, "/slow"));
    wait_in_progress(port, "/slow");
    let pid = backend.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(killed.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    let answer = slow.join().expect("slow request thread");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("slept_ms"), "{answer}");
    let status = backend.child.wait().expect("waiting for the backend");
    assert!(status.success(), "{status:?}");
}

/// A foreground `tetrad up`, stopped with SIGTERM when a test fails before it did.
struct Up(Child);

impl Drop for Up {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            terminate(&mut self.0);
        }
    }
}

/// The `path` label of every `http_requests_total` series of one demo instance.
fn scraped_paths(base: &str, service: &str, instance: &str) -> Vec<String> {
    let selector = format!(
        "http_requests_total{{project=\"loadtest\",service=\"{service}\",instance=\"{instance}\"}}"
    );
    let data = common::query(base, &selector, common::now_ms());
    let mut paths: Vec<String> = data["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["metric"]["path"].as_str().map(str::to_string))
        .collect();
    paths.sort();
    paths
}

#[test]
fn the_demo_stack_under_up_is_scraped_per_endpoint() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (backend, inventory) = (common::free_port(), common::free_port());
    let tetrad_bin = env!("CARGO_BIN_EXE_tetrad");
    // The binary's path as a YAML double-quoted string (Rust's debug quoting is compatible).
    let yaml = format!(
        r#"global:
  scrape_interval: 1s
  scrape_timeout: 1s
services:
  inventory:
    command: [{tetrad_bin:?}, demo-service, inventory]
    port: {inventory}
    labels: {{metrics.scrape: "true"}}
  backend:
    command: [{tetrad_bin:?}, demo-service, backend]
    env: {{INVENTORY_URL: "http://127.0.0.1:{inventory}"}}
    port: {backend}
    labels: {{metrics.scrape: "true"}}
"#
    );
    let file = tmp.path().join("tetrad.yaml");
    std::fs::write(&file, yaml).expect("writing the stack file");
    let http = common::free_port();
    let base = format!("http://127.0.0.1:{http}");
    let child = Command::new(tetrad_bin)
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .arg("-f")
        .arg(&file)
        .args([
            "-p",
            "loadtest",
            "--http-addr",
            &format!("127.0.0.1:{http}"),
        ])
        .args([
            "--otlp-grpc-addr",
            &format!("127.0.0.1:{}", common::free_port()),
        ])
        .args([
            "--otlp-http-addr",
            &format!("127.0.0.1:{}", common::free_port()),
        ])
        .args([
            "--pyroscope-addr",
            &format!("127.0.0.1:{}", common::free_port()),
        ])
        .arg("up")
        .env_remove("TETRAD_FILE")
        .env_remove("TETRAD_PROJECT")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting tetrad up");
    let mut up = Up(child);
    Service::wait_for_port(backend);

    let out = tetrad(&[
        "load",
        "50",
        &format!("http://127.0.0.1:{backend}"),
        "--duration",
        "2s",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Every endpoint of the mix, by route template, scraped from the backend's replica.
    let want = [
        "/",
        "/error",
        "/fail",
        "/health",
        "/items/{id}",
        "/panic",
        "/slow",
    ];
    let start = Instant::now();
    loop {
        let paths = scraped_paths(&base, "backend", "backend-1");
        if want.iter().all(|w| paths.iter().any(|p| p == w)) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "endpoints scraped so far: {paths:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let start = Instant::now();
    while !scraped_paths(&base, "inventory", "inventory-1").contains(&"/stock/{id}".to_string()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "inventory never scraped"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let status = terminate(&mut up.0);
    assert!(status.success(), "{status:?}");
    assert!(
        TcpStream::connect(("127.0.0.1", backend)).is_err(),
        "the backend still listens after tetrad up stopped"
    );
}
