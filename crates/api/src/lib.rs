//! tetrad's HTTP APIs.
//!
//! One axum [`Router`](axum::Router) built by [`router`] from an [`ApiState`] that holds only
//! trait objects of the stores and engines, so this crate never reaches into storage internals.
//! Routes speak the ecosystem's wire formats:
//!
//! - the Prometheus query API under `/api/v1/` (query, query_range, series, labels, label values,
//!   metadata, query_exemplars, targets, status/buildinfo, format_query), GET and POST, with
//!   Prometheus' JSON (see [`json`]) and error envelope (see [`error`]);
//! - the TSDB admin snapshot, `POST /api/v1/admin/tsdb/snapshot[?skip_head=true]`, enabled by
//!   default (Prometheus needs `--web.enable-admin-api`): served when the state has a
//!   snapshotter ([`ApiState::with_snapshotter`]), else "admin APIs disabled" (503);
//! - push receivers (`/api/v1/write`, OTLP HTTP `/v1/metrics`) that hand bodies to the
//!   `collector` crate;
//! - Prometheus' status pages' data, `/api/v1/status/{config,runtimeinfo,flags,tsdb}` (see
//!   [`status`]), and tetrad's component view `GET /api/tetrad/pipeline` (see [`pipeline`]);
//! - `/metrics`, tetrad's own metrics, and `/-/healthy`, `/-/ready`;
//! - the project registry of `tetrad up` under `/api/v1/tetrad/projects` (see [`projects`]):
//!   registered services' replicas become scrape targets labelled `project`, `service`,
//!   `instance`;
//! - Loki's push API, `POST /loki/api/v1/push` (JSON, optionally gzip) into a `logs::LogSink`,
//!   and `GET /api/v1/tetrad/logs`, the recent records of the in-memory sink (see
//!   [`loki_push`]).
//!
//! - dashboards for the UI, `GET /api/tetrad/dashboards[/{uid}]` (see [`dashboards`]);
//! - the embedded web UI (see [`ui`]) as the fallback for every other path.
//!
//! Every error becomes a response in exactly one place: `impl IntoResponse for ApiError`.

#![warn(missing_docs)]

pub mod dashboards;
pub mod error;
pub mod json;
pub mod loki_push;
pub mod params;
pub mod pipeline;
pub mod projects;
mod projects_http;
mod prometheus;
mod push;
mod selector;
pub mod self_metrics;
pub mod status;
pub mod status_config;
pub mod ui;

pub use error::{ApiError, ErrorType};
pub use selector::{parse_selector, parse_selectors};

use std::sync::Arc;
use tokio::sync::Semaphore;

/// Build facts served by `/api/v1/status/buildinfo`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    /// Version.
    pub version: String,
    /// Git revision.
    pub revision: String,
    /// Branch.
    pub branch: String,
    /// Who built it.
    pub build_user: String,
    /// When.
    pub build_date: String,
    /// Compiler; named `goVersion` in Prometheus' JSON.
    #[serde(rename = "goVersion")]
    pub go_version: String,
}

/// Limits the API enforces.
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Most queries evaluated at once (`--query.max-concurrency`); more wait.
    pub max_concurrent_queries: usize,
    /// Most points per series a range query may return (Prometheus: 11,000).
    pub max_points_per_series: i64,
    /// Largest push body accepted, compressed bytes.
    pub max_push_body_bytes: usize,
    /// Largest decompressed push body.
    pub max_push_decoded_bytes: usize,
    /// Most pushes decoded and stored at once; more wait briefly, then get 503.
    pub max_concurrent_pushes: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_concurrent_queries: 20,
            max_points_per_series: 11_000,
            max_push_body_bytes: 32 << 20,
            max_push_decoded_bytes: 256 << 20,
            max_concurrent_pushes: 8,
        }
    }
}

/// Everything the routes need, as trait objects.
#[derive(Clone)]
pub struct ApiState {
    /// The PromQL engine.
    pub engine: promql::Engine,
    /// Metric storage for queries.
    pub queryable: Arc<dyn tsdb::Queryable>,
    /// Metric storage for pushes.
    pub appendable: Arc<dyn tsdb::Appendable>,
    /// Exemplars.
    pub exemplars: Arc<dyn tsdb::interface::ExemplarQueryable>,
    /// Metadata.
    pub metadata: Arc<dyn tsdb::interface::MetadataQueryable>,
    /// Build facts.
    pub build_info: BuildInfo,
    /// Limits.
    pub limits: ApiLimits,
    /// tetrad's own metrics registry, rendered at `/metrics`.
    pub self_metrics: Arc<self_metrics::Registry>,
    /// The scrape manager, for `/api/v1/targets`; `None` when nothing is scraped.
    pub scrape: Option<Arc<collector::scrape::ScrapeManager>>,
    /// The store's snapshot writer, for the admin API; `None` disables it.
    pub snapshotter: Option<Arc<dyn tsdb::Snapshottable>>,
    /// Remote-write receiver settings.
    pub remote_write: collector::remote_write::ReceiverConfig,
    /// OTLP metrics receiver settings.
    pub otlp: collector::otlp::OtlpConfig,
    /// Cumulative state of OTLP delta sums, shared by the HTTP and gRPC receivers.
    pub otlp_delta: Arc<collector::otlp::DeltaState>,
    /// Where pushed log records go (`POST /loki/api/v1/push`); `None` refuses pushes.
    pub log_sink: Option<Arc<dyn logs::LogSink>>,
    /// The in-memory ring `GET /api/v1/tetrad/logs` reads; `None` disables that route.
    pub recent_logs: Option<Arc<logs::MemoryLogSink>>,
    /// Projects registered by `tetrad up` (see [`projects`]).
    pub projects: Arc<projects::ProjectRegistry>,
    /// What the status endpoints report about the running server.
    pub status: Arc<status::StatusInfo>,
    /// The metrics head's figures for `/api/v1/status/tsdb` and the pipeline; `None` when the
    /// store does not report them.
    pub head_status: Option<Arc<dyn tsdb::HeadStatusReadable>>,
    pipeline_rates: Arc<pipeline::RateTracker>,
    /// Dashboards served to the UI (see [`dashboards`]); the built-in one by default.
    pub dashboards: Arc<dashboards::DashboardStore>,
    query_slots: Arc<Semaphore>,
    push_slots: Arc<Semaphore>,
}

impl ApiState {
    /// Builds the state; the query concurrency limit comes from `limits`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        engine: promql::Engine,
        queryable: Arc<dyn tsdb::Queryable>,
        appendable: Arc<dyn tsdb::Appendable>,
        exemplars: Arc<dyn tsdb::interface::ExemplarQueryable>,
        metadata: Arc<dyn tsdb::interface::MetadataQueryable>,
        build_info: BuildInfo,
        limits: ApiLimits,
        self_metrics: Arc<self_metrics::Registry>,
    ) -> Self {
        let slots = Arc::new(Semaphore::new(limits.max_concurrent_queries.max(1)));
        let push_slots = Arc::new(Semaphore::new(limits.max_concurrent_pushes.max(1)));
        let remote_write = collector::remote_write::ReceiverConfig {
            max_body_bytes: limits.max_push_body_bytes,
            max_decoded_bytes: limits.max_push_decoded_bytes,
            ..Default::default()
        };
        let otlp = collector::otlp::OtlpConfig {
            max_body_bytes: limits.max_push_body_bytes,
            max_decoded_bytes: limits.max_push_decoded_bytes,
            ..Default::default()
        };
        ApiState {
            otlp,
            otlp_delta: Arc::new(collector::otlp::DeltaState::default()),
            engine,
            queryable,
            appendable,
            exemplars,
            metadata,
            build_info,
            limits,
            self_metrics,
            scrape: None,
            snapshotter: None,
            projects: Arc::new(projects::ProjectRegistry::new()),
            status: Arc::new(status::StatusInfo::default()),
            head_status: None,
            pipeline_rates: Arc::new(pipeline::RateTracker::default()),
            dashboards: Arc::new(dashboards::DashboardStore::builtin_only()),
            log_sink: None,
            recent_logs: None,
            remote_write,
            query_slots: slots,
            push_slots,
        }
    }

    /// Serves `/api/v1/targets` from this scrape manager.
    pub fn with_scrape_manager(mut self, m: Arc<collector::scrape::ScrapeManager>) -> Self {
        self.scrape = Some(m);
        self
    }
}

impl ApiState {
    /// Serves `/api/v1/tetrad/projects` from this registry.
    pub fn with_projects(mut self, p: Arc<projects::ProjectRegistry>) -> Self {
        self.projects = p;
        self
    }

    /// Sends pushed log records to `sink`, and serves `/api/v1/tetrad/logs` from `recent`.
    pub fn with_logs(
        mut self,
        sink: Arc<dyn logs::LogSink>,
        recent: Option<Arc<logs::MemoryLogSink>>,
    ) -> Self {
        self.log_sink = Some(sink);
        self.recent_logs = recent;
        self
    }

    /// Serves the status endpoints from these facts.
    pub fn with_status(mut self, s: status::StatusInfo) -> Self {
        self.status = Arc::new(s);
        self
    }

    /// Reports this store's head in `/api/v1/status/tsdb` and the pipeline view.
    pub fn with_head_status(mut self, h: Arc<dyn tsdb::HeadStatusReadable>) -> Self {
        self.head_status = Some(h);
        self
    }

    /// Serves dashboards from this store (e.g. one with a provisioning folder).
    pub fn with_dashboards(mut self, d: Arc<dashboards::DashboardStore>) -> Self {
        self.dashboards = d;
        self
    }

    /// Serves `/api/v1/admin/tsdb/snapshot` with this snapshot writer.
    pub fn with_snapshotter(mut self, s: Arc<dyn tsdb::Snapshottable>) -> Self {
        self.snapshotter = Some(s);
        self
    }
}

/// The OTLP/HTTP receiver alone, for its own listener (4318 by default).
pub fn otlp_http_router(state: ApiState) -> axum::Router {
    push::otlp_routes()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pipeline::count_receiver_requests,
        ))
        .with_state(state)
}

/// The router with every route of this crate.
pub fn router(state: ApiState) -> axum::Router {
    // Push routes are counted per receiver for the pipeline view.
    let receivers =
        push::routes()
            .merge(loki_push::routes())
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                pipeline::count_receiver_requests,
            ));
    prometheus::routes()
        .merge(receivers)
        .merge(projects_http::routes())
        .merge(status::routes())
        .merge(pipeline::routes())
        .merge(dashboards::routes())
        .fallback(ui::serve)
        .with_state(state)
}
