//! End-to-end: the manager scraping a local HTTP responder into `MemStorage`.

use super::*;
use crate::test_http::{Request, Response, serve};
use crate::test_store::dump;
use model::is_stale_nan;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tsdb::mem::MemStorage;

type Dump = Vec<(String, Vec<(i64, f64)>)>;

fn series<'a>(d: &'a Dump, name: &str) -> Option<&'a Vec<(i64, f64)>> {
    d.iter().find(|(n, _)| n == name).map(|(_, s)| s)
}

/// Polls `cond` every 20ms for up to 20s.
async fn wait_for(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if cond() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

fn configs(yaml: &str) -> Vec<ScrapeConfig> {
    serde_saphyr::from_str(yaml).unwrap()
}

#[tokio::test]
async fn scrapes_with_prometheus_headers_and_reports() {
    let seen: Arc<parking_lot::Mutex<Vec<(String, String, String)>>> = Default::default();
    let seen2 = seen.clone();
    let addr = serve(move |r: Request| {
        seen2.lock().push((
            r.path.clone(),
            r.headers.get("accept").cloned().unwrap_or_default(),
            r.headers
                .get("x-prometheus-scrape-timeout-seconds")
                .cloned()
                .unwrap_or_default(),
        ));
        Response::ok(
            "text/plain; version=0.0.4",
            "# TYPE reqs counter\nreqs{code=\"200\",job=\"inner\"} 7\n",
        )
    })
    .await;
    let store = MemStorage::new();
    let mgr = ScrapeManager::new(Arc::new(store.clone()));
    let yaml = format!(
        "- job_name: app\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\n  params: {{x: ['1']}}\n  static_configs: [{{targets: ['{addr}'], labels: {{env: t}}}}]\n"
    );
    mgr.apply_config(&GlobalConfig::default(), &configs(&yaml))
        .unwrap();
    assert!(
        wait_for(|| mgr
            .targets()
            .first()
            .is_some_and(|t| t.health == Health::Up))
        .await
    );
    let t = &mgr.targets()[0];
    assert_eq!(t.scrape_url, format!("http://{addr}/metrics?x=1"));
    assert_eq!(t.scrape_pool, "app");
    assert_eq!(t.labels["instance"], addr.to_string());
    assert_eq!(t.scrape_interval, "200ms");
    assert_eq!(t.last_error, "");
    let (path, accept, timeout) = seen.lock()[0].clone();
    assert_eq!(path, "/metrics?x=1");
    assert_eq!(accept, crate::exposition::SCRAPE_ACCEPT_HEADER);
    assert_eq!(timeout, "0.15");
    let d = dump(&store);
    let want = format!(
        r#"reqs{{code="200", env="t", exported_job="inner", instance="{addr}", job="app"}}"#
    );
    assert_eq!(series(&d, &want).unwrap()[0].1, 7.0);
    let up = format!(r#"up{{env="t", instance="{addr}", job="app"}}"#);
    assert_eq!(series(&d, &up).unwrap()[0].1, 1.0);
    let scraped = format!(r#"scrape_samples_scraped{{env="t", instance="{addr}", job="app"}}"#);
    assert_eq!(series(&d, &scraped).unwrap()[0].1, 1.0);
}

#[tokio::test]
async fn failures_vanishing_series_and_removal_write_stale_markers() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let addr = serve(move |_| {
        let i = n2.fetch_add(1, Ordering::SeqCst);
        match i {
            0 => Response::ok("text/plain", "a 1\nb 1\n"),
            1 => Response::ok("text/plain", "b 2\n"),
            _ => Response {
                status: 500,
                headers: vec![],
                body: b"boom".to_vec(),
            },
        }
    })
    .await;
    let store = MemStorage::new();
    let mgr = ScrapeManager::new(Arc::new(store.clone()));
    let yaml = format!(
        "- job_name: j\n  scrape_interval: 100ms\n  static_configs: [{{targets: ['{addr}']}}]\n"
    );
    mgr.apply_config(&GlobalConfig::default(), &configs(&yaml))
        .unwrap();
    assert!(
        wait_for(|| n.load(Ordering::SeqCst) >= 3 && mgr.targets()[0].health == Health::Down).await
    );
    let t = &mgr.targets()[0];
    assert_eq!(
        t.last_error,
        "server returned HTTP status 500 Internal Server Error"
    );
    let d = dump(&store);
    let a = series(&d, &format!(r#"a{{instance="{addr}", job="j"}}"#)).unwrap();
    assert_eq!(a[0].1, 1.0);
    assert!(is_stale_nan(a[1].1), "a goes stale when it vanishes: {a:?}");
    let b = series(&d, &format!(r#"b{{instance="{addr}", job="j"}}"#)).unwrap();
    assert_eq!((b[0].1, b[1].1), (1.0, 2.0));
    assert!(
        is_stale_nan(b[2].1),
        "b goes stale when the scrape fails: {b:?}"
    );
    let up = series(&d, &format!(r#"up{{instance="{addr}", job="j"}}"#)).unwrap();
    assert_eq!(up.last().unwrap().1, 0.0);

    // Removing the job marks the report series stale.
    mgr.apply_config(&GlobalConfig::default(), &[]).unwrap();
    assert!(mgr.targets().is_empty());
    let up_name = format!(r#"up{{instance="{addr}", job="j"}}"#);
    assert!(
        wait_for(|| {
            let d = dump(&store);
            series(&d, &up_name).is_some_and(|s| is_stale_nan(s.last().unwrap().1))
        })
        .await
    );
}

#[tokio::test]
async fn gzip_limits_and_openmetrics() {
    let addr = serve(|r: Request| {
        let om = "# TYPE c counter\nc_total 3 # {trace_id=\"abc\"} 1\n# EOF\n";
        match r.path.as_str() {
            "/gz" => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(om.as_bytes()).unwrap();
                Response {
                    status: 200,
                    headers: vec![
                        (
                            "Content-Type".into(),
                            "application/openmetrics-text; version=1.0.0".into(),
                        ),
                        ("Content-Encoding".into(), "gzip".into()),
                    ],
                    body: e.finish().unwrap(),
                }
            }
            _ => Response::ok("text/plain", "x 1\ny 2\nz 3\n"),
        }
    })
    .await;
    let store = MemStorage::new();
    let mgr = ScrapeManager::new(Arc::new(store.clone()));
    let yaml = format!(
        r#"
- job_name: gz
  scrape_interval: 100ms
  metrics_path: /gz
  static_configs: [{{targets: ['{addr}']}}]
- job_name: limited
  scrape_interval: 100ms
  sample_limit: 2
  static_configs: [{{targets: ['{addr}']}}]
- job_name: small
  scrape_interval: 100ms
  body_size_limit: 5
  metrics_path: /small
  static_configs: [{{targets: ['{addr}']}}]
"#
    );
    mgr.apply_config(&GlobalConfig::default(), &configs(&yaml))
        .unwrap();
    assert!(
        wait_for(|| {
            let t = mgr.targets();
            t.len() == 3 && t.iter().all(|t| t.health != Health::Unknown)
        })
        .await
    );
    let by_pool = |p: &str| {
        mgr.targets()
            .into_iter()
            .find(|t| t.scrape_pool == p)
            .unwrap()
    };
    assert_eq!(
        by_pool("gz").health,
        Health::Up,
        "{}",
        by_pool("gz").last_error
    );
    assert_eq!(by_pool("limited").last_error, "sample limit exceeded");
    assert_eq!(by_pool("small").last_error, "body size limit exceeded");
    let d = dump(&store);
    assert_eq!(
        series(&d, &format!(r#"c_total{{instance="{addr}", job="gz"}}"#)).unwrap()[0].1,
        3.0
    );
    assert!(series(&d, &format!(r#"x{{instance="{addr}", job="limited"}}"#)).is_none());
}

#[tokio::test]
async fn file_sd_targets_and_invalid_reload() {
    let addr = serve(|_| Response::ok("text/plain", "m 1\n")).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.json");
    std::fs::write(
        &file,
        format!(r#"[{{"targets": ["{addr}"], "labels": {{"team": "a"}}}}]"#),
    )
    .unwrap();
    let store = MemStorage::new();
    let mgr = ScrapeManager::new(Arc::new(store.clone()));
    let yaml = format!(
        "- job_name: f\n  scrape_interval: 100ms\n  file_sd_configs: [{{files: ['{}/*.json'], refresh_interval: 100ms}}]\n  relabel_configs: [{{source_labels: [team], regex: b, action: drop}}]\n",
        dir.path().display()
    );
    mgr.apply_config(&GlobalConfig::default(), &configs(&yaml))
        .unwrap();
    assert!(
        wait_for(|| mgr
            .targets()
            .first()
            .is_some_and(|t| t.health == Health::Up))
        .await
    );
    assert_eq!(mgr.targets()[0].labels["team"], "a");
    assert!(mgr.targets()[0].discovered_labels["__meta_filepath"].ends_with("t.json"));
    // The file changes: the target is now dropped by relabeling.
    std::fs::write(
        &file,
        format!(r#"[{{"targets": ["{addr}"], "labels": {{"team": "b"}}}}]"#),
    )
    .unwrap();
    assert!(wait_for(|| mgr.targets().is_empty() && mgr.dropped_targets().len() == 1).await);
    // An invalid config is refused and leaves the running state alone.
    let bad = configs("- job_name: f\n  relabel_configs: [{action: nope}]\n");
    let e = mgr
        .apply_config(&GlobalConfig::default(), &bad)
        .unwrap_err();
    assert_eq!(e.key, "scrape_configs[0].relabel_configs[0].action");
    assert_eq!(mgr.dropped_targets().len(), 1);
}

#[tokio::test]
async fn reload_keeps_surviving_targets_and_retires_changed_ones() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h2 = hits.clone();
    let addr = serve(move |_| {
        h2.fetch_add(1, Ordering::SeqCst);
        Response::ok("text/plain", "m 1\n")
    })
    .await;
    let store = MemStorage::new();
    let mgr = ScrapeManager::new(Arc::new(store.clone()));
    let cfg = |extra: &str, interval: &str| {
        configs(&format!(
            "- job_name: r\n  scrape_interval: {interval}\n  static_configs: [{{targets: ['{addr}']{extra}}}]\n"
        ))
    };
    mgr.apply_config(&GlobalConfig::default(), &cfg("", "100ms"))
        .unwrap();
    assert!(wait_for(|| hits.load(Ordering::SeqCst) >= 2).await);
    // Same target, new interval: the loop restarts but its series do not go stale.
    mgr.apply_config(&GlobalConfig::default(), &cfg("", "150ms"))
        .unwrap();
    assert_eq!(mgr.targets()[0].scrape_interval, "150ms");
    let before = hits.load(Ordering::SeqCst);
    assert!(wait_for(|| hits.load(Ordering::SeqCst) >= before + 2).await);
    let m = format!(r#"m{{instance="{addr}", job="r"}}"#);
    let d = dump(&store);
    assert!(
        series(&d, &m)
            .unwrap()
            .iter()
            .all(|(_, v)| !is_stale_nan(*v))
    );
    // New target labels: the old target's series and report series go stale.
    mgr.apply_config(
        &GlobalConfig::default(),
        &cfg(", labels: {env: x}", "150ms"),
    )
    .unwrap();
    let up = format!(r#"up{{instance="{addr}", job="r"}}"#);
    let m_new = format!(r#"m{{env="x", instance="{addr}", job="r"}}"#);
    assert!(
        wait_for(|| {
            let d = dump(&store);
            series(&d, &m_new).is_some()
                && series(&d, &m).is_some_and(|s| is_stale_nan(s.last().unwrap().1))
                && series(&d, &up).is_some_and(|s| is_stale_nan(s.last().unwrap().1))
        })
        .await
    );
}

#[tokio::test]
async fn unreachable_target_reports_the_cause() {
    // A port nothing listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = MemStorage::new();
    let mgr = ScrapeManager::new(Arc::new(store.clone()));
    let yaml = format!(
        "- job_name: gone\n  scrape_interval: 100ms\n  static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    );
    mgr.apply_config(&GlobalConfig::default(), &configs(&yaml))
        .unwrap();
    assert!(wait_for(|| mgr.targets()[0].health == Health::Down).await);
    let err = mgr.targets()[0].last_error.clone();
    assert!(
        err.starts_with(&format!("Get \"http://127.0.0.1:{port}/metrics\": ")),
        "{err}"
    );
    assert!(err.to_lowercase().contains("refused"), "{err}");
    let d = dump(&store);
    let up = series(
        &d,
        &format!(r#"up{{instance="127.0.0.1:{port}", job="gone"}}"#),
    )
    .unwrap();
    assert_eq!(up[0].1, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_target_times_out() {
    let addr = serve(|_| {
        // Blocks one worker thread of this test's runtime, longer than the scrape timeout.
        std::thread::sleep(std::time::Duration::from_millis(400));
        Response::ok("text/plain", "m 1\n")
    })
    .await;
    let store = MemStorage::new();
    let mgr = ScrapeManager::new(Arc::new(store.clone()));
    let yaml = format!(
        "- job_name: slow\n  scrape_interval: 1s\n  scrape_timeout: 100ms\n  static_configs: [{{targets: ['{addr}']}}]\n"
    );
    mgr.apply_config(&GlobalConfig::default(), &configs(&yaml))
        .unwrap();
    assert!(wait_for(|| mgr.targets()[0].health == Health::Down).await);
    assert_eq!(
        mgr.targets()[0].last_error,
        format!("Get \"http://{addr}/metrics\": context deadline exceeded")
    );
}
