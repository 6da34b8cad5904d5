//! Everything that brings metrics into tetrad.
//!
//! Each receiver is a plain function over bytes (plus the few headers it needs) that validates,
//! converts to [`model`] types and appends through the [`tsdb::Appendable`] seam, returning a typed
//! result or an error with an `http_status()` (400 bad data, 413 too large, 415 wrong media type,
//! 429 store limit, 500 store failure); HTTP routing lives in the `api` crate.
//!
//! - [`remote_write`]: Prometheus remote-write 1.0: [`remote_write::receive`] for the
//!   `/api/v1/write` handler and [`remote_write::RemoteWriteClient`] for sending.
//! - [`exposition`]: streaming parsers for the Prometheus text format and OpenMetrics, plus the
//!   Accept header a scraper sends and the choice of parser from the Content-Type.
//! - [`scrape`]: `scrape_configs` (Prometheus' YAML shape and validation), relabeling, static and
//!   file discovery, and [`scrape::ScrapeManager`], which runs one task per target and reports
//!   target state for `/api/v1/targets`.
//! - [`otlp`]: OTLP metrics over HTTP ([`otlp::receive_http`]) and gRPC
//!   ([`otlp::OtlpMetricsService`]), translated to Prometheus series as Prometheus does.
//! - [`services`]: the supervisor of `tetrad up`: runs a stack's services as process groups,
//!   restarts them by policy, and turns their stdout/stderr into log records for a `LogSink`.
//!
//! Semantics follow Prometheus 2.42 and are checked against it: a test runs the real binary,
//! which scrapes the same endpoints as [`scrape::ScrapeManager`] (label sets must be equal) and
//! exchanges remote-write bodies with this crate in both directions.
//!
//! Partial failure is the rule, as in Prometheus: a bad series or sample is reported and
//! skipped while the valid rest of a batch is stored. Limits are explicit everywhere (body
//! sizes, series and samples per request, label sizes, delta series, file sizes) and every
//! refusal names the limit or the offending series.

#![warn(missing_docs)]

pub mod exposition;
mod http_client;
pub mod otlp;
pub mod remote_write;
pub mod scrape;
pub mod services;

pub use http_client::ensure_crypto_provider;

#[cfg(test)]
mod test_http;
#[cfg(test)]
mod test_store;

#[cfg(test)]
mod compat_tests;

#[cfg(test)]
mod proptests;
