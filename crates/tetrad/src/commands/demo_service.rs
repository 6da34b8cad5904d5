//! `tetrad demo-service backend|inventory [--port N]` (hidden): runs one of the demo services
//! from the `demo` crate, the way `tetrad demo` and stack files start them. The port comes from
//! `--port` or `PORT` (what a supervisor hands each replica), the inventory's address from
//! `--inventory-url` or `INVENTORY_URL`. Telemetry follows the OpenTelemetry variables
//! (`OTEL_SERVICE_NAME`, default `backend` or `inventory`; `OTEL_EXPORTER_OTLP_ENDPOINT`;
//! `OTEL_RESOURCE_ATTRIBUTES`) and `RUST_LOG`; logfmt lines go to stdout, where a supervisor
//! collects them. SIGTERM or Ctrl-C stops accepting, lets the requests in flight finish,
//! flushes the last spans and exits 0.

use super::signal::stop_signal;
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Which demo service to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoServiceKind {
    /// The web backend (default port 8000).
    Backend,
    /// The inventory service the backend calls (default port 8100).
    Inventory,
}

/// Arguments of `tetrad demo-service`.
#[derive(Debug, Args)]
pub struct DemoServiceArgs {
    /// The service to run.
    #[arg(value_enum)]
    pub service: DemoServiceKind,
    /// Port to listen on (default 8000 for the backend, 8100 for the inventory).
    #[arg(long, env = "PORT")]
    pub port: Option<u16>,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Base URL of the inventory service (backend only).
    #[arg(long, env = "INVENTORY_URL", default_value = demo::DEFAULT_INVENTORY_URL)]
    pub inventory_url: String,
}

/// Runs the service until SIGTERM or Ctrl-C.
pub fn main(args: DemoServiceArgs) -> anyhow::Result<()> {
    instrument::quiet_exception_panics();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("demo")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(args))
}

async fn run(args: DemoServiceArgs) -> anyhow::Result<()> {
    let default_port = match args.service {
        DemoServiceKind::Backend => demo::DEFAULT_BACKEND_PORT,
        DemoServiceKind::Inventory => demo::DEFAULT_INVENTORY_PORT,
    };
    let addr = SocketAddr::new(args.host, args.port.unwrap_or(default_port));
    // Check the configuration before taking the port.
    let backend_config = match args.service {
        DemoServiceKind::Backend => Some(demo::BackendConfig::new(&args.inventory_url)?),
        DemoServiceKind::Inventory => None,
    };
    let name = match args.service {
        DemoServiceKind::Backend => "backend",
        DemoServiceKind::Inventory => "inventory",
    };
    // Installs the process' `tracing` subscriber: logfmt on stdout, spans exported over OTLP.
    let telemetry = instrument::Telemetry::init(instrument::Config::from_env(name))
        .context("setting up telemetry")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    tracing::info!(service = name, %addr, "demo service listening");
    match backend_config {
        Some(config) => demo::serve_backend(listener, config, telemetry, stop_signal()).await?,
        None => demo::serve_inventory(listener, telemetry, stop_signal()).await?,
    }
    // The subscriber outlives the telemetry's exporter: this line is still written.
    tracing::info!(service = name, "demo service stopped");
    Ok(())
}
