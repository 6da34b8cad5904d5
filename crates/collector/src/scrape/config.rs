//! `scrape_configs` and the `global` defaults in Prometheus' YAML shape, with validation that
//! names the offending key (`scrape_configs[2].relabel_configs[0].action: ...`).
//!
//! The structs only derive `Deserialize`; the binary chooses the YAML parser.

use super::duration::{ByteSize, PromDuration};
use super::relabel::{Relabel, RelabelConfig, compile_all};
use model::is_valid_label_name;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// The `global:` section fields that concern collection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "RawGlobalConfig")]
pub struct GlobalConfig {
    /// Default scrape interval; tetrad defaults to 15s (Prometheus: 1m).
    pub scrape_interval: PromDuration,
    /// Default scrape timeout: 10s, or the scrape interval when that is shorter.
    pub scrape_timeout: PromDuration,
    /// Rule evaluation interval, 15s.
    pub evaluation_interval: PromDuration,
    /// Labels added to data sent to external systems.
    pub external_labels: BTreeMap<String, String>,
    /// Accepted for compatibility; tetrad has no query log file.
    pub query_log_file: Option<String>,
}

/// `global:` as written: whether `scrape_timeout` was given decides its default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGlobalConfig {
    #[serde(default = "default_interval")]
    scrape_interval: PromDuration,
    #[serde(default)]
    scrape_timeout: Option<PromDuration>,
    #[serde(default = "default_interval")]
    evaluation_interval: PromDuration,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    query_log_file: Option<String>,
}

impl From<RawGlobalConfig> for GlobalConfig {
    fn from(raw: RawGlobalConfig) -> Self {
        GlobalConfig {
            // As Prometheus: an unset timeout is 10s, cut to the interval when that is shorter,
            // so `scrape_interval: 1s` alone is valid; an explicit one is checked in validate().
            scrape_timeout: raw
                .scrape_timeout
                .unwrap_or_else(|| default_timeout().min(raw.scrape_interval)),
            scrape_interval: raw.scrape_interval,
            evaluation_interval: raw.evaluation_interval,
            external_labels: raw.external_labels,
            query_log_file: raw.query_log_file,
        }
    }
}

fn default_interval() -> PromDuration {
    PromDuration::from_secs(15)
}
fn default_timeout() -> PromDuration {
    PromDuration::from_secs(10)
}
fn default_true() -> bool {
    true
}
fn default_metrics_path() -> String {
    "/metrics".into()
}
fn default_scheme() -> String {
    "http".into()
}
fn default_refresh() -> PromDuration {
    PromDuration::from_secs(300)
}
fn default_auth_type() -> String {
    "Bearer".into()
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            scrape_interval: default_interval(),
            scrape_timeout: default_timeout(),
            evaluation_interval: default_interval(),
            external_labels: BTreeMap::new(),
            query_log_file: None,
        }
    }
}

/// One `scrape_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    /// The job name, also the default `job` label.
    pub job_name: String,
    /// Keep the scraped labels on conflict instead of renaming them to `exported_*`.
    #[serde(default)]
    pub honor_labels: bool,
    /// Use timestamps the target exposes (default true).
    #[serde(default = "default_true")]
    pub honor_timestamps: bool,
    /// URL query parameters.
    #[serde(default)]
    pub params: BTreeMap<String, Vec<String>>,
    /// Overrides the global scrape interval.
    #[serde(default)]
    pub scrape_interval: Option<PromDuration>,
    /// Overrides the global scrape timeout.
    #[serde(default)]
    pub scrape_timeout: Option<PromDuration>,
    /// The HTTP path, `/metrics`.
    #[serde(default = "default_metrics_path")]
    pub metrics_path: String,
    /// `http` or `https`.
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// Largest uncompressed body; 0 means no limit.
    #[serde(default)]
    pub body_size_limit: ByteSize,
    /// Most samples per scrape after metric relabeling; 0 means no limit.
    #[serde(default)]
    pub sample_limit: u64,
    /// Most targets after relabeling; 0 means no limit.
    #[serde(default)]
    pub target_limit: u64,
    /// Most labels per sample; 0 means no limit.
    #[serde(default)]
    pub label_limit: u64,
    /// Longest label name; 0 means no limit.
    #[serde(default)]
    pub label_name_length_limit: u64,
    /// Longest label value; 0 means no limit.
    #[serde(default)]
    pub label_value_length_limit: u64,
    /// Static targets.
    #[serde(default)]
    pub static_configs: Vec<StaticConfig>,
    /// Targets read from JSON/YAML files.
    #[serde(default)]
    pub file_sd_configs: Vec<FileSdConfig>,
    /// Relabeling of targets.
    #[serde(default)]
    pub relabel_configs: Vec<RelabelConfig>,
    /// Relabeling of scraped samples.
    #[serde(default)]
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// HTTP basic auth.
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header.
    #[serde(default)]
    pub authorization: Option<Authorization>,
    /// Legacy bearer token.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// Legacy bearer token file.
    #[serde(default)]
    pub bearer_token_file: Option<String>,
    /// TLS settings.
    #[serde(default)]
    pub tls_config: Option<TlsConfig>,
    /// Whether to follow redirects (default true).
    #[serde(default)]
    pub follow_redirects: Option<bool>,
    /// Accepted for compatibility.
    #[serde(default)]
    pub enable_http2: Option<bool>,
}

/// A `static_configs` entry: targets plus labels for all of them.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    /// `host:port` addresses.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Labels added to every target.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// A `file_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    /// File paths or globs ending in `.json`, `.yml` or `.yaml`.
    pub files: Vec<String>,
    /// How often to re-read, 5m.
    #[serde(default = "default_refresh")]
    pub refresh_interval: PromDuration,
}

/// `basic_auth`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    #[serde(default)]
    pub password: Option<String>,
    /// File holding the password.
    #[serde(default)]
    pub password_file: Option<String>,
}

/// `authorization`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// The scheme, `Bearer` by default.
    #[serde(default = "default_auth_type", rename = "type")]
    pub auth_type: String,
    /// The credentials.
    #[serde(default)]
    pub credentials: Option<String>,
    /// File holding the credentials.
    #[serde(default)]
    pub credentials_file: Option<String>,
}

/// `tls_config`: only certificate checking can be switched off for now.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Skip certificate verification.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// A configuration error: the key path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// E.g. `scrape_configs[2].relabel_configs[0].action`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// A scrape config with defaults filled in and relabel rules compiled.
#[derive(Debug, Clone)]
pub struct ResolvedScrapeConfig {
    /// The config as written.
    pub config: ScrapeConfig,
    /// Effective interval.
    pub interval: PromDuration,
    /// Effective timeout.
    pub timeout: PromDuration,
    /// Compiled `relabel_configs`.
    pub relabel: Vec<Relabel>,
    /// Compiled `metric_relabel_configs`.
    pub metric_relabel: Vec<Relabel>,
}

fn err(key: String, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key,
        message: message.into(),
    }
}

/// Splits "[1].action: msg" from `compile_all` into key suffix and message.
fn relabel_err(prefix: &str, e: String) -> ConfigError {
    match e.split_once(": ") {
        Some((k, m)) => err(format!("{prefix}{k}"), m),
        None => err(prefix.to_string(), e),
    }
}

impl ScrapeConfig {
    /// Validates this entry (at position `index`) against the global defaults and resolves it.
    pub fn resolve(
        &self,
        global: &GlobalConfig,
        index: usize,
    ) -> Result<ResolvedScrapeConfig, ConfigError> {
        let at = |k: &str| format!("scrape_configs[{index}].{k}");
        if self.job_name.is_empty() {
            return Err(err(at("job_name"), "job_name is empty"));
        }
        let interval = self.scrape_interval.unwrap_or(global.scrape_interval);
        if interval.get().is_zero() {
            return Err(err(
                at("scrape_interval"),
                "scrape interval must be positive",
            ));
        }
        let timeout = match self.scrape_timeout {
            Some(t) => t,
            // An unset timeout never exceeds the interval, as in Prometheus.
            None => global.scrape_timeout.min(interval),
        };
        if timeout.get().is_zero() {
            return Err(err(at("scrape_timeout"), "scrape timeout must be positive"));
        }
        if timeout > interval {
            return Err(err(
                at("scrape_timeout"),
                format!(
                    "scrape timeout greater than scrape interval for scrape config with job name {:?}",
                    self.job_name
                ),
            ));
        }
        if self.scheme != "http" && self.scheme != "https" {
            return Err(err(
                at("scheme"),
                format!(
                    "unsupported scheme {:?}, expected http or https",
                    self.scheme
                ),
            ));
        }
        if !self.metrics_path.starts_with('/') {
            return Err(err(
                at("metrics_path"),
                format!("{:?} must start with '/'", self.metrics_path),
            ));
        }
        if let Some(ba) = &self.basic_auth
            && ba.password.is_some()
            && ba.password_file.is_some()
        {
            return Err(err(
                at("basic_auth"),
                "at most one of basic_auth password & password_file must be configured",
            ));
        }
        let auth_count = usize::from(self.basic_auth.is_some())
            + usize::from(self.authorization.is_some())
            + usize::from(self.bearer_token.is_some() || self.bearer_token_file.is_some());
        if auth_count > 1 || (self.bearer_token.is_some() && self.bearer_token_file.is_some()) {
            return Err(err(
                at("authorization"),
                "at most one of basic_auth, authorization, bearer_token & bearer_token_file must be configured",
            ));
        }
        if let Some(a) = &self.authorization {
            if a.auth_type.eq_ignore_ascii_case("basic") {
                return Err(err(
                    at("authorization.type"),
                    "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
                ));
            }
            if a.credentials.is_some() && a.credentials_file.is_some() {
                return Err(err(
                    at("authorization"),
                    "at most one of authorization credentials & credentials_file must be configured",
                ));
            }
        }
        for (i, sc) in self.static_configs.iter().enumerate() {
            for (j, t) in sc.targets.iter().enumerate() {
                if t.is_empty() || t.contains('/') {
                    return Err(err(
                        at(&format!("static_configs[{i}].targets[{j}]")),
                        format!("{t:?} is not a valid hostname"),
                    ));
                }
            }
            for name in sc.labels.keys() {
                if !is_valid_label_name(name) {
                    return Err(err(
                        at(&format!("static_configs[{i}].labels")),
                        format!("{name:?} is not a valid label name"),
                    ));
                }
            }
        }
        for (i, fc) in self.file_sd_configs.iter().enumerate() {
            for (j, f) in fc.files.iter().enumerate() {
                let ok = [".json", ".yml", ".yaml"].iter().any(|e| f.ends_with(e));
                if !ok {
                    return Err(err(
                        at(&format!("file_sd_configs[{i}].files[{j}]")),
                        format!("path name {f:?} is not valid for file discovery"),
                    ));
                }
                if glob::Pattern::new(f).is_err() {
                    return Err(err(
                        at(&format!("file_sd_configs[{i}].files[{j}]")),
                        format!("invalid glob pattern {f:?}"),
                    ));
                }
            }
            if fc.refresh_interval.get().is_zero() {
                return Err(err(
                    at(&format!("file_sd_configs[{i}].refresh_interval")),
                    "refresh interval must be positive",
                ));
            }
        }
        let relabel = compile_all(&self.relabel_configs)
            .map_err(|e| relabel_err(&at("relabel_configs"), e))?;
        let metric_relabel = compile_all(&self.metric_relabel_configs)
            .map_err(|e| relabel_err(&at("metric_relabel_configs"), e))?;
        Ok(ResolvedScrapeConfig {
            config: self.clone(),
            interval,
            timeout,
            relabel,
            metric_relabel,
        })
    }
}

impl GlobalConfig {
    /// Validates the global section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.scrape_timeout > self.scrape_interval {
            return Err(err(
                "global.scrape_timeout".into(),
                "global scrape timeout greater than scrape interval",
            ));
        }
        for name in self.external_labels.keys() {
            if !is_valid_label_name(name) {
                return Err(err(
                    "global.external_labels".into(),
                    format!("{name:?} is not a valid label name"),
                ));
            }
        }
        Ok(())
    }
}

/// Validates the global section and every scrape config (including unique job names), and
/// resolves them.
pub fn validate(
    global: &GlobalConfig,
    configs: &[ScrapeConfig],
) -> Result<Vec<ResolvedScrapeConfig>, ConfigError> {
    global.validate()?;
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(configs.len());
    for (i, c) in configs.iter().enumerate() {
        if !names.insert(c.job_name.as_str()) {
            return Err(err(
                format!("scrape_configs[{i}].job_name"),
                format!(
                    "found multiple scrape configs with job name {:?}",
                    c.job_name
                ),
            ));
        }
        out.push(c.resolve(global, i)?);
    }
    Ok(out)
}
