//! The scrape manager: one pool per `scrape_configs` entry, one task per target.

use super::append::{AppendSettings, ScrapeCache};
use super::config::{ConfigError, GlobalConfig, ResolvedScrapeConfig, ScrapeConfig, validate};
use super::discovery::{TargetGroup, read_file_sd, static_groups};
use super::fetch::Auth;
use super::scrape_loop::{LoopParams, LoopStatus, Signal, run};
use super::status::{DroppedTarget, TargetStatus, label_map};
use super::target::{TargetSpec, build_targets};
use model::Labels;
use model::time::rfc3339_ms;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tsdb::Appendable;

type TargetKey = (Labels, String);

struct LoopHandle {
    spec: TargetSpec,
    status: Arc<Mutex<LoopStatus>>,
    cache: Arc<Mutex<ScrapeCache>>,
    stop: watch::Sender<Signal>,
}

impl LoopHandle {
    fn stop(&self, stale: bool) {
        let _ = self.stop.send(Signal::Stop { stale });
    }
}

struct Pool {
    cfg: Arc<ResolvedScrapeConfig>,
    client: reqwest::Client,
    loops: HashMap<TargetKey, LoopHandle>,
    dropped: Vec<Labels>,
    errors: Vec<String>,
    sd_task: Option<JoinHandle<()>>,
}

impl Pool {
    fn stop_all(&mut self, stale: bool) {
        for (_, h) in self.loops.drain() {
            h.stop(stale);
        }
        if let Some(t) = self.sd_task.take() {
            t.abort();
        }
    }
}

struct Inner {
    store: Arc<dyn Appendable>,
    pools: Mutex<BTreeMap<String, Pool>>,
}

/// Runs scrape loops for the configured targets and reports their state.
///
/// Methods that start tasks must be called from within a tokio runtime. Dropping the manager
/// stops every loop (with stale markers).
pub struct ScrapeManager {
    inner: Arc<Inner>,
}

impl ScrapeManager {
    /// A manager appending to `store`, with no targets yet.
    pub fn new(store: Arc<dyn Appendable>) -> Self {
        ScrapeManager {
            inner: Arc::new(Inner {
                store,
                pools: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// Validates and applies a configuration: removed jobs stop (their series are marked
    /// stale), changed jobs restart keeping each surviving target's staleness memory, new jobs
    /// start. Nothing changes when validation fails.
    pub fn apply_config(
        &self,
        global: &GlobalConfig,
        configs: &[ScrapeConfig],
    ) -> Result<(), ConfigError> {
        let resolved = validate(global, configs)?;
        let mut pools = self.inner.pools.lock();
        let wanted: std::collections::HashSet<&str> = resolved
            .iter()
            .map(|r| r.config.job_name.as_str())
            .collect();
        pools.retain(|name, pool| {
            let keep = wanted.contains(name.as_str());
            if !keep {
                pool.stop_all(true);
            }
            keep
        });
        for r in resolved {
            let name = r.config.job_name.clone();
            let mut inherited: HashMap<TargetKey, Arc<Mutex<ScrapeCache>>> = HashMap::new();
            if let Some(old) = pools.get_mut(&name) {
                let same = old.cfg.config == r.config
                    && old.cfg.interval == r.interval
                    && old.cfg.timeout == r.timeout;
                if same {
                    continue;
                }
                for (k, h) in old.loops.drain() {
                    h.stop(false);
                    inherited.insert(k, h.cache);
                }
                old.stop_all(true);
            }
            let insecure = r
                .config
                .tls_config
                .as_ref()
                .is_some_and(|t| t.insecure_skip_verify);
            let follow = r.config.follow_redirects.unwrap_or(true);
            let client = crate::http_client::build_with(r.timeout.get(), insecure, follow)
                .map_err(|e| ConfigError {
                    key: format!("scrape_configs.{name}"),
                    message: format!("building the HTTP client: {e}"),
                })?;
            let cfg = Arc::new(r);
            let mut pool = Pool {
                cfg: cfg.clone(),
                client,
                loops: HashMap::new(),
                dropped: Vec::new(),
                errors: Vec::new(),
                sd_task: None,
            };
            let groups = discover(&cfg.config);
            sync_pool(&self.inner.store, &mut pool, &groups, &mut inherited);
            // Caches of targets that did not survive the reload: their series go stale.
            for ((labels, _), cache) in inherited {
                let now = model::time::now_ms();
                let mut c = cache.lock();
                super::append::mark_stale(now, &*self.inner.store, &mut c);
                if c.reported {
                    super::append::report_stale(now, &labels, &*self.inner.store);
                    c.reported = false;
                }
            }
            if let Some(every) = cfg
                .config
                .file_sd_configs
                .iter()
                .map(|f| f.refresh_interval.get())
                .min()
            {
                pool.sd_task = Some(tokio::spawn(refresh_file_sd(
                    Arc::downgrade(&self.inner),
                    cfg.clone(),
                    every,
                )));
            }
            pools.insert(name, pool);
        }
        Ok(())
    }

    /// Active targets, by pool then URL.
    pub fn targets(&self) -> Vec<TargetStatus> {
        let pools = self.inner.pools.lock();
        let mut out = Vec::new();
        for (name, pool) in pools.iter() {
            let mut ts: Vec<TargetStatus> = pool
                .loops
                .values()
                .map(|h| {
                    let st = h.status.lock().clone();
                    TargetStatus {
                        discovered_labels: label_map(&h.spec.discovered),
                        labels: label_map(&h.spec.labels),
                        scrape_pool: name.clone(),
                        scrape_url: h.spec.url.clone(),
                        global_url: h.spec.url.clone(),
                        last_error: st.last_error,
                        last_scrape: rfc3339_ms(st.last_scrape_ms),
                        last_scrape_ms: st.last_scrape_ms,
                        last_scrape_duration: st.last_duration,
                        health: st.health,
                        scrape_interval: h.spec.interval.to_string(),
                        scrape_timeout: h.spec.timeout.to_string(),
                    }
                })
                .collect();
            ts.sort_by(|a, b| {
                a.scrape_url
                    .cmp(&b.scrape_url)
                    .then(a.labels.cmp(&b.labels))
            });
            out.extend(ts);
        }
        out
    }

    /// Targets relabeling dropped.
    pub fn dropped_targets(&self) -> Vec<DroppedTarget> {
        let pools = self.inner.pools.lock();
        pools
            .values()
            .flat_map(|p| p.dropped.iter())
            .map(|d| DroppedTarget {
                discovered_labels: label_map(d),
            })
            .collect()
    }

    /// Discovery problems (unreadable file_sd files, invalid targets), per job.
    pub fn discovery_errors(&self) -> Vec<(String, String)> {
        let pools = self.inner.pools.lock();
        pools
            .iter()
            .flat_map(|(n, p)| p.errors.iter().map(move |e| (n.clone(), e.clone())))
            .collect()
    }

    /// Stops every loop, writing stale markers.
    pub fn stop(&self) {
        let mut pools = self.inner.pools.lock();
        for (_, mut p) in std::mem::take(&mut *pools) {
            p.stop_all(true);
        }
    }
}

impl Drop for ScrapeManager {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Static groups plus the current content of the file_sd files.
fn discover(cfg: &ScrapeConfig) -> Vec<TargetGroup> {
    let mut groups = static_groups(cfg);
    for f in &cfg.file_sd_configs {
        let (g, errors) = read_file_sd(f);
        for e in errors {
            tracing::warn!(job = %cfg.job_name, error = %e, "file_sd");
        }
        groups.extend(g);
    }
    groups
}

/// Makes the pool's loops match the targets of `groups`.
fn sync_pool(
    store: &Arc<dyn Appendable>,
    pool: &mut Pool,
    groups: &[TargetGroup],
    inherited: &mut HashMap<TargetKey, Arc<Mutex<ScrapeCache>>>,
) {
    let cfg = pool.cfg.clone();
    let c = &cfg.config;
    let t = build_targets(groups, &cfg);
    pool.dropped = t.dropped;
    pool.errors = t.errors;
    for e in &pool.errors {
        tracing::warn!(job = %c.job_name, error = %e, "invalid target");
    }
    let mut active = t.active;
    if c.target_limit > 0 && active.len() as u64 > c.target_limit {
        pool.errors.push(format!(
            "target_limit exceeded (number of targets: {}, limit: {})",
            active.len(),
            c.target_limit
        ));
        active.clear();
    }
    let wanted: HashMap<TargetKey, TargetSpec> = active.into_iter().map(|s| (s.key(), s)).collect();
    pool.loops.retain(|k, h| {
        let keep = wanted.contains_key(k);
        if !keep {
            h.stop(true);
        }
        keep
    });
    for (key, spec) in wanted {
        if pool.loops.contains_key(&key) {
            continue;
        }
        let cache = inherited.remove(&key).unwrap_or_default();
        // The line cache holds labels computed with the old settings.
        cache.lock().lines.clear();
        let status = Arc::new(Mutex::new(LoopStatus::default()));
        let (tx, rx) = watch::channel(Signal::Run);
        let params = LoopParams {
            store: store.clone(),
            client: pool.client.clone(),
            spec: spec.clone(),
            settings: AppendSettings {
                target_labels: spec.labels.clone(),
                honor_labels: c.honor_labels,
                honor_timestamps: c.honor_timestamps,
                metric_relabel: cfg.metric_relabel.clone(),
                sample_limit: c.sample_limit,
                label_limit: c.label_limit,
                label_name_length_limit: c.label_name_length_limit,
                label_value_length_limit: c.label_value_length_limit,
            },
            auth: Auth::from_config(c),
            body_size_limit: c.body_size_limit.0,
            status: status.clone(),
            cache: cache.clone(),
        };
        tokio::spawn(run(params, rx));
        pool.loops.insert(
            key,
            LoopHandle {
                spec,
                status,
                cache,
                stop: tx,
            },
        );
    }
}

async fn refresh_file_sd(
    inner: std::sync::Weak<Inner>,
    cfg: Arc<ResolvedScrapeConfig>,
    every: Duration,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let groups = discover(&cfg.config);
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let mut pools = inner.pools.lock();
        match pools.get_mut(&cfg.config.job_name) {
            Some(pool) if Arc::ptr_eq(&pool.cfg, &cfg) => {
                sync_pool(&inner.store, pool, &groups, &mut HashMap::new());
            }
            _ => return,
        }
    }
}
