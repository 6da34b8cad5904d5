//! The stack file's `services:` section: compose-like entries that `tetrad up` supervises.
//!
//! [`RawService`] mirrors the YAML (unknown keys are errors); [`resolve_services`] validates it
//! into [`ServiceConfig`]s whose errors name `file:line:col` and the key
//! (`services.backend.replicas`). Relative paths (`cwd`, a `command` containing `/`) are taken
//! from the stack file's folder, so `tetrad up -f other/tetrad.yaml` behaves the same from any
//! working directory. The scrape opt-in follows the compose-label convention of the seed stack:
//! `metrics.scrape: "true"`, `metrics.path` (default `/metrics`), `metrics.port` (default the
//! service's `port`); replica `i` (0-based) listens on `port + i` and is scraped at
//! `metrics.port + i`.

use crate::config::{ConfigError, Text};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Most replicas of one service (the supervisor's limit too).
pub const MAX_REPLICAS: u32 = 64;

/// Most services in one stack file.
pub const MAX_SERVICES: usize = 256;

/// One `services:` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// The program, or `[program, arg, ...]`.
    pub command: Option<Spanned<RawCommand>>,
    /// Arguments after those of `command`.
    #[serde(default)]
    pub args: Vec<Scalar>,
    /// A map, or a list of `KEY=VALUE` like compose.
    pub env: Option<Spanned<RawEnv>>,
    /// Working directory, relative to the stack file's folder.
    pub cwd: Option<Spanned<PathBuf>>,
    /// Number of processes (default 1).
    pub replicas: Option<Spanned<i64>>,
    /// `always` (default), `on-failure` or `no`.
    pub restart: Option<Spanned<Scalar>>,
    /// Base port: replica `i` gets `port + i` in `port_env`.
    pub port: Option<Spanned<i64>>,
    /// The variable carrying the port (default `PORT`).
    pub port_env: Option<Text>,
    /// Free-form labels; `metrics.*` ones opt into scraping.
    #[serde(default)]
    pub labels: BTreeMap<String, Spanned<Scalar>>,
}

/// `command:` as a line or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawCommand {
    /// `command: ./app` (no shell: the whole string is the program; use `args` or the list form).
    Line(String),
    /// `command: [./app, --flag]`.
    List(Vec<Scalar>),
}

/// `env:` as a map or as `KEY=VALUE` items.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawEnv {
    /// `env: {RUST_LOG: info}`.
    Map(BTreeMap<String, Scalar>),
    /// `env: ["RUST_LOG=info"]`.
    List(Vec<String>),
}

/// A YAML scalar taken as text, so `PORT: 8000`, `DEBUG: true` and `restart: no` (a YAML 1.1
/// boolean) mean what a compose user expects.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// `true` / `false` (and YAML 1.1's `no`, `yes`).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

/// When a replica that exited is started again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// After any exit.
    Always,
    /// After a non-zero exit or a signal.
    OnFailure,
    /// Never.
    No,
}

/// Where a service's replicas are scraped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsEndpoint {
    /// Port of replica 0; replica `i` uses `base_port + i`.
    pub base_port: u16,
    /// HTTP path.
    pub path: String,
}

/// A validated service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    /// The name (key under `services:`).
    pub name: String,
    /// Program: a bare name is looked up in `PATH`; a path is absolute (resolved).
    pub command: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Environment set for every replica.
    pub env: BTreeMap<String, String>,
    /// Working directory: `cwd` from the stack file's folder, or that folder.
    pub cwd: Option<PathBuf>,
    /// Number of replicas.
    pub replicas: u32,
    /// Restart policy.
    pub restart: Restart,
    /// Base port and its variable name.
    pub port: Option<(u16, String)>,
    /// Scrape endpoint when `metrics.scrape` is true.
    pub metrics: Option<MetricsEndpoint>,
    /// Every label as written.
    pub labels: BTreeMap<String, String>,
}

/// Resolves every `services:` entry; `dir` is the stack file's folder.
pub fn resolve_services(
    raw: BTreeMap<String, RawService>,
    file: &Option<PathBuf>,
    dir: &Path,
) -> Result<Vec<ServiceConfig>, ConfigError> {
    if raw.len() > MAX_SERVICES {
        return Err(ConfigError::Invalid {
            origin: file_name(file),
            key: "services".into(),
            message: format!(
                "{} services, more than the limit of {MAX_SERVICES}",
                raw.len()
            ),
        });
    }
    let services: Vec<ServiceConfig> = raw
        .into_iter()
        .map(|(name, s)| resolve_one(name, s, file, dir))
        .collect::<Result<_, _>>()?;
    check_port_overlaps(&services, file)?;
    Ok(services)
}

/// Two services handing out the same port would fight over it at run time; say so up front.
fn check_port_overlaps(
    services: &[ServiceConfig],
    file: &Option<PathBuf>,
) -> Result<(), ConfigError> {
    let ranges: Vec<(&str, u32, u32)> = services
        .iter()
        .filter_map(|s| {
            let (base, _) = s.port.as_ref()?;
            let first = u32::from(*base);
            Some((s.name.as_str(), first, first + s.replicas.max(1) - 1))
        })
        .collect();
    for (i, a) in ranges.iter().enumerate() {
        if let Some(b) = ranges[..i].iter().find(|b| a.1 <= b.2 && b.1 <= a.2) {
            return Err(ConfigError::Invalid {
                origin: file_name(file),
                key: format!("services.{}.port", a.0),
                message: format!(
                    "ports {}..{} overlap those of service {} ({}..{})",
                    a.1, a.2, b.0, b.1, b.2
                ),
            });
        }
    }
    Ok(())
}

fn file_name(file: &Option<PathBuf>) -> String {
    file.as_ref()
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| "<stack file>".into())
}

/// An error at a value of the file.
fn at<T>(file: &Option<PathBuf>, v: &Spanned<T>, key: String, message: String) -> ConfigError {
    ConfigError::Invalid {
        origin: format!(
            "{}:{}:{}",
            file_name(file),
            v.referenced.line(),
            v.referenced.column()
        ),
        key,
        message,
    }
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Service names become label values, instance names and file names: keep them plain.
fn is_service_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
}

fn resolve_one(
    name: String,
    s: RawService,
    file: &Option<PathBuf>,
    dir: &Path,
) -> Result<ServiceConfig, ConfigError> {
    let key = |k: &str| format!("services.{name}.{k}");
    if !is_service_name(&name) {
        return Err(ConfigError::Invalid {
            origin: file_name(file),
            key: format!("services.{name}"),
            message: "a service name is 1 to 63 letters, digits, '_', '-' or '.', starting with a letter or digit".into(),
        });
    }
    let Some(command) = s.command else {
        return Err(ConfigError::Invalid {
            origin: file_name(file),
            key: key("command"),
            message: "missing: every service needs a command".into(),
        });
    };
    let mut words: Vec<String> = match &command.value {
        RawCommand::Line(l) => vec![l.clone()],
        RawCommand::List(items) => items.iter().map(Scalar::text).collect(),
    };
    if words.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(at(file, &command, key("command"), "empty command".into()));
    }
    let program = words.remove(0);
    let program = if program.contains('/') && Path::new(&program).is_relative() {
        dir.join(&program).display().to_string()
    } else {
        program
    };
    let args: Vec<String> = words
        .into_iter()
        .chain(s.args.iter().map(Scalar::text))
        .collect();

    let mut env = BTreeMap::new();
    if let Some(e) = &s.env {
        match &e.value {
            RawEnv::Map(m) => {
                for (k, v) in m {
                    if !is_env_name(k) {
                        return Err(at(
                            file,
                            e,
                            key("env"),
                            format!("{k:?} is not a valid variable name"),
                        ));
                    }
                    env.insert(k.clone(), v.text());
                }
            }
            RawEnv::List(items) => {
                for item in items {
                    let (k, v) = item.split_once('=').unwrap_or((item.as_str(), ""));
                    if !is_env_name(k) {
                        return Err(at(
                            file,
                            e,
                            key("env"),
                            format!("{item:?} is not KEY=VALUE with a valid variable name"),
                        ));
                    }
                    env.insert(k.to_string(), v.to_string());
                }
            }
        }
    }

    // Like paths in the file, the working directory defaults to the stack file's folder.
    let cwd = Some(
        s.cwd
            .as_ref()
            .map_or_else(|| dir.to_path_buf(), |c| dir.join(&c.value)),
    );

    let replicas = match &s.replicas {
        None => 1,
        Some(r) => u32::try_from(r.value)
            .ok()
            .filter(|n| *n <= MAX_REPLICAS)
            .ok_or_else(|| {
                at(
                    file,
                    r,
                    key("replicas"),
                    format!("{} is not between 0 and {MAX_REPLICAS}", r.value),
                )
            })?,
    };

    let restart = match &s.restart {
        None => Restart::Always,
        Some(r) => match &r.value {
            Scalar::Bool(false) => Restart::No,
            Scalar::Text(t) if t == "no" => Restart::No,
            Scalar::Text(t) if t == "always" => Restart::Always,
            Scalar::Text(t) if t == "on-failure" => Restart::OnFailure,
            other => {
                return Err(at(
                    file,
                    r,
                    key("restart"),
                    format!(
                        "unknown policy {:?} (expected always, on-failure or no)",
                        other.text()
                    ),
                ));
            }
        },
    };

    let port_env = match &s.port_env {
        None => "PORT".to_string(),
        Some(p) if is_env_name(&p.value) => p.value.clone(),
        Some(p) => {
            return Err(at(
                file,
                p,
                key("port_env"),
                format!("{:?} is not a valid variable name", p.value),
            ));
        }
    };
    let port = match &s.port {
        None => None,
        Some(p) => Some((
            port_range(p, replicas).map_err(|m| at(file, p, key("port"), m))?,
            port_env,
        )),
    };

    let labels: BTreeMap<String, String> = s
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.value.text()))
        .collect();
    let metrics = match s.labels.get("metrics.scrape") {
        None => None,
        Some(v) => match v.value.text().as_str() {
            "false" => None,
            "true" => Some(metrics_endpoint(
                &s.labels,
                port.as_ref(),
                replicas,
                v,
                file,
                &name,
            )?),
            other => {
                return Err(at(
                    file,
                    v,
                    key("labels.metrics.scrape"),
                    format!("{other:?} is not \"true\" or \"false\""),
                ));
            }
        },
    };
    Ok(ServiceConfig {
        name,
        command: program,
        args,
        env,
        cwd,
        replicas,
        restart,
        port,
        metrics,
        labels,
    })
}

/// A base port whose every replica's port fits in 1..=65535.
fn port_range(p: &Spanned<i64>, replicas: u32) -> Result<u16, String> {
    let last = p.value.saturating_add(i64::from(replicas.max(1)) - 1);
    if p.value < 1 || last > 65535 {
        return Err(format!(
            "{} with {replicas} replica(s) needs ports up to {last}, outside 1..65535",
            p.value
        ));
    }
    // In range: checked just above.
    Ok(p.value as u16)
}

fn metrics_endpoint(
    labels: &BTreeMap<String, Spanned<Scalar>>,
    port: Option<&(u16, String)>,
    replicas: u32,
    scrape: &Spanned<Scalar>,
    file: &Option<PathBuf>,
    name: &str,
) -> Result<MetricsEndpoint, ConfigError> {
    let key = |k: &str| format!("services.{name}.labels.{k}");
    let path = match labels.get("metrics.path") {
        None => "/metrics".to_string(),
        Some(p) => {
            let t = p.value.text();
            if !t.starts_with('/') {
                return Err(at(
                    file,
                    p,
                    key("metrics.path"),
                    format!("{t:?} must start with '/'"),
                ));
            }
            t
        }
    };
    let base_port = match labels.get("metrics.port") {
        Some(p) => {
            let parsed = match &p.value {
                Scalar::Int(i) => Some(*i),
                Scalar::Text(t) => t.trim().parse::<i64>().ok(),
                _ => None,
            };
            let Some(n) = parsed else {
                return Err(at(
                    file,
                    p,
                    key("metrics.port"),
                    format!("{:?} is not a port number", p.value.text()),
                ));
            };
            let spanned = Spanned::new(n, p.referenced, p.defined);
            port_range(&spanned, replicas).map_err(|m| at(file, p, key("metrics.port"), m))?
        }
        None => match port {
            Some((base, _)) => *base,
            None => {
                return Err(at(
                    file,
                    scrape,
                    key("metrics.scrape"),
                    "scraping needs a port: set the service's `port` or the `metrics.port` label"
                        .into(),
                ));
            }
        },
    };
    Ok(MetricsEndpoint { base_port, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Vec<ServiceConfig>, ConfigError> {
        let raw = crate::config::parse_str(yaml, "s.yaml")?;
        resolve_services(
            raw.services,
            &Some(PathBuf::from("s.yaml")),
            Path::new("/stack"),
        )
    }

    #[test]
    fn full_service() {
        let s = parse(
            "services:\n  backend:\n    command: ./bin/app\n    args: [\"--flag\", 3]\n    env: {RUST_LOG: info, WORKERS: 4}\n    cwd: ./backend\n    replicas: 2\n    restart: on-failure\n    port: 8000\n    labels:\n      metrics.scrape: \"true\"\n      metrics.port: \"9100\"\n",
        )
        .unwrap();
        assert_eq!(s.len(), 1);
        let b = &s[0];
        assert_eq!(b.command, "/stack/./bin/app");
        assert_eq!(b.args, vec!["--flag", "3"]);
        assert_eq!(b.env["WORKERS"], "4");
        assert_eq!(b.cwd.as_deref(), Some(Path::new("/stack/./backend")));
        assert_eq!(b.replicas, 2);
        assert_eq!(b.restart, Restart::OnFailure);
        assert_eq!(b.port, Some((8000, "PORT".into())));
        assert_eq!(
            b.metrics,
            Some(MetricsEndpoint {
                base_port: 9100,
                path: "/metrics".into()
            })
        );
    }

    #[test]
    fn defaults_and_list_forms() {
        let s = parse(
            "services:\n  web:\n    command: [python3, -m, http.server]\n    env: [\"A=1\", \"B=x=y\"]\n    restart: no\n",
        )
        .unwrap();
        let w = &s[0];
        assert_eq!(w.command, "python3");
        assert_eq!(w.args, vec!["-m", "http.server"]);
        assert_eq!(w.env["B"], "x=y");
        assert_eq!(w.replicas, 1);
        assert_eq!(w.restart, Restart::No);
        assert_eq!(w.metrics, None);
        assert_eq!(w.cwd.as_deref(), Some(Path::new("/stack")));
    }

    #[test]
    fn scrape_defaults_to_the_service_port() {
        let s = parse(
            "services:\n  web:\n    command: x\n    port: 7000\n    port_env: HTTP_PORT\n    labels: {metrics.scrape: true, metrics.path: /m}\n",
        )
        .unwrap();
        assert_eq!(s[0].port, Some((7000, "HTTP_PORT".into())));
        assert_eq!(
            s[0].metrics,
            Some(MetricsEndpoint {
                base_port: 7000,
                path: "/m".into()
            })
        );
    }

    #[test]
    fn errors_name_position_and_key() {
        let e = parse("services:\n  web:\n    command: x\n    replicas: 65\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.yaml:4:15: services.web.replicas"), "{e}");
        let e =
            parse("services:\n  web:\n    command: x\n    labels: {metrics.scrape: \"true\"}\n")
                .unwrap_err()
                .to_string();
        assert!(
            e.contains("services.web.labels.metrics.scrape: scraping needs a port"),
            "{e}"
        );
        let e = parse("services:\n  web:\n    args: [a]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("services.web.command: missing"), "{e}");
        let e = parse("services:\n  web:\n    command: x\n    port: 65535\n    replicas: 2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.yaml:4:11: services.web.port"), "{e}");
        let e = parse(
            "services:\n  a:\n    command: x\n    port: 8000\n    replicas: 2\n  b:\n    command: x\n    port: 8001\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("services.b.port: ports 8001..8001 overlap those of service a (8000..8001)"),
            "{e}"
        );
    }
}
