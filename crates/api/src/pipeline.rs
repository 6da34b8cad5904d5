//! `GET /api/tetrad/pipeline`: the running components, like Alloy's debug UI. Each component
//! has an `id`, a `kind` (`scrape`, `receiver`, `service`, `store`), a `state` (`healthy`,
//! `degraded`, `down`), a `throughput` per second, an `errors` count and a `detail` map of
//! figures as text.
//!
//! Where the figures come from:
//!
//! - scrape jobs: the scrape manager's targets (up/down), and samples per second from the
//!   `scrape_samples_post_metric_relabeling` series the scrapes themselves write;
//! - receivers (`remote_write`, `otlp_http`, `otlp_grpc`, `loki_push`): the self-metrics
//!   `tetrad_push_requests_total{receiver,outcome}` (counted by [`count_receiver_requests`] for
//!   the HTTP routes and by [`receiver_observer`] for gRPC), `tetrad_push_samples_total` and
//!   `tetrad_push_records_total`;
//! - services: the project registry of `tetrad up` (replicas running and desired, restarts);
//! - stores: the metrics head (series, samples appended).
//!
//! Totals are counters; per-second figures come from a [`RateTracker`] that remembers the
//! totals seen by earlier requests, so the first request reports no throughput and a page that
//! refreshes every few seconds sees rates over its own refresh window.

use crate::ApiState;
use crate::self_metrics::Registry;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use collector::scrape::Health;
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests per receiver and outcome (`success`, `error`).
pub const REQUESTS_METRIC: &str = "tetrad_push_requests_total";
const REQUESTS_HELP: &str = "Push requests per receiver and outcome.";
/// Samples stored per receiver (counted by the receivers themselves).
pub const SAMPLES_METRIC: &str = "tetrad_push_samples_total";
/// Log records accepted per receiver.
pub const RECORDS_METRIC: &str = "tetrad_push_records_total";
const RECORDS_HELP: &str = "Log records accepted by push receivers.";

/// The receivers the pipeline always lists, with the unit of their throughput.
const RECEIVERS: [(&str, &str); 4] = [
    ("remote_write", "samples/s"),
    ("otlp_http", "samples/s"),
    ("otlp_grpc", "samples/s"),
    ("loki_push", "records/s"),
];

/// How far back scrape statistics are looked for.
const SCRAPE_LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// A component's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentState {
    /// Working.
    Healthy,
    /// Working in part: some targets down, some requests failing, fewer replicas than asked.
    Degraded,
    /// Not working.
    Down,
}

/// One running component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// Unique id, `<kind>.<name>`.
    pub id: String,
    /// `scrape`, `receiver`, `service` or `store`.
    pub kind: &'static str,
    /// Display name.
    pub name: String,
    /// Health.
    pub state: ComponentState,
    /// Items per second, `null` until two observations are far enough apart.
    pub throughput: Option<f64>,
    /// What `throughput` counts, e.g. `samples/s`.
    pub unit: &'static str,
    /// Errors: failed requests, targets down, restarts.
    pub errors: u64,
    /// Further figures, as text.
    pub detail: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct PipelineData {
    components: Vec<Component>,
}

/// Remembers earlier totals to turn counters into rates.
#[derive(Default)]
pub struct RateTracker {
    seen: Mutex<HashMap<String, VecDeque<(Instant, f64)>>>,
}

/// Observations kept per counter.
const RATE_HISTORY: usize = 32;
/// The window a rate is taken over, at most.
const RATE_WINDOW: Duration = Duration::from_secs(60);
/// Observations closer than this to now are not used as the base of a rate.
const RATE_MIN_SPAN: Duration = Duration::from_millis(500);
/// Most counters tracked; beyond it the oldest ids are forgotten.
const RATE_MAX_IDS: usize = 4096;

impl RateTracker {
    /// Records `total` for `id` at `now` and returns the rate per second since the oldest
    /// observation within the window, `None` without one. A counter that went down (restart)
    /// starts over.
    pub fn observe(&self, id: &str, total: f64, now: Instant) -> Option<f64> {
        let mut seen = self.seen.lock();
        if seen.len() >= RATE_MAX_IDS && !seen.contains_key(id) {
            // Bounded memory: forget everything rather than grow; rates restart.
            seen.clear();
        }
        let hist = seen.entry(id.to_string()).or_default();
        if hist.back().is_some_and(|(_, v)| *v > total) {
            hist.clear();
        }
        while hist
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) > RATE_WINDOW)
        {
            hist.pop_front();
        }
        let rate = hist.front().and_then(|(t, v)| {
            let span = now.saturating_duration_since(*t);
            (span >= RATE_MIN_SPAN).then(|| (total - v) / span.as_secs_f64())
        });
        hist.push_back((now, total));
        if hist.len() > RATE_HISTORY {
            hist.pop_front();
        }
        rate
    }
}

/// Counts each request to a push route in `tetrad_push_requests_total{receiver,outcome}`;
/// a response with status 400 or above is an error.
pub async fn count_receiver_requests(
    State(st): State<ApiState>,
    req: Request,
    next: Next,
) -> Response {
    let receiver = match (req.method(), req.uri().path()) {
        (&axum::http::Method::POST, "/api/v1/write") => Some("remote_write"),
        (&axum::http::Method::POST, "/v1/metrics") => Some("otlp_http"),
        (&axum::http::Method::POST, "/loki/api/v1/push") => Some("loki_push"),
        _ => None,
    };
    let resp = next.run(req).await;
    if let Some(r) = receiver {
        count_request(&st.self_metrics, r, resp.status().as_u16() < 400);
    }
    resp
}

fn count_request(registry: &Registry, receiver: &str, ok: bool) {
    let outcome = if ok { "success" } else { "error" };
    registry
        .counter(
            REQUESTS_METRIC,
            REQUESTS_HELP,
            &[("receiver", receiver), ("outcome", outcome)],
        )
        .inc();
}

/// Adds `n` accepted log records of `receiver`.
pub fn count_records(registry: &Registry, receiver: &str, n: u64) {
    registry
        .counter(RECORDS_METRIC, RECORDS_HELP, &[("receiver", receiver)])
        .add(n);
}

/// A callback for a receiver outside the HTTP router (OTLP/gRPC): `Some(samples)` after a
/// stored request, `None` after a failed one.
pub fn receiver_observer(
    registry: Arc<Registry>,
    receiver: &'static str,
) -> impl Fn(Option<usize>) + Send + Sync + 'static {
    move |outcome| {
        count_request(&registry, receiver, outcome.is_some());
        if let Some(n) = outcome {
            registry
                .counter(
                    SAMPLES_METRIC,
                    "Samples accepted by push receivers.",
                    &[("receiver", receiver)],
                )
                .add(n as u64);
        }
    }
}

pub(crate) fn routes() -> axum::Router<ApiState> {
    axum::Router::new().route("/api/tetrad/pipeline", axum::routing::get(pipeline))
}

async fn pipeline(State(st): State<ApiState>) -> Result<Response, crate::ApiError> {
    let now = Instant::now();
    let scrape_rates = {
        let st = st.clone();
        tokio::task::spawn_blocking(move || scrape_samples_per_job(&st))
            .await
            .map_err(|e| crate::ApiError::internal(format!("pipeline task failed: {e}")))?
    };
    let mut components = scrape_components(&st, &scrape_rates);
    components.extend(receiver_components(&st, now));
    components.extend(service_components(&st));
    if let Some(c) = store_component(&st, now).await {
        components.push(c);
    }
    Ok(crate::prometheus::success(&PipelineData { components }))
}

/// Samples per scrape of each job's targets, summed, from the scrapes' own series.
fn scrape_samples_per_job(st: &ApiState) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    let end = model::time::now_ms();
    let start = end - SCRAPE_LOOKBACK_MS;
    let Ok(q) = st.queryable.querier(start, end) else {
        return out;
    };
    let hints = tsdb::SelectHints {
        start,
        end,
        ..Default::default()
    };
    let matcher =
        model::Matcher::equal(model::METRIC_NAME, "scrape_samples_post_metric_relabeling");
    for s in q.select(&hints, &[matcher]).flatten() {
        if let Some(last) = s.samples.last().filter(|x| x.v.is_finite()) {
            *out.entry(s.labels.get("job").to_string()).or_default() += last.v;
        }
    }
    out
}

fn scrape_components(st: &ApiState, samples_per_scrape: &HashMap<String, f64>) -> Vec<Component> {
    let Some(m) = &st.scrape else {
        return Vec::new();
    };
    struct Job {
        up: u64,
        down: u64,
        unknown: u64,
        interval: String,
        last_error: String,
    }
    let mut jobs: BTreeMap<String, Job> = BTreeMap::new();
    for t in m.targets() {
        let j = jobs.entry(t.scrape_pool.clone()).or_insert_with(|| Job {
            up: 0,
            down: 0,
            unknown: 0,
            interval: t.scrape_interval.clone(),
            last_error: String::new(),
        });
        match t.health {
            Health::Up => j.up += 1,
            Health::Down => {
                j.down += 1;
                j.last_error = t.last_error.clone();
            }
            Health::Unknown => j.unknown += 1,
        }
    }
    jobs.into_iter()
        .map(|(name, j)| {
            let total = j.up + j.down + j.unknown;
            let state = if j.down == 0 {
                ComponentState::Healthy
            } else if j.up == 0 {
                ComponentState::Down
            } else {
                ComponentState::Degraded
            };
            let interval_s = model::time::parse_duration_ms(&j.interval)
                .ok()
                .filter(|ms| *ms > 0)
                .map(|ms| ms as f64 / 1000.0);
            let throughput = samples_per_scrape
                .get(&name)
                .zip(interval_s)
                .map(|(n, s)| n / s);
            let mut detail = BTreeMap::new();
            detail.insert("targets".into(), total.to_string());
            detail.insert("up".into(), j.up.to_string());
            detail.insert("down".into(), j.down.to_string());
            detail.insert("interval".into(), j.interval);
            if !j.last_error.is_empty() {
                detail.insert("last_error".into(), j.last_error);
            }
            Component {
                id: format!("scrape.{name}"),
                kind: "scrape",
                name,
                state,
                throughput,
                unit: "samples/s",
                errors: j.down,
                detail,
            }
        })
        .collect()
}

/// Current value of `name{labels}`, summed over series that carry every given pair.
fn counter_sum(st: &ApiState, name: &str, pairs: &[(&str, &str)]) -> u64 {
    st.self_metrics
        .counter_values(name)
        .into_iter()
        .filter(|(labels, _)| {
            pairs
                .iter()
                .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, v)| v)
        .sum()
}

fn receiver_components(st: &ApiState, now: Instant) -> Vec<Component> {
    RECEIVERS
        .iter()
        .map(|(name, unit)| {
            let ok = counter_sum(
                st,
                REQUESTS_METRIC,
                &[("receiver", name), ("outcome", "success")],
            );
            let failed = counter_sum(
                st,
                REQUESTS_METRIC,
                &[("receiver", name), ("outcome", "error")],
            );
            let items_metric = if *unit == "records/s" {
                RECORDS_METRIC
            } else {
                SAMPLES_METRIC
            };
            let items = counter_sum(st, items_metric, &[("receiver", name)]);
            let rates = &st.pipeline_rates;
            let throughput = rates.observe(&format!("receiver.{name}.items"), items as f64, now);
            let ok_rate = rates.observe(&format!("receiver.{name}.ok"), ok as f64, now);
            let err_rate = rates.observe(&format!("receiver.{name}.err"), failed as f64, now);
            // Judged on recent requests when known, else on all of them.
            let (recent_ok, recent_err) = match (ok_rate, err_rate) {
                (Some(o), Some(e)) => (o > 0.0, e > 0.0),
                _ => (ok > 0, failed > 0),
            };
            let state = match (recent_ok, recent_err) {
                (_, false) => ComponentState::Healthy,
                (true, true) => ComponentState::Degraded,
                (false, true) => ComponentState::Down,
            };
            let mut detail = BTreeMap::new();
            detail.insert("requests".into(), (ok + failed).to_string());
            detail.insert("failed_requests".into(), failed.to_string());
            let items_key = if *unit == "records/s" {
                "records"
            } else {
                "samples"
            };
            detail.insert(items_key.into(), items.to_string());
            Component {
                id: format!("receiver.{name}"),
                kind: "receiver",
                name: name.to_string(),
                state,
                throughput,
                unit,
                errors: failed,
                detail,
            }
        })
        .collect()
}

fn service_components(st: &ApiState) -> Vec<Component> {
    let mut out = Vec::new();
    for p in st.projects.list() {
        for s in &p.registration.services {
            let running = s
                .replicas
                .iter()
                .filter(|r| r.state == crate::projects::RUNNING)
                .count() as u64;
            let desired = u64::from(s.replicas_desired);
            let restarts: u64 = s.replicas.iter().map(|r| r.restarts).sum();
            let state = if running >= desired {
                ComponentState::Healthy
            } else if running == 0 {
                ComponentState::Down
            } else {
                ComponentState::Degraded
            };
            let name = format!("{}/{}", p.project, s.name);
            let mut detail = BTreeMap::new();
            detail.insert("project".into(), p.project.clone());
            detail.insert("replicas".into(), running.to_string());
            detail.insert("replicas_desired".into(), desired.to_string());
            detail.insert("restarts".into(), restarts.to_string());
            if let Some(exit) = s.replicas.iter().rev().find_map(|r| r.last_exit.clone()) {
                detail.insert("last_exit".into(), exit);
            }
            out.push(Component {
                id: format!("service.{name}"),
                kind: "service",
                name,
                state,
                throughput: None,
                unit: "",
                errors: restarts,
                detail,
            });
        }
    }
    out
}

async fn store_component(st: &ApiState, now: Instant) -> Option<Component> {
    let src = st.head_status.clone()?;
    let h = tokio::task::spawn_blocking(move || src.head_status(0))
        .await
        .ok()?;
    let throughput = st
        .pipeline_rates
        .observe("store.metrics", h.samples_appended as f64, now);
    let mut detail = BTreeMap::new();
    detail.insert("head_series".into(), h.num_series.to_string());
    detail.insert("head_chunks".into(), h.chunk_count.to_string());
    detail.insert("samples_appended".into(), h.samples_appended.to_string());
    Some(Component {
        id: "store.metrics".into(),
        kind: "store",
        name: "metrics".into(),
        state: ComponentState::Healthy,
        throughput,
        unit: "samples/s",
        errors: 0,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_need_a_base_observation_and_restart_after_a_reset() {
        let r = RateTracker::default();
        let t0 = Instant::now();
        assert_eq!(r.observe("a", 10.0, t0), None);
        assert_eq!(
            r.observe("a", 30.0, t0 + Duration::from_secs(10)),
            Some(2.0)
        );
        // Too close to the base is still measured from the oldest observation in the window.
        assert_eq!(
            r.observe("a", 40.0, t0 + Duration::from_secs(20)),
            Some(1.5)
        );
        // A counter that went down starts over.
        assert_eq!(r.observe("a", 5.0, t0 + Duration::from_secs(21)), None);
        // Observations older than the window are dropped.
        assert_eq!(r.observe("b", 0.0, t0), None);
        assert_eq!(r.observe("b", 100.0, t0 + Duration::from_secs(200)), None);
    }
}
