//! [`ProfilerConfig`]: where to push, how the series is labelled, how often to sample and
//! upload, and the bounds on memory and work. Checked by [`ProfilerConfig::validate`] before
//! anything starts.

use std::time::Duration;

use super::ProfilingError;

/// Environment variable with the Pyroscope server address, as the Pyroscope SDKs read it.
pub const SERVER_ADDRESS_ENV: &str = "PYROSCOPE_SERVER_ADDRESS";
/// Environment variable with an optional tenant id, sent as `X-Scope-OrgID`.
pub const TENANT_ID_ENV: &str = "PYROSCOPE_TENANT_ID";

/// Series labels the profiler sets itself; configured labels may not use them.
const RESERVED_LABELS: [&str; 2] = ["__name__", "service_name"];

/// Settings of the CPU profiler. Build with [`ProfilerConfig::new`] or
/// [`ProfilerConfig::from_env`] and adjust the public fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfilerConfig {
    /// Base URL of a Pyroscope-compatible server, e.g. `http://127.0.0.1:4040`; profiles go to
    /// `<server_address>/push.v1.PusherService/Push`.
    pub server_address: String,
    /// The `service_name` series label.
    pub service_name: String,
    /// More series labels (for example `project`, `instance`).
    pub labels: Vec<(String, String)>,
    /// Samples per second of CPU time, 1 to 1000. Default 100 (a sample per 10 ms of CPU).
    pub frequency_hz: u32,
    /// How often a profile is pushed, 100 ms to 1 hour. Default 10 s.
    pub upload_interval: Duration,
    /// Deepest stack recorded, 1 to 1024 frames; deeper stacks keep their innermost frames.
    /// Default 128.
    pub max_stack_depth: usize,
    /// Samples the signal handler can queue before the uploader drains them, 16 to 1,048,576.
    /// The uploader drains every 100 ms; samples beyond the capacity are dropped and counted.
    /// Default 1024: 5 s of samples at 100 Hz on two busy cores, to cover the uploader's pauses
    /// (symbolizing a new binary's first profile), in 1 MiB at the default stack depth.
    pub ring_capacity: usize,
    /// Distinct (stack, span) pairs kept per upload interval, 1 to 1,000,000; samples of further
    /// pairs are dropped and counted. Default 20,000.
    pub max_distinct_stacks: usize,
    /// Timeout of one push, 100 ms to 5 minutes; also bounds the final push in
    /// [`super::Profiler::stop`]. Default 5 s.
    pub push_timeout: Duration,
    /// Tenant id sent as `X-Scope-OrgID` (multi-tenant Pyroscope), if any.
    pub tenant_id: Option<String>,
}

impl ProfilerConfig {
    /// Defaults for pushing `service_name`'s profiles to `server_address`.
    pub fn new(server_address: impl Into<String>, service_name: impl Into<String>) -> Self {
        Self {
            server_address: server_address.into(),
            service_name: service_name.into(),
            labels: Vec::new(),
            frequency_hz: 100,
            upload_interval: Duration::from_secs(10),
            max_stack_depth: 128,
            ring_capacity: 1024,
            max_distinct_stacks: 20_000,
            push_timeout: Duration::from_secs(5),
            tenant_id: None,
        }
    }

    /// Defaults with the address from `PYROSCOPE_SERVER_ADDRESS` and the tenant from
    /// `PYROSCOPE_TENANT_ID`; `Ok(None)` when no address is set (profiling is off).
    pub fn from_env(service_name: impl Into<String>) -> Result<Option<Self>, ProfilingError> {
        Self::from_lookup(service_name, |name| std::env::var(name).ok())
    }

    /// [`ProfilerConfig::from_env`] over any variable lookup (tests pass a map).
    pub fn from_lookup(
        service_name: impl Into<String>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ProfilingError> {
        let Some(address) = lookup(SERVER_ADDRESS_ENV).filter(|a| !a.trim().is_empty()) else {
            return Ok(None);
        };
        let mut config = Self::new(address.trim(), service_name);
        config.tenant_id = lookup(TENANT_ID_ENV).filter(|t| !t.is_empty());
        config.validate()?;
        Ok(Some(config))
    }

    /// The push endpoint: the server address with `/push.v1.PusherService/Push` appended.
    pub fn push_url(&self) -> String {
        format!(
            "{}/push.v1.PusherService/Push",
            self.server_address.trim_end_matches('/')
        )
    }

    /// Checks every field; the error names the field and the accepted range.
    pub fn validate(&self) -> Result<(), ProfilingError> {
        let invalid = |field: &'static str, reason: String| {
            Err(ProfilingError::InvalidConfig { field, reason })
        };
        match reqwest::Url::parse(&self.server_address) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            Ok(url) => {
                return invalid(
                    "server_address",
                    format!(
                        "{:?} must be an http or https URL with a host, not {:?}",
                        self.server_address,
                        url.scheme()
                    ),
                );
            }
            Err(e) => {
                return invalid(
                    "server_address",
                    format!("{:?} is not a URL: {e}", self.server_address),
                );
            }
        }
        if self.service_name.trim().is_empty() {
            return invalid("service_name", "must not be empty".to_owned());
        }
        for (name, value) in &self.labels {
            if !is_label_name(name) {
                return invalid(
                    "labels",
                    format!("{name:?} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"),
                );
            }
            if RESERVED_LABELS.contains(&name.as_str()) {
                return invalid("labels", format!("{name:?} is set by the profiler itself"));
            }
            if value.is_empty() {
                return invalid("labels", format!("label {name:?} has an empty value"));
            }
        }
        let mut names: Vec<&str> = self.labels.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
            return invalid("labels", format!("label {:?} is given twice", pair[0]));
        }
        check_range("frequency_hz", u64::from(self.frequency_hz), 1, 1000)?;
        check_duration("upload_interval", self.upload_interval, 100, 3_600_000)?;
        check_range("max_stack_depth", self.max_stack_depth as u64, 1, 1024)?;
        check_range("ring_capacity", self.ring_capacity as u64, 16, 1 << 20)?;
        check_range(
            "max_distinct_stacks",
            self.max_distinct_stacks as u64,
            1,
            1_000_000,
        )?;
        check_duration("push_timeout", self.push_timeout, 100, 300_000)?;
        Ok(())
    }
}

fn check_range(field: &'static str, value: u64, min: u64, max: u64) -> Result<(), ProfilingError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ProfilingError::InvalidConfig {
            field,
            reason: format!("{value} is outside {min}..={max}"),
        })
    }
}

fn check_duration(
    field: &'static str,
    value: Duration,
    min_ms: u64,
    max_ms: u64,
) -> Result<(), ProfilingError> {
    if value >= Duration::from_millis(min_ms) && value <= Duration::from_millis(max_ms) {
        Ok(())
    } else {
        Err(ProfilingError::InvalidConfig {
            field,
            reason: format!("{value:?} is outside {min_ms} ms..={max_ms} ms"),
        })
    }
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn field_of(config: &ProfilerConfig) -> &'static str {
        match config.validate() {
            Err(ProfilingError::InvalidConfig { field, .. }) => field,
            other => panic!("expected an invalid config, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid_and_the_url_is_the_connect_path() {
        let config = ProfilerConfig::new("http://127.0.0.1:4040/", "api");
        config.validate().expect("defaults validate");
        assert_eq!(
            config.push_url(),
            "http://127.0.0.1:4040/push.v1.PusherService/Push"
        );
        assert_eq!(config.frequency_hz, 100);
        assert_eq!(config.upload_interval, Duration::from_secs(10));
    }

    #[test]
    fn each_bad_field_is_named() {
        let good = ProfilerConfig::new("http://127.0.0.1:4040", "api");
        let mut c = good.clone();
        c.server_address = "127.0.0.1:4040".into();
        assert_eq!(field_of(&c), "server_address");
        c = good.clone();
        c.server_address = "ftp://host".into();
        assert_eq!(field_of(&c), "server_address");
        c = good.clone();
        c.service_name = " ".into();
        assert_eq!(field_of(&c), "service_name");
        c = good.clone();
        c.labels = vec![("__name__".into(), "x".into())];
        assert_eq!(field_of(&c), "labels");
        c = good.clone();
        c.labels = vec![("1bad".into(), "x".into())];
        assert_eq!(field_of(&c), "labels");
        c = good.clone();
        c.labels = vec![("env".into(), "a".into()), ("env".into(), "b".into())];
        assert_eq!(field_of(&c), "labels");
        c = good.clone();
        c.frequency_hz = 0;
        assert_eq!(field_of(&c), "frequency_hz");
        c = good.clone();
        c.upload_interval = Duration::from_millis(10);
        assert_eq!(field_of(&c), "upload_interval");
        c = good.clone();
        c.max_stack_depth = 5000;
        assert_eq!(field_of(&c), "max_stack_depth");
        c = good.clone();
        c.ring_capacity = 1;
        assert_eq!(field_of(&c), "ring_capacity");
        c = good.clone();
        c.max_distinct_stacks = 0;
        assert_eq!(field_of(&c), "max_distinct_stacks");
        c = good;
        c.push_timeout = Duration::ZERO;
        assert_eq!(field_of(&c), "push_timeout");
    }

    #[test]
    fn environment_turns_profiling_on_and_off() {
        let env = HashMap::from([
            (SERVER_ADDRESS_ENV, "http://pyroscope:4040"),
            (TENANT_ID_ENV, "team-a"),
        ]);
        let config = ProfilerConfig::from_lookup("api", |k| env.get(k).map(|v| v.to_string()))
            .expect("valid")
            .expect("profiling on");
        assert_eq!(config.server_address, "http://pyroscope:4040");
        assert_eq!(config.tenant_id.as_deref(), Some("team-a"));
        assert_eq!(
            ProfilerConfig::from_lookup("api", |_| None).expect("valid"),
            None
        );
        let bad = ProfilerConfig::from_lookup("api", |k| {
            (k == SERVER_ADDRESS_ENV).then(|| "not a url".to_owned())
        });
        assert!(matches!(
            bad,
            Err(ProfilingError::InvalidConfig {
                field: "server_address",
                ..
            })
        ));
    }
}
