//! OTLP metrics: conversion to Prometheus samples, an HTTP body receiver and a gRPC service.
//!
//! - [`ingest_otlp_metrics`]: the conversion and storage. Resource `service.name` (with a
//!   `service.namespace/` prefix) becomes `job` and tetrad's `service` label,
//!   `service.instance.id` becomes `instance`, other resource attributes go to `target_info`;
//!   names get unit and `_total`/`_ratio` suffixes ([`metric_name`]); delta temporality is
//!   accumulated to cumulative ([`DeltaState`]); exponential histograms become classic buckets.
//! - [`receive_http`]: an OTLP/HTTP body (protobuf or JSON, optionally gzip) to a response body
//!   in the same encoding, or an error with an `http_status()`.
//! - [`OtlpMetricsService`]: the tonic `MetricsService` for OTLP/gRPC.

mod convert;
mod naming;
#[cfg(test)]
mod tests;

pub use convert::{DeltaState, OtlpIngestError, OtlpLimits, OtlpStats, ingest_otlp_metrics};
pub use naming::{NameKind, label_name, metric_name, unit_name};

use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
    metrics_service_server::MetricsService,
};
use prost::Message;
use std::io::Read;
use std::sync::Arc;
use tsdb::Appendable;

/// Receiver settings.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpConfig {
    /// Largest request body (compressed) accepted.
    pub max_body_bytes: usize,
    /// Largest decompressed body accepted.
    pub max_decoded_bytes: usize,
    /// Per-request limits.
    pub limits: OtlpLimits,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            max_body_bytes: 32 << 20,
            max_decoded_bytes: 128 << 20,
            limits: OtlpLimits::default(),
        }
    }
}

/// Why an OTLP request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OtlpError {
    /// Body over a size limit. HTTP 413.
    #[error("{0}")]
    TooLarge(String),
    /// Neither protobuf nor JSON, or an unknown content encoding. HTTP 415.
    #[error("{0}")]
    Unsupported(String),
    /// The body did not decode. HTTP 400.
    #[error("{0}")]
    Decode(String),
    /// The store failed. HTTP 500 (gRPC UNAVAILABLE), the sender retries.
    #[error("{0}")]
    Storage(String),
}

impl OtlpError {
    /// The HTTP status to answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            OtlpError::TooLarge(_) => 413,
            OtlpError::Unsupported(_) => 415,
            OtlpError::Decode(_) => 400,
            OtlpError::Storage(_) => 500,
        }
    }
}

impl From<OtlpIngestError> for OtlpError {
    fn from(e: OtlpIngestError) -> Self {
        match e {
            OtlpIngestError::TooLarge(m) => OtlpError::TooLarge(m),
            OtlpIngestError::Storage(m) => OtlpError::Storage(m),
        }
    }
}

/// Body encodings of OTLP/HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
}

impl Encoding {
    /// The Content-Type to answer with.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// A successful OTLP/HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpReply {
    /// What was stored.
    pub stats: OtlpStats,
    /// Encoding of `body` (same as the request's).
    pub encoding: Encoding,
    /// An encoded `ExportMetricsServiceResponse`, with `partial_success` when points were refused.
    pub body: Vec<u8>,
}

fn decompress_gzip(body: &[u8], limit: usize) -> Result<Vec<u8>, OtlpError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| OtlpError::Decode(format!("gzip: {e}")))?;
    if out.len() > limit {
        return Err(OtlpError::TooLarge(format!(
            "decompressed body exceeds the limit of {limit} bytes"
        )));
    }
    Ok(out)
}

/// Decodes an OTLP/HTTP metrics body.
pub fn decode_http(
    body: &[u8],
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    config: &OtlpConfig,
) -> Result<(ExportMetricsServiceRequest, Encoding), OtlpError> {
    if body.len() > config.max_body_bytes {
        return Err(OtlpError::TooLarge(format!(
            "request body of {} bytes exceeds the limit of {} bytes",
            body.len(),
            config.max_body_bytes
        )));
    }
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let encoding = match media.as_str() {
        "application/x-protobuf" | "application/protobuf" => Encoding::Protobuf,
        "application/json" => Encoding::Json,
        other => {
            return Err(OtlpError::Unsupported(format!(
                "unsupported content type {other:?}, expected application/x-protobuf or application/json"
            )));
        }
    };
    let owned;
    let raw: &[u8] = match content_encoding.map(|e| e.trim().to_ascii_lowercase()) {
        None => body,
        Some(e) if e.is_empty() || e == "identity" => body,
        Some(e) if e == "gzip" => {
            owned = decompress_gzip(body, config.max_decoded_bytes)?;
            &owned
        }
        Some(e) => {
            return Err(OtlpError::Unsupported(format!(
                "unsupported content encoding {e:?}, expected gzip"
            )));
        }
    };
    let req = match encoding {
        Encoding::Protobuf => ExportMetricsServiceRequest::decode(raw)
            .map_err(|e| OtlpError::Decode(format!("protobuf: {e}")))?,
        Encoding::Json => {
            serde_json::from_slice(raw).map_err(|e| OtlpError::Decode(format!("json: {e}")))?
        }
    };
    Ok((req, encoding))
}

fn response(stats: &OtlpStats) -> ExportMetricsServiceResponse {
    let partial_success = (stats.rejected_points > 0).then(|| ExportMetricsPartialSuccess {
        rejected_data_points: stats.rejected_points as i64,
        error_message: stats.errors.join("; "),
    });
    ExportMetricsServiceResponse { partial_success }
}

/// Handles one OTLP/HTTP metrics POST end to end.
pub fn receive_http(
    body: &[u8],
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    store: &dyn Appendable,
    delta: &DeltaState,
    config: &OtlpConfig,
) -> Result<HttpReply, OtlpError> {
    let (req, encoding) = decode_http(body, content_type, content_encoding, config)?;
    let stats = ingest_otlp_metrics(&req, store, delta, &config.limits)?;
    let resp = response(&stats);
    let body = match encoding {
        Encoding::Protobuf => resp.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&resp).unwrap_or_default(),
    };
    Ok(HttpReply {
        stats,
        encoding,
        body,
    })
}

/// The OTLP/gRPC metrics service over a store. Mount with
/// `MetricsServiceServer::new(OtlpMetricsService::new(..))`.
#[derive(Clone)]
pub struct OtlpMetricsService {
    store: Arc<dyn Appendable>,
    delta: Arc<DeltaState>,
    limits: OtlpLimits,
    observer: Option<ExportObserver>,
}

/// Told after each export: `Some(samples stored)`, or `None` when the export failed.
pub type ExportObserver = Arc<dyn Fn(Option<usize>) + Send + Sync>;

impl OtlpMetricsService {
    /// A service appending to `store`, sharing `delta` with the HTTP receiver.
    pub fn new(store: Arc<dyn Appendable>, delta: Arc<DeltaState>, limits: OtlpLimits) -> Self {
        OtlpMetricsService {
            store,
            delta,
            limits,
            observer: None,
        }
    }

    /// Reports every export's outcome to `observer` (for the server's self-metrics).
    pub fn with_observer(mut self, observer: ExportObserver) -> Self {
        self.observer = Some(observer);
        self
    }
}

#[tonic::async_trait]
impl MetricsService for OtlpMetricsService {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let req = request.into_inner();
        let result = ingest_otlp_metrics(&req, &*self.store, &self.delta, &self.limits);
        if let Some(observe) = &self.observer {
            observe(result.as_ref().ok().map(|s| s.samples_stored));
        }
        match result {
            Ok(stats) => Ok(tonic::Response::new(response(&stats))),
            Err(OtlpIngestError::TooLarge(m)) => Err(tonic::Status::resource_exhausted(m)),
            Err(OtlpIngestError::Storage(m)) => Err(tonic::Status::unavailable(m)),
        }
    }
}
