//! Prometheus' status endpoints with Prometheus 2.42's JSON:
//!
//! - `GET /api/v1/status/config`: `{"yaml": ...}`, the collection config with secrets shown as
//!   `<secret>` (see [`crate::status_config`]);
//! - `GET /api/v1/status/runtimeinfo`: start time, working directory, config reload state,
//!   `goroutineCount` (tokio's live tasks), `GOMAXPROCS` (available cores), retention;
//! - `GET /api/v1/status/flags`: tetrad's effective settings, every value a string;
//! - `GET /api/v1/status/tsdb`: the head's figures and its top-10 cardinality lists.
//!
//! The binary describes itself with a [`StatusInfo`] ([`crate::ApiState::with_status`]); the
//! TSDB figures come from a [`tsdb::HeadStatusReadable`] ([`crate::ApiState::with_head_status`]).

use crate::prometheus::success;
use crate::{ApiError, ApiState};
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use collector::scrape::{GlobalConfig, ScrapeConfig};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Entries in each TSDB cardinality list, as Prometheus 2.42.
pub const TSDB_STATUS_TOP: usize = 10;

/// Facts about the running server that only the binary knows.
#[derive(Debug, Clone)]
pub struct StatusInfo {
    /// When the process started.
    pub start_time: SystemTime,
    /// The working directory.
    pub cwd: String,
    /// When the configuration was last loaded.
    pub last_config_time: SystemTime,
    /// Whether the last load succeeded.
    pub reload_config_success: bool,
    /// Retention as Prometheus words it (`15d`, `10GiB`, `15d or 10GiB`).
    pub storage_retention: String,
    /// The effective `global:` block.
    pub global: GlobalConfig,
    /// The effective scrape jobs.
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Effective settings by flag name, for `/api/v1/status/flags`.
    pub flags: BTreeMap<String, String>,
}

impl Default for StatusInfo {
    fn default() -> Self {
        let now = SystemTime::now();
        StatusInfo {
            start_time: now,
            cwd: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            last_config_time: now,
            reload_config_success: true,
            storage_retention: String::new(),
            global: GlobalConfig::default(),
            scrape_configs: Vec::new(),
            flags: BTreeMap::new(),
        }
    }
}

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/status/config", get(config))
        .route("/api/v1/status/runtimeinfo", get(runtime_info))
        .route("/api/v1/status/flags", get(flags))
        .route("/api/v1/status/tsdb", get(tsdb_status))
}

#[derive(serde::Serialize)]
struct ConfigData {
    yaml: String,
}

async fn config(State(st): State<ApiState>) -> Response {
    success(&ConfigData {
        yaml: crate::status_config::render(&st.status.global, &st.status.scrape_configs),
    })
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeInfo {
    start_time: String,
    #[serde(rename = "CWD")]
    cwd: String,
    reload_config_success: bool,
    last_config_time: String,
    corruption_count: i64,
    goroutine_count: usize,
    #[serde(rename = "GOMAXPROCS")]
    gomaxprocs: usize,
    #[serde(rename = "GOGC")]
    gogc: String,
    #[serde(rename = "GODEBUG")]
    godebug: String,
    storage_retention: String,
}

async fn runtime_info(State(st): State<ApiState>) -> Response {
    let s = &st.status;
    success(&RuntimeInfo {
        start_time: rfc3339(s.start_time, true),
        cwd: s.cwd.clone(),
        reload_config_success: s.reload_config_success,
        last_config_time: rfc3339(s.last_config_time, false),
        corruption_count: 0,
        goroutine_count: tokio::runtime::Handle::try_current()
            .map(|h| h.metrics().num_alive_tasks())
            .unwrap_or(0),
        gomaxprocs: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        gogc: String::new(),
        godebug: String::new(),
        storage_retention: s.storage_retention.clone(),
    })
}

async fn flags(State(st): State<ApiState>) -> Response {
    success(&st.status.flags)
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct HeadStats {
    num_series: u64,
    num_label_pairs: usize,
    chunk_count: u64,
    min_time: i64,
    max_time: i64,
}

#[derive(serde::Serialize)]
struct Stat {
    name: String,
    value: u64,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct TsdbStatus {
    head_stats: HeadStats,
    series_count_by_metric_name: Vec<Stat>,
    label_value_count_by_label_name: Vec<Stat>,
    memory_in_bytes_by_label_name: Vec<Stat>,
    series_count_by_label_value_pair: Vec<Stat>,
}

fn stats(list: Vec<(String, u64)>) -> Vec<Stat> {
    list.into_iter()
        .map(|(name, value)| Stat { name, value })
        .collect()
}

async fn tsdb_status(State(st): State<ApiState>) -> Result<Response, ApiError> {
    let Some(src) = st.head_status.clone() else {
        return Err(ApiError::internal(
            "this server has no metrics store to report on",
        ));
    };
    // Walking the index takes its read lock for a while: off the async workers.
    let h = tokio::task::spawn_blocking(move || src.head_status(TSDB_STATUS_TOP))
        .await
        .map_err(|e| ApiError::internal(format!("tsdb status task failed: {e}")))?;
    Ok(success(&TsdbStatus {
        head_stats: HeadStats {
            num_series: h.num_series,
            num_label_pairs: h.postings.num_label_pairs,
            chunk_count: h.chunk_count,
            min_time: h.min_time,
            max_time: h.max_time,
        },
        series_count_by_metric_name: stats(h.postings.series_count_by_metric_name),
        label_value_count_by_label_name: stats(h.postings.label_value_count_by_label_name),
        memory_in_bytes_by_label_name: stats(h.postings.memory_in_bytes_by_label_name),
        series_count_by_label_value_pair: stats(h.postings.series_count_by_label_value_pair),
    }))
}

/// RFC 3339 in UTC as Go prints `time.Time`: with nanoseconds (trailing zeros trimmed) when
/// `nanos`, else whole seconds.
pub fn rfc3339(t: SystemTime, nanos: bool) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 1000);
    // Whole seconds through the shared formatter, then our own fraction.
    let base = model::time::rfc3339_ms(secs.saturating_mul(1000).max(1));
    let base = base.trim_end_matches('Z').split('.').next().unwrap_or("");
    let frac = d.subsec_nanos();
    if nanos && frac != 0 {
        let f = format!("{frac:09}");
        format!("{base}.{}Z", f.trim_end_matches('0'))
    } else {
        format!("{base}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_format_as_go_does() {
        let t = UNIX_EPOCH + Duration::new(1_484_665_664, 720_500_000);
        assert_eq!(rfc3339(t, true), "2017-01-17T15:07:44.7205Z");
        assert_eq!(rfc3339(t, false), "2017-01-17T15:07:44Z");
        let whole = UNIX_EPOCH + Duration::from_secs(1_484_665_664);
        assert_eq!(rfc3339(whole, true), "2017-01-17T15:07:44Z");
    }
}
