//! The demo application tetrad is shown with: a small web backend and the inventory service it
//! calls, the Rust counterpart of the seed stack's FastAPI app.
//!
//! The demo exists to fill every dashboard panel with data within seconds, so each route
//! exercises one thing: `/` and `/health` are cheap successes, `/items/{id}` makes a real HTTP
//! call to the inventory service (so a trace spans two services and the service map has an edge)
//! and burns a little CPU (so a flame graph has something to show), `/slow` sleeps 0.5–2 s (the
//! latency panels and the p99 alert), `/fail` answers a 4xx, `/error` a 500 and `/panic` panics
//! (the exceptions panel); `/metrics` is what tetrad scrapes. `/openapi.json` describes all of
//! them and `/docs` is a self-contained page that lists them with a "Try it" link.
//!
//! The crate is a library so the single `tetrad` binary can run it (`tetrad demo-service
//! backend|inventory`); it depends on nothing of the server. Its public surface:
//!
//! - [`backend_router`] / [`inventory_router`]: the bare [`axum::Router`]s, for callers that add
//!   their own layers (instrumentation) before serving;
//! - [`serve_backend`] / [`serve_inventory`]: instrument the router with an
//!   [`instrument::Telemetry`] (request ids, logfmt access lines with trace ids, RED metrics on
//!   `/metrics`, spans exported over OTLP, panics caught as 500s), serve it on a listener until a
//!   shutdown future completes, let the requests in flight finish and flush the last spans;
//! - [`BackendConfig`] / [`BackendState`]: where the inventory is and how long to wait for it;
//! - [`BACKEND_ROUTES`] / [`INVENTORY_ROUTES`]: the route table the OpenAPI document and the docs
//!   page are built from, so documentation and routes are written once.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use instrument::{Config, Telemetry};
//! // Two services in one process: one owns the global `tracing` subscriber (`init`), the other
//! // runs its requests under its own (`new`). `tetrad demo-service` runs one per process.
//! let inventory_telemetry = Telemetry::new(Config::from_env("inventory"))?;
//! let inventory = tokio::net::TcpListener::bind("127.0.0.1:8100").await?;
//! tokio::spawn(demo::serve_inventory(inventory, inventory_telemetry, std::future::pending()));
//!
//! let telemetry = Telemetry::init(Config::from_env("backend"))?;
//! let backend = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! let config = demo::BackendConfig::new("http://127.0.0.1:8100")?;
//! demo::serve_backend(backend, config, telemetry, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod answers;
mod backend;
mod cpu_work;
mod docs_page;
mod error;
mod inventory;
mod openapi;
mod random;
mod routes;
mod serve;

pub use backend::{BackendConfig, BackendState, backend_router, serve_backend};
pub use error::DemoError;
pub use inventory::{inventory_router, serve_inventory};
pub use openapi::openapi_document;
pub use routes::{BACKEND_ROUTES, INVENTORY_ROUTES, RouteDoc};
pub use serve::serve_router;

/// The backend's port when `PORT` is not set, as in the seed stack.
pub const DEFAULT_BACKEND_PORT: u16 = 8000;
/// The inventory service's port when `PORT` is not set.
pub const DEFAULT_INVENTORY_PORT: u16 = 8100;
/// Where the backend finds the inventory when `INVENTORY_URL` is not set.
pub const DEFAULT_INVENTORY_URL: &str = "http://127.0.0.1:8100";
