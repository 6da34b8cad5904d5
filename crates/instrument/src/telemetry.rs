//! [`Telemetry`]: the one object an application sets up; it owns the metrics registry, the
//! `tracing` dispatcher (logfmt logs + span layer) and the span exporter.

use crate::config::Config;
use crate::error::InitError;
use crate::http::red::HttpMetrics;
use crate::http::{InstrumentLayer, LayerState};
use crate::ids::{hex, new_trace_id};
use crate::log::LogfmtLayer;
use crate::metrics::{Registry, negotiate};
use crate::trace::export::{self, ExporterHandle, ExporterSettings};
use crate::trace::layer::{PROFILING_HOOK, SpanLayer};
use axum::Router;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tracing::Dispatch;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Connecting to the OTLP endpoint gives up after this long (then the export is retried).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Installs ring as rustls' process-wide crypto provider unless one is installed already. The
/// workspace builds reqwest without a default provider, so a `reqwest::Client` cannot be built
/// before this; [`Telemetry::init`] and [`Telemetry::new`] call it.
pub fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Telemetry for one service: see the crate documentation for the whole picture.
pub struct Telemetry {
    config: Config,
    registry: Registry,
    http: Arc<LayerState>,
    dispatch: Dispatch,
    global: bool,
    exporter: Mutex<Option<ExporterHandle>>,
    /// The process-wide CPU profiler, when [`Telemetry::init`] started one.
    profiler: Mutex<Option<crate::profiling::Profiler>>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("service_name", &self.config.service_name)
            .field("global", &self.global)
            .finish()
    }
}

fn filter(config: &Config) -> Result<EnvFilter, InitError> {
    EnvFilter::try_new(&config.log_filter).map_err(|e| InitError::InvalidLogFilter {
        filter: config.log_filter.clone(),
        reason: e.to_string(),
    })
}

fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

/// The resource every exported span shares: `service.name`, `service.instance.id` (random per
/// process unless configured), the SDK and process, then the configured attributes.
fn resource(config: &Config) -> Resource {
    let mut attrs = vec![string_attribute("service.name", &config.service_name)];
    if !config
        .resource_attributes
        .iter()
        .any(|(k, _)| k == "service.instance.id")
    {
        attrs.push(string_attribute(
            "service.instance.id",
            &hex(&new_trace_id()),
        ));
    }
    attrs.push(string_attribute("telemetry.sdk.name", "instrument"));
    attrs.push(string_attribute("telemetry.sdk.language", "rust"));
    attrs.push(string_attribute(
        "telemetry.sdk.version",
        env!("CARGO_PKG_VERSION"),
    ));
    attrs.push(KeyValue {
        key: "process.pid".into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(i64::from(std::process::id()))),
        }),
        ..Default::default()
    });
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok());
    if let Some(host) = host.map(|h| h.trim().to_string()).filter(|h| !h.is_empty()) {
        attrs.push(string_attribute("host.name", &host));
    }
    for (k, v) in &config.resource_attributes {
        attrs.retain(|a| &a.key != k);
        attrs.push(string_attribute(k, v));
    }
    Resource {
        attributes: attrs,
        ..Default::default()
    }
}

fn endpoint(
    config_endpoint: &str,
    config: &Config,
) -> Result<tonic::transport::Endpoint, InitError> {
    let uri = if config_endpoint.contains("://") {
        config_endpoint.to_string()
    } else {
        format!("http://{config_endpoint}")
    };
    tonic::transport::Endpoint::from_shared(uri)
        .map(|e| {
            e.connect_timeout(CONNECT_TIMEOUT)
                .timeout(config.export_timeout)
        })
        .map_err(|e| InitError::InvalidEndpoint {
            endpoint: config_endpoint.to_string(),
            reason: e.to_string(),
        })
}

impl Telemetry {
    /// Sets everything up and installs the `tracing` subscriber as the global default (and as
    /// the `log` logger), so that events anywhere in the process become logfmt lines.
    pub fn init(config: Config) -> Result<Telemetry, InitError> {
        let mut telemetry = Telemetry::build(config)?;
        // Also routes `log` records (from crates that use `log`, not `tracing`) into it.
        telemetry
            .dispatch
            .clone()
            .try_init()
            .map_err(|e| InitError::SubscriberAlreadySet(e.to_string()))?;
        telemetry.global = true;
        // The profiler is process-wide (one SIGPROF handler), so only the global telemetry
        // starts it. Profiles are optional: a failure is logged, never fatal.
        if let Some(address) = telemetry.config.pyroscope_server_address.clone() {
            match crate::profiling::start(profiler_config(&telemetry.config, address)) {
                Ok(p) => *telemetry.profiler.get_mut() = Some(p),
                Err(e) => tracing::warn!(error = %e, "CPU profiling is off"),
            }
        }
        // Requests run under the global dispatcher: no need to set it per request.
        telemetry.http = Arc::new(LayerState {
            metrics: telemetry.http.metrics.clone(),
            dispatch: None,
            log_writer: telemetry.http.log_writer.clone(),
            exporter: telemetry.http.exporter.clone(),
            hook: telemetry.http.hook,
        });
        Ok(telemetry)
    }

    /// Sets everything up without touching the global `tracing` subscriber: the instrumented
    /// router runs each request under this telemetry's own dispatcher. For tests and for
    /// processes hosting several services.
    pub fn new(config: Config) -> Result<Telemetry, InitError> {
        Telemetry::build(config)
    }

    fn build(config: Config) -> Result<Telemetry, InitError> {
        ensure_crypto_provider();
        let path = &config.metrics_path;
        if !path.is_empty() && (!path.starts_with('/') || path.contains(['{', '}', '*'])) {
            return Err(InitError::InvalidMetricsPath(path.clone()));
        }
        let registry = Registry::with_cardinality_limit(config.cardinality_limit);
        let metrics = HttpMetrics::register(&registry)?;
        let (sender, exporter) = match &config.otlp_endpoint {
            Some(configured) => {
                let endpoint = endpoint(configured, &config)?;
                let exported = registry.counter(
                    "instrument_spans_exported_total",
                    "Spans sent to the OTLP endpoint.",
                    &[],
                )?;
                let dropped = registry.counter(
                    "instrument_spans_dropped_total",
                    "Spans dropped: the export queue was full, or the endpoint failed after retries.",
                    &["reason"],
                )?;
                let settings = ExporterSettings {
                    endpoint,
                    resource: resource(&config),
                    queue_capacity: config.span_queue_capacity,
                    batch_size: config.export_batch_size.max(1),
                    // tokio intervals must not be zero.
                    batch_interval: config.export_interval.max(Duration::from_millis(1)),
                    exported: exported.with(&[]),
                    dropped_queue_full: dropped.with(&["queue_full"]),
                    dropped_export_failed: dropped.with(&["export_failed"]),
                };
                let log_only = Dispatch::new(
                    tracing_subscriber::registry()
                        .with(filter(&config)?)
                        .with(LogfmtLayer::new(config.log_writer.clone())),
                );
                let (sender, handle) =
                    export::start(settings, log_only).map_err(InitError::Exporter)?;
                (Some(sender), Some(handle))
            }
            None => (None, None),
        };
        let subscriber = tracing_subscriber::registry()
            .with(filter(&config)?)
            .with(SpanLayer::new(sender.clone(), PROFILING_HOOK))
            .with(LogfmtLayer::new(config.log_writer.clone()));
        let dispatch = Dispatch::new(subscriber);
        let log_writer = config.log_writer.clone();
        Ok(Telemetry {
            config,
            registry,
            http: Arc::new(LayerState {
                metrics,
                dispatch: Some(dispatch.clone()),
                log_writer,
                exporter: sender,
                hook: PROFILING_HOOK,
            }),
            dispatch,
            global: false,
            exporter: Mutex::new(exporter),
            profiler: Mutex::new(None),
        })
    }

    /// The metrics registry: register application metrics here; they are served with the
    /// HTTP metrics.
    pub fn metrics(&self) -> &Registry {
        &self.registry
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The `tracing` dispatcher (logfmt + spans). Background tasks of a telemetry created with
    /// [`Telemetry::new`] can run under it with `tracing::instrument::WithSubscriber`.
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// Adds the metrics route (`config.metrics_path`, unless empty; the router must not have
    /// one there already) and the layers, outermost first: request access → metrics → panic
    /// catcher → `router`. The layers apply to the routes and the fallback the router has now,
    /// so call this last, once every route is added. Serve with
    /// `into_make_service_with_connect_info::<SocketAddr>()` to get the `client` log field.
    pub fn instrument<S>(&self, router: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let router = if self.config.metrics_path.is_empty() {
            router
        } else {
            let registry = self.registry.clone();
            router.route(
                &self.config.metrics_path,
                axum::routing::get(move |headers: HeaderMap| async move {
                    let format =
                        negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
                    (
                        [(header::CONTENT_TYPE, format.content_type())],
                        registry.encode(format),
                    )
                        .into_response()
                }),
            )
        };
        router.layer(InstrumentLayer(self.http.clone()))
    }

    /// Sends the spans still queued, waiting at most `config.shutdown_timeout`, then writes the
    /// log lines still buffered. Returns whether every span was flushed. Later spans are no
    /// longer exported.
    pub async fn shutdown(&self) -> bool {
        if let Some(profiler) = self.profiler.lock().await.take() {
            profiler.stop().await;
        }
        let mut exporter = self.exporter.lock().await;
        let flushed = match exporter.as_mut() {
            Some(handle) => handle.shutdown(self.config.shutdown_timeout).await,
            None => true,
        };
        // Last, so the warnings of a failed export are written too.
        self.config.log_writer.flush();
        flushed
    }
}

/// The profiler's settings: series labelled like the other signals (`project` from
/// `service.namespace`, `instance` from `service.instance.id`).
fn profiler_config(config: &Config, address: String) -> crate::profiling::ProfilerConfig {
    let mut pc = crate::profiling::ProfilerConfig::new(address, config.service_name.clone());
    for (key, value) in &config.resource_attributes {
        let label = match key.as_str() {
            "service.namespace" => "project",
            "service.instance.id" => "instance",
            _ => continue,
        };
        pc.labels.push((label.to_string(), value.clone()));
    }
    pc
}
