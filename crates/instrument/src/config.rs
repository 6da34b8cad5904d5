//! [`Config`]: everything [`crate::Telemetry`] needs, read from the standard OpenTelemetry and
//! Pyroscope environment variables by [`Config::from_env`], every field settable in code.

use crate::log::LogWriter;
use crate::metrics::DEFAULT_CARDINALITY_LIMIT;
use std::time::Duration;

/// Telemetry settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `service.name` of the resource (`OTEL_SERVICE_NAME`, else `service.name` in
    /// `OTEL_RESOURCE_ATTRIBUTES`, else the default given to [`Config::from_env`]).
    pub service_name: String,
    /// Further resource attributes (`OTEL_RESOURCE_ATTRIBUTES`: `k=v,k2=v2`, percent-encoded).
    /// `service.instance.id` defaults to a random id per process.
    pub resource_attributes: Vec<(String, String)>,
    /// The OTLP/gRPC endpoint spans are exported to, e.g. `http://127.0.0.1:4317`
    /// (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT`); `None`: spans
    /// get ids (for logs and exemplars) but are not exported.
    pub otlp_endpoint: Option<String>,
    /// The Pyroscope server profiles are pushed to (`PYROSCOPE_SERVER_ADDRESS`).
    pub pyroscope_server_address: Option<String>,
    /// The `tracing` filter (`RUST_LOG` syntax; default `info`).
    pub log_filter: String,
    /// Where log lines go (stdout by default, through a background writer: see
    /// [`LogWriter::stdout`]).
    pub log_writer: LogWriter,
    /// The path the metrics are served on (default `/metrics`).
    pub metrics_path: String,
    /// Label sets allowed per metric family.
    pub cardinality_limit: usize,
    /// Closed spans waiting for export; more are dropped and counted.
    pub span_queue_capacity: usize,
    /// Spans per export request.
    pub export_batch_size: usize,
    /// The longest a closed span waits before its batch is sent.
    pub export_interval: Duration,
    /// The timeout of one export request.
    pub export_timeout: Duration,
    /// How long [`crate::Telemetry::shutdown`] waits for the last spans to be sent.
    pub shutdown_timeout: Duration,
}

impl Config {
    /// Defaults for a service named `service_name`, ignoring the environment.
    pub fn new(service_name: &str) -> Self {
        Config {
            service_name: service_name.to_string(),
            resource_attributes: Vec::new(),
            otlp_endpoint: None,
            pyroscope_server_address: None,
            log_filter: "info".to_string(),
            log_writer: LogWriter::stdout(),
            metrics_path: "/metrics".to_string(),
            cardinality_limit: DEFAULT_CARDINALITY_LIMIT,
            span_queue_capacity: 4096,
            export_batch_size: 512,
            export_interval: Duration::from_secs(1),
            export_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(5),
        }
    }

    /// Defaults overridden by the environment: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
    /// `PYROSCOPE_SERVER_ADDRESS`, `RUST_LOG`. Empty variables count as unset.
    pub fn from_env(default_service_name: &str) -> Self {
        Config::from_vars(default_service_name, |k| std::env::var(k).ok())
    }

    /// [`Config::from_env`] over any variable lookup (tests pass a map).
    pub fn from_vars(default_service_name: &str, var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let mut config = Config::new(default_service_name);
        if let Some(attrs) = var("OTEL_RESOURCE_ATTRIBUTES") {
            for (k, v) in parse_resource_attributes(&attrs) {
                if k == "service.name" {
                    config.service_name = v;
                } else {
                    config.resource_attributes.push((k, v));
                }
            }
        }
        if let Some(name) = var("OTEL_SERVICE_NAME") {
            config.service_name = name.trim().to_string();
        }
        config.otlp_endpoint = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"))
            .map(|e| e.trim().to_string());
        config.pyroscope_server_address =
            var("PYROSCOPE_SERVER_ADDRESS").map(|a| a.trim().to_string());
        if let Some(filter) = var("RUST_LOG") {
            config.log_filter = filter;
        }
        config
    }

    /// Sets the service name.
    pub fn with_service_name(mut self, name: &str) -> Self {
        self.service_name = name.to_string();
        self
    }

    /// Sets the OTLP/gRPC endpoint.
    pub fn with_otlp_endpoint(mut self, endpoint: &str) -> Self {
        self.otlp_endpoint = Some(endpoint.to_string());
        self
    }

    /// Adds a resource attribute.
    pub fn with_resource_attribute(mut self, key: &str, value: &str) -> Self {
        self.resource_attributes
            .push((key.to_string(), value.to_string()));
        self
    }

    /// Sets where log lines go.
    pub fn with_log_writer(mut self, writer: LogWriter) -> Self {
        self.log_writer = writer;
        self
    }

    /// Sets the `tracing` filter.
    pub fn with_log_filter(mut self, filter: &str) -> Self {
        self.log_filter = filter.to_string();
        self
    }
}

/// `k=v,k2=v2` with percent-encoded keys and values, as the OpenTelemetry specification
/// defines `OTEL_RESOURCE_ATTRIBUTES`; pairs without `=` or with an empty key are skipped.
pub(crate) fn parse_resource_attributes(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let k = percent_decode(k.trim());
            (!k.is_empty()).then(|| (k, percent_decode(v.trim())))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn reads_the_standard_variables() {
        let vars: HashMap<&str, &str> = [
            ("OTEL_SERVICE_NAME", "orders"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=ignored,deployment.environment=dev,team=a%2Cb, bad",
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("PYROSCOPE_SERVER_ADDRESS", "http://127.0.0.1:4040"),
            ("RUST_LOG", ""),
        ]
        .into();
        let c = Config::from_vars("backend", |k| vars.get(k).map(|v| v.to_string()));
        assert_eq!(c.service_name, "orders");
        assert_eq!(
            c.resource_attributes,
            vec![
                ("deployment.environment".to_string(), "dev".to_string()),
                ("team".to_string(), "a,b".to_string())
            ]
        );
        assert_eq!(c.otlp_endpoint.as_deref(), Some("http://127.0.0.1:4317"));
        assert_eq!(
            c.pyroscope_server_address.as_deref(),
            Some("http://127.0.0.1:4040")
        );
        assert_eq!(c.log_filter, "info");
    }

    #[test]
    fn defaults_without_variables() {
        let c = Config::from_vars("backend", |_| None);
        assert_eq!(c.service_name, "backend");
        assert_eq!(c.otlp_endpoint, None);
        let c = Config::from_vars("backend", |k| {
            (k == "OTEL_RESOURCE_ATTRIBUTES").then(|| "service.name=from-attrs".to_string())
        });
        assert_eq!(c.service_name, "from-attrs");
    }

    #[test]
    fn percent_decoding_keeps_broken_escapes() {
        assert_eq!(percent_decode("a%20b%zz%4"), "a b%zz%4");
    }
}
