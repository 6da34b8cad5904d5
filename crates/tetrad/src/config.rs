//! The stack file (`tetrad.yaml`): raw structs that mirror the YAML (unknown keys are errors),
//! then [`Settings`], the validated configuration every component gets explicitly.

use crate::cli::SharedArgs;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration error, naming where it is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// YAML syntax or structure (unknown key, wrong type), with the parser's location.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message including line and column.
        message: String,
    },
    /// A value that parses but is not valid.
    #[error("{origin}: {key}: {message}")]
    Invalid {
        /// File (with line when known) or the flag/variable the value came from.
        origin: String,
        /// The key, e.g. `retention.metrics`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// A string from the file with where it was written, for errors.
pub type Text = serde_saphyr::Spanned<String>;

/// The stack file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub project: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub http_addr: Option<Text>,
    pub otlp_grpc_addr: Option<Text>,
    pub otlp_http_addr: Option<Text>,
    pub pyroscope_addr: Option<Text>,
    pub log_level: Option<String>,
    pub retention: Option<RawRetention>,
    pub storage: Option<RawStorage>,
    pub limits: Option<RawLimits>,
    pub query: Option<RawQuery>,
    /// Prometheus' `global:` block (scrape interval and timeout defaults).
    pub global: Option<collector::scrape::GlobalConfig>,
    /// Prometheus' `scrape_configs:`, unchanged syntax.
    #[serde(default)]
    pub scrape_configs: Vec<collector::scrape::ScrapeConfig>,
    /// Whether tetrad scrapes its own `/metrics` (default true).
    pub self_scrape: Option<bool>,
    /// Services `tetrad up` supervises, compose-like.
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, crate::stack_services::RawService>,
    /// Dashboard provisioning for the UI.
    pub dashboards: Option<RawDashboards>,
}

/// `dashboards:` — a folder of Grafana dashboard JSON files, relative to the stack file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDashboards {
    pub path: Option<PathBuf>,
}

/// `retention:` per signal.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    /// Metrics kept this long, e.g. `15d`.
    pub metrics: Option<Text>,
    /// Metrics kept up to this many bytes on disk, e.g. `10GB`.
    pub metrics_size: Option<Text>,
}

/// `storage:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    /// `tsdb:` settings named as in Prometheus' config.
    pub tsdb: Option<RawTsdb>,
}

/// `storage.tsdb:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTsdb {
    /// Accept samples this much older than a series' newest.
    pub out_of_order_time_window: Option<Text>,
    /// `always` or a group-commit interval like `100ms`.
    pub wal_fsync: Option<Text>,
}

/// `limits:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Most active series in total.
    pub max_series: Option<usize>,
    /// Largest push body in bytes.
    pub max_push_body_bytes: Option<usize>,
}

/// `query:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuery {
    /// `--query.timeout`.
    pub timeout: Option<Text>,
    /// `--query.max-samples`.
    pub max_samples: Option<usize>,
    /// `--query.lookback-delta`.
    pub lookback_delta: Option<Text>,
    /// `--query.max-concurrency`.
    pub max_concurrency: Option<usize>,
}

/// Validated settings.
#[derive(Debug, Clone)]
// Settings for receivers and retention are wired as those components land.
#[allow(dead_code)]
pub struct Settings {
    pub file: Option<PathBuf>,
    pub project: String,
    pub data_dir: PathBuf,
    pub http_addr: SocketAddr,
    pub otlp_grpc_addr: SocketAddr,
    pub otlp_http_addr: SocketAddr,
    pub pyroscope_addr: SocketAddr,
    pub log_level: String,
    pub retention_ms: i64,
    pub retention_bytes: Option<u64>,
    pub out_of_order_window_ms: i64,
    pub wal_fsync: WalFsync,
    pub max_series: usize,
    pub max_push_body_bytes: usize,
    pub query_timeout: Duration,
    pub query_max_samples: usize,
    pub query_lookback_ms: i64,
    pub query_max_concurrency: usize,
    pub global: collector::scrape::GlobalConfig,
    pub scrape_configs: Vec<collector::scrape::ScrapeConfig>,
    pub self_scrape: bool,
    /// The stack file's `services:`, validated.
    pub services: Vec<crate::stack_services::ServiceConfig>,
    /// Folder of provisioned dashboards (`dashboards.path`, resolved against the stack file's
    /// folder); the built-in service dashboard is served either way.
    pub dashboards_dir: Option<PathBuf>,
}

/// When the WAL is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalFsync {
    /// Before every acknowledgement.
    Always,
    /// Group commit: at most this interval after an acknowledgement.
    Interval(Duration),
}

/// Where a value came from, for error messages.
fn flag_origin(key: &str) -> String {
    format!(
        "--{} / TETRAD_{}",
        key.replace('_', "-"),
        key.to_uppercase()
    )
}

/// `file:line:column` of a value from the stack file.
fn file_origin(file: &Option<PathBuf>, v: &Text) -> String {
    let name = file
        .as_ref()
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| "<stack file>".into());
    format!("{name}:{}:{}", v.referenced.line(), v.referenced.column())
}

/// A value from the flag/environment, else the file, else `None`; with its origin.
fn pick(
    flag: &Option<String>,
    key: &str,
    file_v: Option<Text>,
    file: &Option<PathBuf>,
) -> Option<(String, String)> {
    match (flag, file_v) {
        (Some(f), _) => Some((f.clone(), flag_origin(key))),
        (None, Some(v)) => {
            let o = file_origin(file, &v);
            Some((v.value, o))
        }
        (None, None) => None,
    }
}

/// A value only the file sets.
fn from_file(file_v: Option<Text>, file: &Option<PathBuf>) -> Option<(String, String)> {
    pick(&None, "", file_v, file)
}

/// Reads the stack file (if any) and merges flags, environment and defaults.
pub fn load(args: &SharedArgs) -> Result<Settings, ConfigError> {
    let file = match &args.file {
        Some(f) => Some(f.clone()),
        None => Path::new("tetrad.yaml")
            .exists()
            .then(|| PathBuf::from("tetrad.yaml")),
    };
    let raw = match &file {
        Some(f) => parse_file(f)?,
        None => RawFile::default(),
    };
    resolve(args, raw, file)
}

/// Parses a stack file.
pub fn parse_file(path: &Path) -> Result<RawFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: path.display().to_string(),
        source,
    })?;
    parse_str(&text, &path.display().to_string())
}

/// Parses stack-file text; `name` is used in errors.
pub fn parse_str(text: &str, name: &str) -> Result<RawFile, ConfigError> {
    if text.trim().is_empty() {
        return Ok(RawFile::default());
    }
    serde_saphyr::from_str(text).map_err(|e| ConfigError::Parse {
        file: name.to_string(),
        message: e.to_string(),
    })
}

fn addr(
    flag: &Option<String>,
    file_v: Option<Text>,
    default: &str,
    key: &str,
    file: &Option<PathBuf>,
) -> Result<SocketAddr, ConfigError> {
    let (v, origin) =
        pick(flag, key, file_v, file).unwrap_or_else(|| (default.to_string(), "default".into()));
    v.parse().map_err(|e| ConfigError::Invalid {
        origin,
        key: key.into(),
        message: format!("invalid address {v:?}: {e} (expected host:port, e.g. 127.0.0.1:3000)"),
    })
}

fn duration_ms(v: &str, origin: String, key: &str) -> Result<i64, ConfigError> {
    model::time::parse_duration_ms(v).map_err(|_| ConfigError::Invalid {
        origin,
        key: key.into(),
        message: format!("invalid duration {v:?} (expected e.g. 30s, 5m, 2h, 15d)"),
    })
}

/// Parses sizes like `512MB`, `10GB`, `1TiB`, or plain bytes.
fn bytes_size(v: &str) -> Option<u64> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

pub(crate) fn resolve(
    args: &SharedArgs,
    raw: RawFile,
    file: Option<PathBuf>,
) -> Result<Settings, ConfigError> {
    let retention_raw = raw.retention.unwrap_or_default();
    let retention_ms = match pick(&args.retention, "retention", retention_raw.metrics, &file) {
        Some((v, o)) => duration_ms(&v, o, "retention.metrics")?,
        None => 15 * 86_400_000,
    };
    let retention_bytes = match from_file(retention_raw.metrics_size, &file) {
        None => None,
        Some((v, origin)) => Some(bytes_size(&v).ok_or_else(|| ConfigError::Invalid {
            origin,
            key: "retention.metrics_size".into(),
            message: format!("invalid size {v:?} (expected e.g. 512MB, 10GB)"),
        })?),
    };
    let tsdb = raw.storage.and_then(|s| s.tsdb).unwrap_or_default();
    let out_of_order_window_ms = match from_file(tsdb.out_of_order_time_window, &file) {
        Some((v, o)) => duration_ms(&v, o, "storage.tsdb.out_of_order_time_window")?,
        None => 0,
    };
    let wal_fsync = match from_file(tsdb.wal_fsync, &file) {
        None => WalFsync::Interval(Duration::from_millis(100)),
        Some((v, _)) if v == "always" => WalFsync::Always,
        Some((v, o)) => WalFsync::Interval(Duration::from_millis(
            duration_ms(&v, o, "storage.tsdb.wal_fsync")?.max(1) as u64,
        )),
    };
    let limits = raw.limits.unwrap_or_default();
    let query = raw.query.unwrap_or_default();
    let query_timeout = match from_file(query.timeout, &file) {
        Some((v, o)) => Duration::from_millis(duration_ms(&v, o, "query.timeout")?.max(1) as u64),
        None => Duration::from_secs(120),
    };
    let query_lookback_ms = match from_file(query.lookback_delta, &file) {
        Some((v, o)) => duration_ms(&v, o, "query.lookback_delta")?,
        None => 300_000,
    };
    if let Err(e) = collector::scrape::validate(
        raw.global.as_ref().unwrap_or(&Default::default()),
        &raw.scrape_configs,
    ) {
        return Err(ConfigError::Invalid {
            origin: file
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "<stack file>".into()),
            key: e.key.clone(),
            message: e.message.clone(),
        });
    }
    let project = match (&args.project, raw.project) {
        (Some(p), _) => checked_project(p, flag_origin("project"))?,
        (None, Some(p)) => checked_project(&p, file_name(&file))?,
        (None, None) => default_project(file.as_deref()),
    };
    let stack_dir = file
        .as_ref()
        .and_then(|f| std::fs::canonicalize(f).ok())
        .and_then(|f| f.parent().map(Path::to_path_buf))
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let services = crate::stack_services::resolve_services(raw.services, &file, &stack_dir)?;
    let dashboards_dir = raw.dashboards.and_then(|d| d.path).map(|p| {
        if p.is_absolute() {
            p
        } else {
            stack_dir.join(p)
        }
    });
    Ok(Settings {
        http_addr: addr(
            &args.http_addr,
            raw.http_addr,
            "127.0.0.1:3000",
            "http_addr",
            &file,
        )?,
        otlp_grpc_addr: addr(
            &args.otlp_grpc_addr,
            raw.otlp_grpc_addr,
            "127.0.0.1:4317",
            "otlp_grpc_addr",
            &file,
        )?,
        otlp_http_addr: addr(
            &args.otlp_http_addr,
            raw.otlp_http_addr,
            "127.0.0.1:4318",
            "otlp_http_addr",
            &file,
        )?,
        pyroscope_addr: addr(
            &args.pyroscope_addr,
            raw.pyroscope_addr,
            "127.0.0.1:4040",
            "pyroscope_addr",
            &file,
        )?,
        data_dir: args
            .data_dir
            .clone()
            .or(raw.data_dir)
            .unwrap_or_else(|| PathBuf::from("tetrad-data")),
        log_level: args
            .log_level
            .clone()
            .or(raw.log_level)
            .unwrap_or_else(|| "info".into()),
        project,
        retention_ms,
        retention_bytes,
        out_of_order_window_ms,
        wal_fsync,
        max_series: limits.max_series.unwrap_or(5_000_000),
        max_push_body_bytes: limits.max_push_body_bytes.unwrap_or(32 << 20),
        query_timeout,
        query_max_samples: query.max_samples.unwrap_or(50_000_000),
        query_lookback_ms,
        query_max_concurrency: query.max_concurrency.unwrap_or(20),
        global: raw.global.unwrap_or_default(),
        scrape_configs: raw.scrape_configs,
        self_scrape: raw.self_scrape.unwrap_or(true),
        services,
        dashboards_dir,
        file,
    })
}

/// The project name when none is given: the stack file's folder name, normalised like compose
/// (lowercase; only `a-z`, `0-9`, `_` and `-` kept; must start with a letter or digit).
fn default_project(file: Option<&Path>) -> String {
    let dir = file
        .and_then(|f| std::fs::canonicalize(f).ok())
        .and_then(|f| f.parent().map(Path::to_path_buf))
        .or_else(|| std::env::current_dir().ok());
    dir.and_then(|d| {
        d.file_name()
            .map(|n| normalise_project(&n.to_string_lossy()))
    })
    .filter(|n| !n.is_empty())
    .unwrap_or_else(|| "default".into())
}

/// Compose's normalisation of a folder name into a project name.
pub fn normalise_project(name: &str) -> String {
    let kept: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-'])
        .chars()
        .take(63)
        .collect()
}

/// An explicit project name must already be in normal form (compose refuses others too).
fn checked_project(name: &str, origin: String) -> Result<String, ConfigError> {
    if !name.is_empty() && normalise_project(name) == name {
        Ok(name.to_string())
    } else {
        Err(ConfigError::Invalid {
            origin,
            key: "project".into(),
            message: format!(
                "{name:?} is not a valid project name (1 to 63 lowercase letters, digits, '_' or '-', starting with a letter or digit)"
            ),
        })
    }
}

fn file_name(file: &Option<PathBuf>) -> String {
    file.as_ref()
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| "<stack file>".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str) -> Result<Settings, ConfigError> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/config")
            .join(name);
        let raw = parse_file(&path)?;
        resolve(&SharedArgs::default(), raw, Some(path))
    }

    /// Every `*.good.yaml` loads; every `*.bad.yaml` fails with the message in its first line
    /// (`# error: <substring>`).
    #[test]
    fn testdata_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/config");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".good.yaml") {
                check(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
                seen += 1;
            } else if name.ends_with(".bad.yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let want = text
                    .lines()
                    .next()
                    .and_then(|l| l.strip_prefix("# error: "))
                    .unwrap_or_else(|| panic!("{name}: first line must be '# error: ...'"));
                let err = check(&name)
                    .err()
                    .unwrap_or_else(|| panic!("{name} loaded"));
                let got = err.to_string();
                assert!(got.contains(want), "{name}: got {got:?}, want {want:?}");
                assert!(
                    got.contains(&name),
                    "{name}: error must name the file: {got}"
                );
                seen += 1;
            }
        }
        assert!(seen >= 4, "expected testdata files, found {seen}");
    }

    #[test]
    fn flags_win_over_file() {
        let raw = parse_str(
            "http_addr: 127.0.0.1:1\nretention:\n  metrics: 2d\n",
            "t.yaml",
        )
        .unwrap();
        let args = SharedArgs {
            http_addr: Some("127.0.0.1:2".into()),
            ..Default::default()
        };
        let s = resolve(&args, raw, None).unwrap();
        assert_eq!(s.http_addr.port(), 2);
        assert_eq!(s.retention_ms, 2 * 86_400_000);
    }

    #[test]
    fn dashboards_path_is_relative_to_the_stack_file() {
        let s = check("dashboards.good.yaml").unwrap();
        let dir =
            std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/config"))
                .unwrap();
        assert_eq!(s.dashboards_dir, Some(dir.join("dashboards")));
        assert_eq!(check("empty.good.yaml").unwrap().dashboards_dir, None);
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes_size("10GB"), Some(10_000_000_000));
        assert_eq!(bytes_size("1GiB"), Some(1 << 30));
        assert_eq!(bytes_size("12"), Some(12));
        assert_eq!(bytes_size("1XB"), None);
    }

    #[test]
    fn project_names() {
        assert_eq!(normalise_project("My App.v2"), "myappv2");
        assert_eq!(normalise_project("_x-Y"), "x-y");
        let args = SharedArgs {
            project: Some("Dev".into()),
            ..Default::default()
        };
        let e = resolve(&args, RawFile::default(), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--project / TETRAD_PROJECT: project:"), "{e}");
    }
}
