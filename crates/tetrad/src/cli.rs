//! Command-line interface. Every shared setting is a flag, a `TETRAD_*` environment variable and
//! a key of the stack file; flags win over the environment, the environment over the file.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// One binary for metrics, logs, traces and profiles of a web service.
#[derive(Debug, Parser)]
#[command(name = "tetrad", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub shared: SharedArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every command shares. `None` means "not given": the stack file or the default
/// applies.
#[derive(Debug, Clone, Default, Args)]
pub struct SharedArgs {
    /// Stack file (default: ./tetrad.yaml when present).
    #[arg(short = 'f', long = "file", env = "TETRAD_FILE", global = true)]
    pub file: Option<PathBuf>,
    /// Project name, added as the `project` label to everything collected.
    #[arg(short = 'p', long, env = "TETRAD_PROJECT", global = true)]
    pub project: Option<String>,
    /// Where data is stored (default ./tetrad-data).
    #[arg(long, env = "TETRAD_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// UI and query APIs (default 127.0.0.1:3000).
    #[arg(long, env = "TETRAD_HTTP_ADDR", global = true)]
    pub http_addr: Option<String>,
    /// OTLP gRPC receiver (default 127.0.0.1:4317).
    #[arg(long, env = "TETRAD_OTLP_GRPC_ADDR", global = true)]
    pub otlp_grpc_addr: Option<String>,
    /// OTLP HTTP receiver (default 127.0.0.1:4318).
    #[arg(long, env = "TETRAD_OTLP_HTTP_ADDR", global = true)]
    pub otlp_http_addr: Option<String>,
    /// Pyroscope ingest (default 127.0.0.1:4040).
    #[arg(long, env = "TETRAD_PYROSCOPE_ADDR", global = true)]
    pub pyroscope_addr: Option<String>,
    /// Metrics retention by age, e.g. `15d` (default 15d).
    #[arg(long, env = "TETRAD_RETENTION", global = true)]
    pub retention: Option<String>,
    /// Log level filter for tetrad's own logs (default info).
    #[arg(long, env = "TETRAD_LOG_LEVEL", global = true)]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The server alone: collect, store, query.
    Server,
    /// The stack file's services, supervised like `docker compose up`, with a server (started
    /// here unless one answers at --http-addr).
    Up(UpArgs),
    /// The services of the projects registered with the server.
    Ps,
    /// Stops the project's `tetrad up` (started with `up -d` or in another terminal).
    Down,
    /// Evaluates a PromQL query against a running server and prints the result.
    Query(QueryArgs),
    /// Checks a stack file and prints the settings in force.
    Config,
    /// `up` with a built-in stack: the demo backend, its inventory service and `load`.
    Demo(crate::commands::demo::DemoArgs),
    /// Sends a steady mix of requests to the demo backend (normal, 4xx, 5xx, slow).
    Load(crate::commands::load::LoadArgs),
    /// Runs one demo service (backend or inventory); used by `tetrad demo` and stack files.
    #[command(hide = true)]
    DemoService(crate::commands::demo_service::DemoServiceArgs),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Run in the background; output goes to <data-dir>/projects/<project>/up.log.
    #[arg(short = 'd', long)]
    pub detach: bool,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The PromQL expression.
    pub query: String,
    /// Evaluation time (RFC 3339 or Unix seconds); default now.
    #[arg(long)]
    pub time: Option<String>,
    /// Server URL (default http://<http-addr>).
    #[arg(long)]
    pub server: Option<String>,
}
