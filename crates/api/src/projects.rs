//! The project registry: which `tetrad up` projects run which services, and where to scrape
//! them.
//!
//! A `tetrad up` process registers its project with `PUT /api/v1/tetrad/projects/{project}`
//! (or, when it runs the server in-process, by calling [`ProjectRegistry::register`]) and
//! repeats it as a heartbeat. A project whose last heartbeat is older than its `ttl_seconds` is
//! dropped by [`ProjectRegistry::expire`], so a `tetrad up` killed with SIGKILL does not leave
//! targets behind: they go stale like any removed target.
//!
//! Replicas of services with a metrics endpoint become scrape targets: one scrape job per
//! (project, service) named `<project>/<service>` — unique across projects — whose targets carry
//! `job=<service>`, `project`, `service` and `instance=<service>-<n>`. Every change re-applies the
//! scrape manager's whole configuration (the stack file's jobs, the self-scrape, then the
//! registered ones); the manager keeps jobs whose configuration did not change running.
//!
//! The registry also reports `tetrad_service_replicas` (running replicas),
//! `tetrad_service_replicas_desired` and `tetrad_service_restarts_total` through
//! [`ProjectRegistry::register_metrics`].

use crate::error::ApiError;
use crate::self_metrics::{CollectedSample, Registry};
use collector::scrape::{GlobalConfig, ScrapeConfig, ScrapeManager};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most projects registered at once.
pub const MAX_PROJECTS: usize = 64;
/// Most services per project.
pub const MAX_SERVICES: usize = 256;
/// Most replicas per service.
pub const MAX_REPLICAS: usize = 64;
/// Longest name or label value accepted.
pub const MAX_TEXT: usize = 256;
/// Most labels per service.
pub const MAX_LABELS: usize = 64;
/// Longest and shortest accepted TTLs.
pub const TTL_RANGE_SECONDS: (u64, u64) = (1, 86_400);

/// A project's registration: the body of `PUT /api/v1/tetrad/projects/{project}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectRegistration {
    /// The project's services.
    pub services: Vec<ServiceRegistration>,
    /// Dropped when no heartbeat came for this long.
    pub ttl_seconds: u64,
}

/// One service of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRegistration {
    /// Service name (`service` label, scrape job name).
    pub name: String,
    /// Replicas asked for in the stack file.
    pub replicas_desired: u32,
    /// The scrape path when the service opted into scraping.
    #[serde(default)]
    pub metrics_path: Option<String>,
    /// The stack file's labels of the service.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its replicas.
    pub replicas: Vec<ReplicaRegistration>,
}

/// One replica (process) of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaRegistration {
    /// `<service>-<n>`, n from 1.
    pub instance: String,
    /// Process id while a process exists.
    #[serde(default)]
    pub pid: Option<u32>,
    /// `starting`, `running`, `backoff`, `exited` or `stopped`.
    pub state: String,
    /// How often it was restarted.
    pub restarts: u64,
    /// The port handed to it, if any.
    #[serde(default)]
    pub port: Option<u16>,
    /// `host:port` to scrape, when the service opted in.
    #[serde(default)]
    pub metrics_target: Option<String>,
    /// When the current process started, Unix milliseconds.
    #[serde(default)]
    pub started_at_ms: Option<i64>,
    /// How the last process ended, e.g. `exit code 1` or `signal 9`.
    #[serde(default)]
    pub last_exit: Option<String>,
}

/// A registered project as `GET /api/v1/tetrad/projects` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectView {
    /// The project name.
    pub project: String,
    /// Seconds since the last heartbeat.
    pub heartbeat_age_seconds: f64,
    /// The registration as last received.
    #[serde(flatten)]
    pub registration: ProjectRegistration,
}

struct Entry {
    registration: ProjectRegistration,
    heartbeat: Instant,
}

/// What scrape configuration the registered targets are added to.
struct ScrapeHook {
    manager: Arc<ScrapeManager>,
    global: GlobalConfig,
    base: Vec<ScrapeConfig>,
    applied: Mutex<Vec<ScrapeConfig>>,
}

/// The registry of running projects.
#[derive(Default)]
pub struct ProjectRegistry {
    projects: Mutex<BTreeMap<String, Entry>>,
    scrape: Option<ScrapeHook>,
}

/// The state name counted as live by `tetrad_service_replicas`.
pub const RUNNING: &str = "running";
const STATES: [&str; 5] = ["starting", RUNNING, "backoff", "exited", "stopped"];

impl ProjectRegistry {
    /// A registry that only records projects (no scraping).
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry whose metrics targets are scraped by `manager`, in addition to `base` (the
    /// stack file's jobs and the self-scrape), with `global`'s defaults.
    pub fn with_scrape(
        manager: Arc<ScrapeManager>,
        global: GlobalConfig,
        base: Vec<ScrapeConfig>,
    ) -> Self {
        ProjectRegistry {
            projects: Mutex::new(BTreeMap::new()),
            scrape: Some(ScrapeHook {
                manager,
                global,
                applied: Mutex::new(base.clone()),
                base,
            }),
        }
    }

    /// Registers or refreshes a project (also its heartbeat). Must run inside a tokio runtime
    /// when the registry scrapes (the scrape manager starts tasks).
    pub fn register(&self, project: &str, reg: ProjectRegistration) -> Result<(), ApiError> {
        validate(project, &reg)?;
        let mut projects = self.projects.lock();
        if !projects.contains_key(project) && projects.len() >= MAX_PROJECTS {
            return Err(ApiError::bad_data(format!(
                "too many projects: the limit is {MAX_PROJECTS}"
            )));
        }
        let previous = projects.insert(
            project.to_string(),
            Entry {
                registration: reg,
                heartbeat: Instant::now(),
            },
        );
        if let Err(e) = self.sync_scrape(&projects) {
            // Keep the registry and the scrape manager in agreement.
            match previous {
                Some(p) => projects.insert(project.to_string(), p),
                None => projects.remove(project),
            };
            return Err(e);
        }
        Ok(())
    }

    /// Removes a project; `false` when it was not registered.
    pub fn deregister(&self, project: &str) -> bool {
        let mut projects = self.projects.lock();
        let found = projects.remove(project).is_some();
        if found && let Err(e) = self.sync_scrape(&projects) {
            tracing::warn!(project, error = %e.message, "re-applying scrape targets");
        }
        found
    }

    /// Drops projects whose heartbeat is older than their TTL; returns their names.
    pub fn expire(&self) -> Vec<String> {
        let mut projects = self.projects.lock();
        let now = Instant::now();
        let gone: Vec<String> = projects
            .iter()
            .filter(|(_, e)| {
                now.duration_since(e.heartbeat) > Duration::from_secs(e.registration.ttl_seconds)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for g in &gone {
            projects.remove(g);
            tracing::info!(project = %g, "project heartbeat expired; its targets are dropped");
        }
        if !gone.is_empty()
            && let Err(e) = self.sync_scrape(&projects)
        {
            tracing::warn!(error = %e.message, "re-applying scrape targets");
        }
        gone
    }

    /// Every registered project, by name.
    pub fn list(&self) -> Vec<ProjectView> {
        let now = Instant::now();
        self.projects
            .lock()
            .iter()
            .map(|(name, e)| ProjectView {
                project: name.clone(),
                heartbeat_age_seconds: now.duration_since(e.heartbeat).as_secs_f64(),
                registration: e.registration.clone(),
            })
            .collect()
    }

    /// The scrape jobs of the registered projects.
    pub fn scrape_configs(&self) -> Vec<ScrapeConfig> {
        scrape_configs(&self.projects.lock())
    }

    fn sync_scrape(&self, projects: &BTreeMap<String, Entry>) -> Result<(), ApiError> {
        let Some(hook) = &self.scrape else {
            return Ok(());
        };
        let mut all = hook.base.clone();
        all.extend(scrape_configs(projects));
        let mut applied = hook.applied.lock();
        if *applied == all {
            return Ok(());
        }
        hook.manager
            .apply_config(&hook.global, &all)
            .map_err(|e| ApiError::bad_data(format!("scrape targets: {}: {}", e.key, e.message)))?;
        *applied = all;
        Ok(())
    }

    /// Adds the `tetrad_service_*` families to `metrics`.
    pub fn register_metrics(self: &Arc<Self>, metrics: &Registry) {
        let families: [(&str, &str, &str); 3] = [
            (
                "tetrad_service_replicas",
                "gauge",
                "Running replicas per service of the registered projects.",
            ),
            (
                "tetrad_service_replicas_desired",
                "gauge",
                "Replicas asked for per service of the registered projects.",
            ),
            (
                "tetrad_service_restarts_total",
                "counter",
                "Restarts per replica of the registered projects.",
            ),
        ];
        for (name, kind, help) in families {
            let registry = Arc::downgrade(self);
            metrics.register_collector(name, kind, help, move || {
                registry
                    .upgrade()
                    .map(|r| r.samples(name))
                    .unwrap_or_default()
            });
        }
    }

    fn samples(&self, family: &str) -> Vec<CollectedSample> {
        let projects = self.projects.lock();
        let mut out = Vec::new();
        for (project, e) in projects.iter() {
            for s in &e.registration.services {
                let labels = vec![
                    ("project".to_string(), project.clone()),
                    ("service".to_string(), s.name.clone()),
                ];
                match family {
                    "tetrad_service_replicas" => out.push(CollectedSample {
                        name: family.into(),
                        labels,
                        value: s.replicas.iter().filter(|r| r.state == RUNNING).count() as f64,
                    }),
                    "tetrad_service_replicas_desired" => out.push(CollectedSample {
                        name: family.into(),
                        labels,
                        value: f64::from(s.replicas_desired),
                    }),
                    _ => {
                        for r in &s.replicas {
                            let mut l = labels.clone();
                            l.push(("instance".into(), r.instance.clone()));
                            out.push(CollectedSample {
                                name: family.into(),
                                labels: l,
                                value: r.restarts as f64,
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

/// Project names as `tetrad up` normalises them (compose's rule).
pub fn is_project_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn validate(project: &str, reg: &ProjectRegistration) -> Result<(), ApiError> {
    if !is_project_name(project) {
        return Err(ApiError::bad_data(format!(
            "invalid project name {project:?}: 1 to 63 lowercase letters, digits, '_' or '-', starting with a letter or digit"
        )));
    }
    let (lo, hi) = TTL_RANGE_SECONDS;
    if !(lo..=hi).contains(&reg.ttl_seconds) {
        return Err(ApiError::bad_data(format!(
            "ttl_seconds {} is outside {lo}..{hi}",
            reg.ttl_seconds
        )));
    }
    if reg.services.len() > MAX_SERVICES {
        return Err(ApiError::bad_data(format!(
            "{} services, more than the limit of {MAX_SERVICES}",
            reg.services.len()
        )));
    }
    let mut names = std::collections::HashSet::new();
    for s in &reg.services {
        let bad = |m: String| ApiError::bad_data(format!("service {:?}: {m}", s.name));
        if s.name.is_empty() || s.name.len() > MAX_TEXT {
            return Err(bad(format!("a name is 1 to {MAX_TEXT} bytes")));
        }
        if !names.insert(s.name.as_str()) {
            return Err(bad("registered twice".into()));
        }
        if s.replicas.len() > MAX_REPLICAS || s.replicas_desired as usize > MAX_REPLICAS {
            return Err(bad(format!("more than {MAX_REPLICAS} replicas")));
        }
        if s.labels.len() > MAX_LABELS {
            return Err(bad(format!("more than {MAX_LABELS} labels")));
        }
        if s.labels
            .iter()
            .any(|(k, v)| k.len() > MAX_TEXT || v.len() > MAX_TEXT)
        {
            return Err(bad(format!("a label is longer than {MAX_TEXT} bytes")));
        }
        if let Some(p) = &s.metrics_path
            && (!p.starts_with('/') || p.len() > MAX_TEXT)
        {
            return Err(bad(format!("metrics_path {p:?} must start with '/'")));
        }
        for r in &s.replicas {
            if r.instance.is_empty() || r.instance.len() > MAX_TEXT {
                return Err(bad(format!("an instance is 1 to {MAX_TEXT} bytes")));
            }
            if !STATES.contains(&r.state.as_str()) {
                return Err(bad(format!(
                    "replica {:?}: unknown state {:?} (expected one of {})",
                    r.instance,
                    r.state,
                    STATES.join(", ")
                )));
            }
            if let Some(t) = &r.metrics_target
                && !is_host_port(t)
            {
                return Err(bad(format!(
                    "replica {:?}: metrics_target {t:?} is not host:port",
                    r.instance
                )));
            }
            if r.last_exit.as_ref().is_some_and(|x| x.len() > MAX_TEXT) {
                return Err(bad(format!("last_exit longer than {MAX_TEXT} bytes")));
            }
        }
    }
    Ok(())
}

fn is_host_port(t: &str) -> bool {
    t.len() <= MAX_TEXT
        && t.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok_and(|p| p > 0)
        })
}

/// One job per (project, service) with metrics; one target group per replica so each carries
/// its own `instance`.
fn scrape_configs(projects: &BTreeMap<String, Entry>) -> Vec<ScrapeConfig> {
    let mut out = Vec::new();
    for (project, e) in projects {
        for s in &e.registration.services {
            let Some(path) = &s.metrics_path else {
                continue;
            };
            let static_configs: Vec<collector::scrape::config::StaticConfig> = s
                .replicas
                .iter()
                .filter_map(|r| {
                    let target = r.metrics_target.clone()?;
                    let labels = BTreeMap::from([
                        ("job".to_string(), s.name.clone()),
                        ("project".to_string(), project.clone()),
                        ("service".to_string(), s.name.clone()),
                        ("instance".to_string(), r.instance.clone()),
                    ]);
                    Some(collector::scrape::config::StaticConfig {
                        targets: vec![target],
                        labels,
                    })
                })
                .collect();
            if static_configs.is_empty() {
                continue;
            }
            out.push(job(format!("{project}/{}", s.name), path, static_configs));
        }
    }
    out
}

fn job(
    name: String,
    path: &str,
    static_configs: Vec<collector::scrape::config::StaticConfig>,
) -> ScrapeConfig {
    ScrapeConfig {
        job_name: name,
        honor_labels: false,
        honor_timestamps: true,
        params: BTreeMap::new(),
        scrape_interval: None,
        scrape_timeout: None,
        metrics_path: path.to_string(),
        scheme: "http".into(),
        body_size_limit: Default::default(),
        sample_limit: 0,
        target_limit: 0,
        label_limit: 0,
        label_name_length_limit: 0,
        label_value_length_limit: 0,
        static_configs,
        file_sd_configs: Vec::new(),
        relabel_configs: Vec::new(),
        metric_relabel_configs: Vec::new(),
        basic_auth: None,
        authorization: None,
        bearer_token: None,
        bearer_token_file: None,
        tls_config: None,
        follow_redirects: None,
        enable_http2: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(instance: &str, state: &str, restarts: u64, port: u16) -> ReplicaRegistration {
        ReplicaRegistration {
            instance: instance.into(),
            pid: Some(42),
            state: state.into(),
            restarts,
            port: Some(port),
            metrics_target: Some(format!("127.0.0.1:{port}")),
            started_at_ms: None,
            last_exit: None,
        }
    }

    fn reg(ttl: u64) -> ProjectRegistration {
        ProjectRegistration {
            ttl_seconds: ttl,
            services: vec![ServiceRegistration {
                name: "backend".into(),
                replicas_desired: 2,
                metrics_path: Some("/metrics".into()),
                labels: BTreeMap::new(),
                replicas: vec![
                    replica("backend-1", "running", 0, 8000),
                    replica("backend-2", "backoff", 3, 8001),
                ],
            }],
        }
    }

    #[test]
    fn jobs_per_project_and_service_with_labels() {
        let r = ProjectRegistry::new();
        r.register("dev", reg(30)).unwrap();
        r.register("staging", reg(30)).unwrap();
        let jobs = r.scrape_configs();
        let names: Vec<&str> = jobs.iter().map(|j| j.job_name.as_str()).collect();
        assert_eq!(names, ["dev/backend", "staging/backend"]);
        let sc = &jobs[1].static_configs[1];
        assert_eq!(sc.targets, ["127.0.0.1:8001"]);
        assert_eq!(sc.labels["job"], "backend");
        assert_eq!(sc.labels["project"], "staging");
        assert_eq!(sc.labels["instance"], "backend-2");
        collector::scrape::validate(&GlobalConfig::default(), &jobs).unwrap();
    }

    #[test]
    fn metrics_count_running_replicas_and_restarts() {
        let r = Arc::new(ProjectRegistry::new());
        r.register("dev", reg(30)).unwrap();
        let m = Registry::new();
        r.register_metrics(&m);
        let text = m.render();
        assert!(
            text.contains("tetrad_service_replicas{project=\"dev\",service=\"backend\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "tetrad_service_replicas_desired{project=\"dev\",service=\"backend\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("tetrad_service_restarts_total{project=\"dev\",service=\"backend\",instance=\"backend-2\"} 3\n"),
            "{text}"
        );
        assert!(r.deregister("dev"));
        assert!(!r.deregister("dev"));
        assert!(!m.render().contains("project=\"dev\""));
    }

    #[test]
    fn expired_projects_are_dropped() {
        let r = ProjectRegistry::new();
        r.register("dev", reg(1)).unwrap();
        assert!(r.expire().is_empty());
        // Age the heartbeat instead of sleeping.
        if let Some(e) = r.projects.lock().get_mut("dev") {
            e.heartbeat = Instant::now()
                .checked_sub(Duration::from_secs(5))
                .unwrap_or(e.heartbeat);
        }
        assert_eq!(r.expire(), ["dev"]);
        assert!(r.list().is_empty());
    }

    #[test]
    fn bad_registrations_name_the_problem() {
        let r = ProjectRegistry::new();
        let e = r.register("Dev", reg(30)).unwrap_err();
        assert!(e.message.contains("invalid project name \"Dev\""), "{e}");
        let e = r.register("dev", reg(0)).unwrap_err();
        assert!(e.message.contains("ttl_seconds 0"), "{e}");
        let mut bad = reg(30);
        bad.services[0].replicas[0].state = "zombie".into();
        let e = r.register("dev", bad).unwrap_err();
        assert!(e.message.contains("unknown state \"zombie\""), "{e}");
        let mut bad = reg(30);
        bad.services[0].replicas[0].metrics_target = Some("http://x/".into());
        let e = r.register("dev", bad).unwrap_err();
        assert!(e.message.contains("is not host:port"), "{e}");
        assert!(r.list().is_empty());
    }
}
