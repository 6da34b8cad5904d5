//! What to run: service specs, supervisor options, and their validation.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use super::error::ServiceError;
use super::template::uses_port;

/// Most replicas one service may ask for.
pub const MAX_REPLICAS: u32 = 64;
/// Most services one supervisor runs.
pub const MAX_SERVICES: usize = 256;
/// Longest service name accepted (it becomes part of label values and terminal prefixes).
pub const MAX_SERVICE_NAME_BYTES: usize = 128;
/// Smallest accepted `max_line_bytes`: room for the truncation marker and a few characters.
pub const MIN_LINE_BYTES: usize = 64;
/// Largest accepted `max_line_bytes`.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// One service of a stack file: a program run as `replicas` identical processes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Service name: an ASCII letter or digit, then letters, digits, `_`, `.` or `-`.
    pub name: String,
    /// The program: a path (relative ones are taken from `cwd`) or a name looked up in `PATH`.
    pub command: String,
    /// Arguments after the program.
    pub args: Vec<String>,
    /// Variables added to the supervisor's own environment for every replica.
    pub env: BTreeMap<String, String>,
    /// Working directory of every replica; the supervisor's when `None`.
    pub cwd: Option<PathBuf>,
    /// How many processes to run, `0..=64`; zero keeps the service defined but idle.
    pub replicas: u32,
    /// When an exited replica is started again.
    pub restart: RestartPolicy,
    /// A port per replica handed over in an environment variable.
    pub port: Option<PortSpec>,
    /// Free-form labels (`metrics.scrape`, …); the supervisor carries them, the caller reads them.
    pub labels: BTreeMap<String, String>,
}

impl ServiceSpec {
    /// A spec running `command` once with restart `always` and nothing else set.
    pub fn new(name: impl Into<String>, command: impl Into<String>) -> Self {
        ServiceSpec {
            name: name.into(),
            command: command.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: None,
            replicas: 1,
            restart: RestartPolicy::default(),
            port: None,
            labels: BTreeMap::new(),
        }
    }

    /// The instance name of replica `replica` (1-based): `<service>-<replica>`.
    pub fn instance(&self, replica: u32) -> String {
        format!("{}-{replica}", self.name)
    }

    /// The port of replica `replica` (1-based): the base port plus `replica - 1`.
    pub fn port_of(&self, replica: u32) -> Option<u16> {
        let port = self.port.as_ref()?;
        u16::try_from(u32::from(port.base) + replica.saturating_sub(1)).ok()
    }
}

/// When an exited replica is started again (docker compose's `restart`, with backoff).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RestartPolicy {
    /// Restart after any exit, clean or not.
    #[default]
    Always,
    /// Restart after a non-zero exit code, a signal, or a failure to start.
    OnFailure,
    /// Never restart.
    No,
}

impl RestartPolicy {
    /// The stack file's spelling: `always`, `on-failure`, `no`.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::No => "no",
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RestartPolicy {
    type Err = ServiceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "always" => Ok(RestartPolicy::Always),
            "on-failure" => Ok(RestartPolicy::OnFailure),
            "no" => Ok(RestartPolicy::No),
            other => Err(ServiceError::InvalidRestartPolicy(other.to_string())),
        }
    }
}

/// Ports handed to replicas: replica `i` (0-based) gets `base + i` in the variable `env`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    /// Port of the first replica.
    pub base: u16,
    /// Name of the environment variable carrying the port, `PORT` by default.
    pub env: String,
}

impl PortSpec {
    /// The variable name used when none is given.
    pub const DEFAULT_ENV: &'static str = "PORT";

    /// Ports from `base` in the variable `PORT`.
    pub fn new(base: u16) -> Self {
        PortSpec {
            base,
            env: Self::DEFAULT_ENV.to_string(),
        }
    }
}

/// How the supervisor behaves, shared by all services.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupervisorOptions {
    /// Project name (`tetrad up -p`), the `project` label of every log line.
    pub project: String,
    /// How long a replica has after SIGTERM before its process group gets SIGKILL (10 s).
    pub stop_timeout: Duration,
    /// Delay before the first restart (1 s); it doubles with each further restart.
    pub backoff_initial: Duration,
    /// Ceiling of the restart delay (30 s).
    pub backoff_max: Duration,
    /// A replica that ran at least this long restarts after `backoff_initial` again (10 s).
    pub backoff_reset_after: Duration,
    /// Longest log line kept whole (64 KiB); longer ones are split into marked pieces.
    pub max_line_bytes: usize,
}

impl SupervisorOptions {
    /// Defaults for project `project`.
    pub fn new(project: impl Into<String>) -> Self {
        SupervisorOptions {
            project: project.into(),
            ..Self::default()
        }
    }
}

impl Default for SupervisorOptions {
    fn default() -> Self {
        SupervisorOptions {
            project: "default".to_string(),
            stop_timeout: Duration::from_secs(10),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            backoff_reset_after: Duration::from_secs(10),
            max_line_bytes: 64 << 10,
        }
    }
}

/// A spec that passed validation, with its program and directory resolved.
#[derive(Clone, Debug)]
pub(crate) struct ServicePlan {
    pub spec: ServiceSpec,
    /// The program to execute, as an absolute path when the spec named it relatively.
    pub program: PathBuf,
    /// The working directory, absolute.
    pub cwd: Option<PathBuf>,
}

/// Checks options before anything starts.
pub(crate) fn validate_options(opts: &SupervisorOptions) -> Result<(), ServiceError> {
    let bad = |reason: String| Err(ServiceError::InvalidOptions(reason));
    if opts.project.is_empty() {
        return bad("project name is empty".into());
    }
    if opts.backoff_initial.is_zero() {
        return bad("backoff_initial must be above zero".into());
    }
    if opts.backoff_initial > opts.backoff_max {
        return bad(format!(
            "backoff_initial {:?} is above backoff_max {:?}",
            opts.backoff_initial, opts.backoff_max
        ));
    }
    if !(MIN_LINE_BYTES..=MAX_LINE_BYTES).contains(&opts.max_line_bytes) {
        return bad(format!(
            "max_line_bytes {} is outside {MIN_LINE_BYTES}..={MAX_LINE_BYTES}",
            opts.max_line_bytes
        ));
    }
    Ok(())
}

/// Checks every spec and resolves programs; nothing is started when any spec is wrong.
pub(crate) fn validate_specs(specs: Vec<ServiceSpec>) -> Result<Vec<ServicePlan>, ServiceError> {
    if specs.len() > MAX_SERVICES {
        return Err(ServiceError::TooManyServices {
            count: specs.len(),
            limit: MAX_SERVICES,
        });
    }
    let mut names = HashSet::new();
    let mut plans = Vec::with_capacity(specs.len());
    for spec in specs {
        if !names.insert(spec.name.clone()) {
            return Err(ServiceError::DuplicateService(spec.name));
        }
        plans.push(validate_spec(spec)?);
    }
    Ok(plans)
}

fn validate_spec(spec: ServiceSpec) -> Result<ServicePlan, ServiceError> {
    let invalid = |reason: String| ServiceError::InvalidSpec {
        service: spec.name.clone(),
        reason,
    };
    check_name(&spec.name).map_err(&invalid)?;
    if spec.command.is_empty() {
        return Err(invalid("command is empty".into()));
    }
    if spec.replicas > MAX_REPLICAS {
        return Err(invalid(format!(
            "replicas {} is above the limit of {MAX_REPLICAS}",
            spec.replicas
        )));
    }
    no_nul("command", &spec.command).map_err(&invalid)?;
    for arg in &spec.args {
        no_nul("argument", arg).map_err(&invalid)?;
    }
    for (name, value) in &spec.env {
        check_env_name(name).map_err(&invalid)?;
        no_nul("environment value", value).map_err(&invalid)?;
    }
    if spec.port.is_none()
        && (spec.args.iter().any(|a| uses_port(a)) || spec.env.values().any(|v| uses_port(v)))
    {
        return Err(invalid(
            "refers to ${TETRAD_PORT} but has no port".to_string(),
        ));
    }
    if let Some(port) = &spec.port {
        check_env_name(&port.env).map_err(&invalid)?;
        if port.base == 0 {
            return Err(invalid("port 0 is not a port".into()));
        }
        let last = u32::from(port.base) + spec.replicas.saturating_sub(1);
        if last > u32::from(u16::MAX) {
            return Err(invalid(format!(
                "port {} plus {} replicas goes past 65535",
                port.base, spec.replicas
            )));
        }
    }
    let cwd = match &spec.cwd {
        None => None,
        Some(dir) => {
            let dir = absolute(dir);
            if !dir.is_dir() {
                return Err(invalid(format!(
                    "working directory {} is not a directory",
                    dir.display()
                )));
            }
            Some(dir)
        }
    };
    let program = resolve_program(&spec, cwd.as_deref())?;
    Ok(ServicePlan { spec, program, cwd })
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err("service name is empty".into());
    };
    if name.len() > MAX_SERVICE_NAME_BYTES {
        return Err(format!(
            "service name is longer than {MAX_SERVICE_NAME_BYTES} bytes"
        ));
    }
    if !first.is_ascii_alphanumeric()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(format!(
            "service name {name:?} must start with a letter or digit and hold only letters, digits, '_', '.' and '-'"
        ));
    }
    Ok(())
}

fn check_env_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return Err(format!("environment variable name {name:?} is not valid"));
    }
    Ok(())
}

fn no_nul(what: &str, s: &str) -> Result<(), String> {
    if s.contains('\0') {
        return Err(format!("{what} {s:?} contains a NUL byte"));
    }
    Ok(())
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Finds the program like a shell would, but before anything runs: a name with a slash is a
/// path (relative to the service's `cwd`, as `cd cwd && ./prog` would take it), a bare name is
/// looked up in the `PATH` the replica will see.
fn resolve_program(spec: &ServiceSpec, cwd: Option<&Path>) -> Result<PathBuf, ServiceError> {
    let not_found = |searched: String| ServiceError::ExecutableNotFound {
        service: spec.name.clone(),
        command: spec.command.clone(),
        searched,
    };
    if spec.command.contains('/') {
        let path = Path::new(&spec.command);
        let path = match cwd {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => absolute(path),
        };
        return if is_executable_file(&path) {
            Ok(path)
        } else {
            Err(not_found(path.display().to_string()))
        };
    }
    let search_path = match spec.env.get("PATH") {
        Some(p) => p.clone(),
        None => std::env::var("PATH").unwrap_or_default(),
    };
    for dir in search_path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(&spec.command);
        if is_executable_file(&candidate) {
            return Ok(candidate);
        }
    }
    Err(not_found(format!("PATH={search_path}")))
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
