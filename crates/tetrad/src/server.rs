//! `tetrad server`: opens the stores, builds the engines and receivers, serves the APIs, and on
//! SIGINT/SIGTERM stops accepting, finishes in-flight requests and flushes what was acknowledged.
//!
//! [`start`] binds every listener and serves in a background task, returning a
//! [`RunningServer`] whose project registry and log sink `tetrad up` uses directly when it runs
//! the server in its own process; [`run`] is `start` plus waiting for a signal.

use crate::config::{Settings, WalFsync};
use anyhow::Context;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsServiceServer;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

/// Records the in-memory log sink keeps (the stand-in for the log store).
const RECENT_LOG_RECORDS: usize = 100_000;
/// Bytes the in-memory log sink keeps.
const RECENT_LOG_BYTES: usize = 64 << 20;
/// How often projects whose heartbeat expired are dropped.
const EXPIRE_EVERY: Duration = Duration::from_secs(1);

/// A server serving in the background.
pub struct RunningServer {
    /// The registry of `tetrad up` projects.
    pub projects: Arc<api::projects::ProjectRegistry>,
    /// Where log records go.
    pub log_sink: Arc<dyn logs::LogSink>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, finishes in-flight requests, marks scraped series stale and syncs the
    /// WAL.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.context("the server task failed")?
    }
}

/// `tetrad server`: serves until SIGINT/SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let mut signals = StopSignals::new();
    let server = start(&settings).await?;
    signals.recv().await;
    server.stop().await
}

/// Opens the stores, binds every listener and serves in a background task.
pub async fn start(settings: &Settings) -> anyhow::Result<RunningServer> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
    let db = Arc::new(open_tsdb(settings)?);
    crate::memory::start_trimmer();
    let engine = promql::Engine::new(promql::EngineOptions {
        lookback_delta_ms: settings.query_lookback_ms,
        max_samples: settings.query_max_samples,
        timeout: settings.query_timeout,
        // As Prometheus: subqueries without a step use the global evaluation interval.
        default_subquery_step_ms: settings.global.evaluation_interval.get().as_millis() as i64,
        // Worker threads per query: the engine's default, the available cores.
        ..promql::EngineOptions::default()
    });
    let registry = Arc::new(api::self_metrics::Registry::new());
    register_process_metrics(&registry);
    register_tsdb_metrics(&registry, &db);
    let limits = api::ApiLimits {
        max_concurrent_queries: settings.query_max_concurrency,
        max_push_body_bytes: settings.max_push_body_bytes,
        ..Default::default()
    };
    let state = api::ApiState::new(
        engine,
        db.clone(),
        db.clone(),
        db.clone(),
        db.clone(),
        build_info(),
        limits,
        registry.clone(),
    );
    let scrape = Arc::new(collector::scrape::ScrapeManager::new(db.clone()));
    let mut scrape_configs = settings.scrape_configs.clone();
    if settings.self_scrape {
        scrape_configs.push(self_scrape_config(settings)?);
    }
    scrape
        .apply_config(&settings.global, &scrape_configs)
        .map_err(|e| anyhow::anyhow!("scrape_configs: {}: {}", e.key, e.message))?;
    let status = status_info(settings, &scrape_configs);
    // Registered projects' targets are scraped alongside the file's jobs.
    let projects = Arc::new(api::projects::ProjectRegistry::with_scrape(
        scrape.clone(),
        settings.global.clone(),
        scrape_configs,
    ));
    projects.register_metrics(&registry);
    let recent_logs = Arc::new(logs::MemoryLogSink::new(
        RECENT_LOG_RECORDS,
        RECENT_LOG_BYTES,
    ));
    register_log_metrics(&registry, &recent_logs);
    let log_sink: Arc<dyn logs::LogSink> = recent_logs.clone();
    // The admin snapshot API is on by default (Prometheus needs --web.enable-admin-api).
    let state = state
        .with_scrape_manager(scrape.clone())
        .with_snapshotter(db.clone())
        .with_projects(projects.clone())
        .with_logs(log_sink.clone(), Some(recent_logs))
        .with_status(status)
        .with_head_status(db.clone())
        .with_dashboards(Arc::new(match &settings.dashboards_dir {
            Some(dir) => api::dashboards::DashboardStore::with_folder(dir.clone()),
            None => api::dashboards::DashboardStore::builtin_only(),
        }));

    let http = bind(settings.http_addr, "http_addr").await?;
    let otlp_http = bind(settings.otlp_http_addr, "otlp_http_addr").await?;
    let otlp_grpc = bind(settings.otlp_grpc_addr, "otlp_grpc_addr").await?;
    tracing::info!(
        http = %settings.http_addr,
        otlp_grpc = %settings.otlp_grpc_addr,
        otlp_http = %settings.otlp_http_addr,
        data_dir = %settings.data_dir.display(),
        "tetrad listening"
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(expire_projects(projects.clone(), stop_rx.clone()));
    let max_push_body_bytes = settings.max_push_body_bytes;
    let task = tokio::spawn(async move {
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let otlp_service = collector::otlp::OtlpMetricsService::new(
            db.clone(),
            state.otlp_delta.clone(),
            state.otlp.limits.clone(),
        )
        .with_observer(Arc::new(api::pipeline::receiver_observer(
            state.self_metrics.clone(),
            "otlp_grpc",
        )));
        let grpc = tonic::transport::Server::builder()
            .add_service(
                MetricsServiceServer::new(otlp_service)
                    .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
                    .max_decoding_message_size(max_push_body_bytes),
            )
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(otlp_grpc),
                stopped(stop_rx.clone()),
            );
        let otlp_app = api::otlp_http_router(state.clone());
        let app = api::router(state);
        let (http_res, otlp_res, grpc_res) = tokio::join!(
            axum::serve(http, app)
                .with_graceful_shutdown(stopped(stop_rx.clone()))
                .into_future(),
            axum::serve(otlp_http, otlp_app)
                .with_graceful_shutdown(stopped(stop_rx.clone()))
                .into_future(),
            grpc,
        );
        http_res.context("serving HTTP")?;
        otlp_res.context("serving OTLP/HTTP")?;
        grpc_res.context("serving OTLP/gRPC")?;
        // Final scrapes end with stale markers, as when Prometheus stops a target.
        scrape.stop();
        // Everything acknowledged is already in the WAL; fsync so the batch policy's window is
        // closed too before the process exits.
        db.sync().context("syncing the metrics WAL at shutdown")?;
        tracing::info!("shut down");
        Ok(())
    });
    Ok(RunningServer {
        projects,
        log_sink,
        stop: stop_tx,
        task,
    })
}

/// What `/api/v1/status/*` reports: the effective collection config and settings.
fn status_info(
    settings: &Settings,
    scrape_configs: &[collector::scrape::ScrapeConfig],
) -> api::status::StatusInfo {
    let retention = {
        let time = (settings.retention_ms > 0)
            .then(|| model::time::format_duration_ms(settings.retention_ms));
        let size = settings.retention_bytes.map(|b| format!("{b}B"));
        match (time, size) {
            (Some(t), Some(s)) => format!("{t} or {s}"),
            (t, s) => t.or(s).unwrap_or_default(),
        }
    };
    let file = settings
        .file
        .as_ref()
        .map(|f| f.display().to_string())
        .unwrap_or_default();
    let flags: [(&str, String); 16] = [
        ("file", file),
        ("project", settings.project.clone()),
        ("data-dir", settings.data_dir.display().to_string()),
        ("http-addr", settings.http_addr.to_string()),
        ("otlp-grpc-addr", settings.otlp_grpc_addr.to_string()),
        ("otlp-http-addr", settings.otlp_http_addr.to_string()),
        ("pyroscope-addr", settings.pyroscope_addr.to_string()),
        ("log-level", settings.log_level.clone()),
        ("retention", retention.clone()),
        (
            "storage.tsdb.out-of-order-time-window",
            model::time::format_duration_ms(settings.out_of_order_window_ms),
        ),
        (
            "storage.tsdb.wal-fsync",
            match settings.wal_fsync {
                WalFsync::Always => "always".into(),
                WalFsync::Interval(d) => model::time::format_duration_ms(d.as_millis() as i64),
            },
        ),
        ("limits.max-series", settings.max_series.to_string()),
        (
            "query.timeout",
            model::time::format_duration_ms(settings.query_timeout.as_millis() as i64),
        ),
        ("query.max-samples", settings.query_max_samples.to_string()),
        (
            "query.lookback-delta",
            model::time::format_duration_ms(settings.query_lookback_ms),
        ),
        (
            "query.max-concurrency",
            settings.query_max_concurrency.to_string(),
        ),
    ];
    api::status::StatusInfo {
        storage_retention: retention,
        global: settings.global.clone(),
        scrape_configs: scrape_configs.to_vec(),
        flags: flags
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .chain([
                ("self-scrape".to_string(), settings.self_scrape.to_string()),
                (
                    "limits.max-push-body-bytes".to_string(),
                    settings.max_push_body_bytes.to_string(),
                ),
            ])
            .collect(),
        ..Default::default()
    }
}

/// Drops projects whose `tetrad up` stopped sending heartbeats.
async fn expire_projects(
    projects: Arc<api::projects::ProjectRegistry>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(EXPIRE_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => { projects.expire(); }
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// `tetrad_log_records_received_total`: records that reached the in-memory log sink.
fn register_log_metrics(registry: &api::self_metrics::Registry, sink: &Arc<logs::MemoryLogSink>) {
    let sink = Arc::downgrade(sink);
    let name = "tetrad_log_records_received_total";
    registry.register_collector(
        name,
        "counter",
        "Log records received (supervised services and Loki push).",
        move || {
            sink.upgrade()
                .map(|s| vec![sample(name, s.stats().received_total as f64)])
                .unwrap_or_default()
        },
    );
}

async fn bind(addr: std::net::SocketAddr, key: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr} ({key})"))
}

/// tetrad scrapes its own `/metrics` like any target, as job `tetrad`. With `honor_labels`:
/// figures about supervised services carry their own `project`, `service` and `instance`
/// (`tetrad_service_restarts_total{instance="backend-2"}`), which must not become
/// `exported_instance` next to tetrad's own address.
fn self_scrape_config(settings: &Settings) -> anyhow::Result<collector::scrape::ScrapeConfig> {
    let yaml = format!(
        "job_name: tetrad\nhonor_labels: true\nstatic_configs:\n  - targets: ['{}']\n",
        settings.http_addr
    );
    serde_saphyr::from_str(&yaml).context("building the self-scrape job")
}

fn open_tsdb(settings: &Settings) -> anyhow::Result<tsdb::Db> {
    let opts = tsdb::DbOptions {
        fsync: match settings.wal_fsync {
            WalFsync::Always => storage::FsyncPolicy::Always,
            WalFsync::Interval(d) => storage::FsyncPolicy::Batch(d),
        },
        out_of_order_window_ms: settings.out_of_order_window_ms,
        max_series: settings.max_series,
        retention_ms: settings.retention_ms,
        retention_bytes: settings.retention_bytes.unwrap_or(0),
        ..Default::default()
    };
    let dir = settings.data_dir.join("metrics");
    tsdb::Db::open(&dir, opts)
        .with_context(|| format!("opening the metrics store in {}", dir.display()))
}

/// Name, type, help and reader of one store figure.
type Figure = (
    &'static str,
    &'static str,
    &'static str,
    fn(&tsdb::DbStats) -> f64,
);

/// The metrics store's figures as `tetrad_tsdb_*` metrics.
fn register_tsdb_metrics(registry: &api::self_metrics::Registry, db: &Arc<tsdb::Db>) {
    let figures: [Figure; 7] = [
        (
            "tetrad_tsdb_head_series",
            "gauge",
            "Series in the head.",
            |s| s.num_series as f64,
        ),
        (
            "tetrad_tsdb_samples_appended_total",
            "counter",
            "Samples stored since start.",
            |s| s.samples_appended as f64,
        ),
        (
            "tetrad_tsdb_head_chunks",
            "gauge",
            "Chunks in the head.",
            |s| s.head_chunks as f64,
        ),
        (
            "tetrad_tsdb_head_bytes",
            "gauge",
            "Estimated heap bytes of the head.",
            |s| s.head_bytes as f64,
        ),
        (
            "tetrad_tsdb_head_chunk_file_bytes",
            "gauge",
            "Bytes of the head chunk files (closed head chunks, mapped from page cache).",
            |s| s.head_chunk_file_bytes as f64,
        ),
        (
            "tetrad_tsdb_wal_bytes",
            "gauge",
            "Bytes of WAL segments on disk.",
            |s| s.wal_bytes as f64,
        ),
        ("tetrad_tsdb_blocks", "gauge", "Persisted blocks.", |s| {
            s.blocks as f64
        }),
    ];
    for (name, kind, help, f) in figures {
        let db = Arc::downgrade(db);
        registry.register_collector(name, kind, help, move || {
            db.upgrade()
                .map(|db| vec![sample(name, f(&db.stats()))])
                .unwrap_or_default()
        });
    }
}

fn build_info() -> api::BuildInfo {
    api::BuildInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        revision: option_env!("TETRAD_GIT_REVISION")
            .unwrap_or("unknown")
            .to_string(),
        branch: "main".into(),
        build_user: "tetrad".into(),
        build_date: "unknown".into(),
        go_version: "rust".into(),
    }
}

/// Process figures Prometheus' client exposes (`process_*`), read from /proc.
fn register_process_metrics(registry: &api::self_metrics::Registry) {
    let start = model::time::now_ms() as f64 / 1000.0;
    registry.register_collector(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        || {
            let rss = std::fs::read_to_string("/proc/self/statm")
                .ok()
                .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
                .unwrap_or(0.0);
            vec![sample("process_resident_memory_bytes", rss * 4096.0)]
        },
    );
    registry.register_collector(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        || {
            let ticks = std::fs::read_to_string("/proc/self/stat")
                .ok()
                .and_then(|s| {
                    // Fields after the command name (which may contain spaces) start at ')'.
                    let rest = s.rsplit_once(')')?.1;
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
                })
                .unwrap_or(0.0);
            vec![sample("process_cpu_seconds_total", ticks / 100.0)]
        },
    );
    registry.register_collector(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        move || vec![sample("process_start_time_seconds", start)],
    );
}

fn sample(name: &str, value: f64) -> api::self_metrics::CollectedSample {
    api::self_metrics::CollectedSample {
        name: name.into(),
        labels: vec![],
        value,
    }
}

/// Listeners for SIGINT (Ctrl-C) and SIGTERM, installed when created: a signal that arrives
/// before [`StopSignals::recv`] is awaited is kept, not lost to the default action (which
/// would end the process without stopping its services).
pub struct StopSignals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    /// Installs the listeners; must be called inside a tokio runtime.
    pub fn new() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        StopSignals {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    /// Waits for the next SIGINT or SIGTERM.
    pub async fn recv(&mut self) {
        async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            _ = next(&mut self.interrupt) => {},
            _ = next(&mut self.terminate) => {},
        }
        tracing::info!("shutdown signal received");
    }
}
