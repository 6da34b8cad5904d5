//! The exposition checked by two independent readers: tetrad's own scrape parser (both formats)
//! and Prometheus' `promtool check metrics` (text format).

use collector::exposition::{Format as ParseFormat, parse_all};
use instrument::metrics::{Format, Registry};
use std::io::Write;
use std::process::{Command, Stdio};

fn registry() -> Registry {
    let r = Registry::new();
    let orders = r
        .counter("orders_total", "Orders placed, by kind.", &["kind"])
        .unwrap();
    orders.with(&["book"]).inc();
    orders.with(&["weird \"quoted\"\\ value\nnext"]).inc_by(4.0);
    let g = r
        .gauge("queue_depth", "Items waiting.", &["queue"])
        .unwrap();
    g.with(&["a"]).set(3.0);
    g.with(&["b"]).set(-0.5);
    g.with(&["tiny"]).set(1.5e-300);
    g.with(&["huge"]).set(-2e300);
    g.with(&["nan"]).set(f64::NAN);
    let h = r
        .histogram(
            "job_duration_seconds",
            "Job durations.",
            &["job"],
            &[0.005, 0.01, 0.1, 1.0, 10.0],
        )
        .unwrap();
    h.with(&["x"])
        .observe_with_trace(0.052, Some(([0x4b; 16], [0x0f; 8])));
    h.with(&["x"]).observe(0.004);
    h.with(&["x"]).observe(100.0);
    r
}

#[test]
fn text_format_parses_back() {
    let body = registry().encode(Format::Text);
    let parsed = parse_all(body.as_bytes(), ParseFormat::PrometheusText).unwrap();
    let value = |want: &str| {
        parsed
            .samples
            .iter()
            .find(|s| s.labels.to_string() == want)
            .unwrap_or_else(|| panic!("no sample {want} in\n{body}"))
            .value
    };
    assert_eq!(value(r#"orders_total{kind="book"}"#), 1.0);
    assert_eq!(value(r#"queue_depth{queue="b"}"#), -0.5);
    assert_eq!(value(r#"queue_depth{queue="tiny"}"#), 1.5e-300);
    assert_eq!(value(r#"queue_depth{queue="huge"}"#), -2e300);
    assert!(value(r#"queue_depth{queue="nan"}"#).is_nan());
    assert_eq!(
        value(r#"job_duration_seconds_bucket{job="x", le="0.1"}"#),
        2.0
    );
    assert_eq!(
        value(r#"job_duration_seconds_bucket{job="x", le="+Inf"}"#),
        3.0
    );
    assert_eq!(value(r#"job_duration_seconds_count{job="x"}"#), 3.0);
    let weird = parsed
        .samples
        .iter()
        .find(|s| s.value == 4.0)
        .expect("the escaped label value");
    assert_eq!(weird.labels.get("kind"), "weird \"quoted\"\\ value\nnext");
    assert!(parsed.samples.iter().all(|s| s.exemplar.is_none()));
    assert_eq!(
        parsed.metadata["orders_total"].help,
        "Orders placed, by kind."
    );
}

#[test]
fn openmetrics_parses_back_with_exemplars() {
    let body = registry().encode(Format::OpenMetrics);
    let parsed = parse_all(body.as_bytes(), ParseFormat::OpenMetrics).unwrap();
    let bucket = parsed
        .samples
        .iter()
        .find(|s| s.labels.get("le") == "0.1")
        .unwrap_or_else(|| panic!("no le=0.1 bucket in\n{body}"));
    assert_eq!(bucket.value, 2.0);
    let exemplar = bucket
        .exemplar
        .as_ref()
        .expect("exemplar on the 0.1 bucket");
    assert_eq!(exemplar.value, 0.052);
    assert_eq!(exemplar.labels.get("trace_id"), "4b".repeat(16).as_str());
    assert_eq!(exemplar.labels.get("span_id"), "0f".repeat(8).as_str());
    assert!(
        exemplar.t > 1_600_000_000_000,
        "exemplar timestamp in ms: {}",
        exemplar.t
    );
    let total = parsed
        .samples
        .iter()
        .find(|s| s.labels.get("kind") == "book")
        .unwrap();
    assert_eq!(total.labels.get("__name__"), "orders_total");
    assert!(
        parsed.metadata.contains_key("orders"),
        "{:?}",
        parsed.metadata.keys()
    );
}

#[test]
fn promtool_accepts_the_text_format() {
    let body = registry().encode(Format::Text);
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => panic!(
            "promtool is needed for this test (apt-get install -y --no-install-recommends prometheus): {e}"
        ),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim().is_empty() && stderr.trim().is_empty(),
        "promtool: {:?}\n{stdout}\n{stderr}\n--- body:\n{body}",
        out.status
    );
}
