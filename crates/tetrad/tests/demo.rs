//! `tetrad demo` end to end, the app-side issue's "done when": the built-in stack runs, its load
//! reaches every endpoint of every backend replica, the metrics are found through the
//! Prometheus API labelled with project/service/instance, the live replica count drops and
//! comes back when a replica is killed, and nothing is left after shutdown.

mod common;

use common::{free_port, free_ports, group_alive, query, wait_for};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `tetrad demo` in the foreground; SIGTERM when the test fails before it stopped it.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            let _ = self.0.wait();
        }
    }
}

fn tetrad(data: &Path, http: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tetrad"));
    c.arg("--data-dir")
        .arg(data)
        .args(["--http-addr", &format!("127.0.0.1:{http}")])
        .env_remove("TETRAD_FILE")
        .env_remove("TETRAD_PROJECT")
        .env("NO_COLOR", "1");
    c
}

/// Rows of `tetrad ps`: project, service, instance, pid, state, restarts, ...
fn ps(data: &Path, http: u16) -> Vec<Vec<String>> {
    let out = tetrad(data, http).arg("ps").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

fn value(base: &str, q: &str) -> Option<f64> {
    let d = query(base, q, common::now_ms());
    d["result"][0]["value"][1].as_str()?.parse().ok()
}

#[test]
fn demo_fills_every_endpoint_and_survives_a_killed_replica() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let http = free_port();
    let base = format!("http://127.0.0.1:{http}");
    let backend = free_ports(2);
    let inventory = free_port();
    let child = tetrad(&data, http)
        .args(["--otlp-grpc-addr", &format!("127.0.0.1:{}", free_port())])
        .args(["--otlp-http-addr", &format!("127.0.0.1:{}", free_port())])
        .args(["--pyroscope-addr", &format!("127.0.0.1:{}", free_port())])
        .args(["demo", "--backend-port", &backend.to_string()])
        .args(["--inventory-port", &inventory.to_string()])
        .args(["--rate", "40", "--scrape-interval", "1s"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut demo = Demo(child);

    // The stack file it ran is there to read.
    let stack = wait_for("the demo stack file", || {
        std::fs::read_to_string(data.join("demo/tetrad.yaml")).ok()
    });
    assert!(stack.contains("demo-service, backend"), "{stack}");
    wait_for("the server", || {
        common::try_http("GET", &format!("{base}/-/ready"), None, b"").map(|_| ())
    });

    // Every endpoint of the load mix, on both backend replicas, by route template.
    let want = [
        "/",
        "/error",
        "/fail",
        "/health",
        "/items/{id}",
        "/panic",
        "/slow",
    ];
    for instance in ["backend-1", "backend-2"] {
        wait_for(&format!("every endpoint on {instance}"), || {
            let sel = format!(
                "count by (path) (http_responses_total{{project=\"demo\",service=\"backend\",instance=\"{instance}\",job=\"backend\"}})"
            );
            let d = query(&base, &sel, common::now_ms());
            let paths: Vec<&str> = d["result"]
                .as_array()?
                .iter()
                .filter_map(|s| s["metric"]["path"].as_str())
                .collect();
            want.iter().all(|w| paths.contains(w)).then_some(())
        });
    }
    // 4xx, 5xx and exceptions by type are all there; the inventory is called (trace edge).
    for q in [
        "sum(http_responses_total{project=\"demo\",status_code=~\"4..\"})",
        "sum(http_responses_total{project=\"demo\",status_code=~\"5..\"})",
        "sum(http_exceptions_total{project=\"demo\",exception_type=\"DemoPanic\"})",
        "sum(http_responses_total{project=\"demo\",service=\"inventory\",instance=\"inventory-1\",path=\"/stock/{id}\"})",
    ] {
        wait_for(q, || (value(&base, q)? > 0.0).then_some(()));
    }

    // Kill backend-2: the live replica count drops and comes back, the restart is counted.
    let live = "tetrad_service_replicas{project=\"demo\",service=\"backend\"}";
    wait_for("two live backend replicas", || {
        (value(&base, live)? == 2.0).then_some(())
    });
    let rows = ps(&data, http);
    let pid: u32 = rows
        .iter()
        .find(|r| r.get(2).map(String::as_str) == Some("backend-2"))
        .and_then(|r| r.get(3)?.parse().ok())
        .unwrap_or_else(|| panic!("no backend-2 in {rows:?}"));
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    wait_for("the live count to drop", || {
        (value(&base, &format!("min_over_time({live}[1m])"))? < 2.0).then_some(())
    });
    wait_for("the live count to come back", || {
        (value(&base, live)? == 2.0).then_some(())
    });
    let restarts = "tetrad_service_restarts_total{project=\"demo\",instance=\"backend-2\"}";
    wait_for("the restart counted", || {
        (value(&base, restarts)? >= 1.0).then_some(())
    });

    // Shutdown: SIGTERM, a clean exit, no process of any replica left.
    let pids: Vec<u32> = ps(&data, http)
        .iter()
        .filter_map(|r| r.get(3)?.parse().ok())
        .collect();
    assert_eq!(pids.len(), 4, "backend x2, inventory, load: {pids:?}");
    let _ = Command::new("kill")
        .args(["-TERM", &demo.0.id().to_string()])
        .status();
    let status = demo.0.wait().unwrap();
    assert!(status.success(), "tetrad demo exited with {status}");
    for p in pids.iter().chain([&pid]) {
        assert!(!group_alive(*p), "process group {p} survived tetrad demo");
    }
}
