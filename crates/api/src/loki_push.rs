//! Loki's push API, `POST /loki/api/v1/push`, JSON flavour, into the server's [`LogSink`]; and
//! `GET /api/v1/tetrad/logs`, which reads back the recent records the in-memory sink holds
//! (the stand-in for the log store until the logs pillar lands).
//!
//! The body is Loki's JSON: `{"streams": [{"stream": {labels}, "values": [["<unix ns>",
//! "<line>"], ...]}]}` (a third element, structured metadata, is accepted and ignored),
//! optionally gzip-compressed (`Content-Encoding: gzip`). Success is `204 No Content`, as Loki.
//! Refusals carry Loki's error texts (`error at least one label pair is required per stream`,
//! `max entry size ... exceeded ...`) in a JSON body `{"status": "error", "code": 400,
//! "message": ...}`. The protobuf+snappy flavour is answered 415 with a message saying to send
//! JSON for now.

use crate::ApiState;
use crate::error::ApiError;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use model::{Labels, LogRecord};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;

/// Loki's default `max_line_size`.
pub const MAX_LINE_BYTES: usize = 256 << 10;
/// Loki's default `max_label_names_per_series`.
pub const MAX_LABEL_NAMES: usize = 15;
/// Loki's default `max_label_name_length` and `max_label_value_length`.
pub const MAX_LABEL_NAME_BYTES: usize = 1024;
/// See [`MAX_LABEL_NAME_BYTES`].
pub const MAX_LABEL_VALUE_BYTES: usize = 2048;
/// Most records `GET /api/v1/tetrad/logs` returns.
pub const MAX_RECENT: usize = 5000;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/loki/api/v1/push", post(push))
        .route("/api/v1/tetrad/logs", get(recent))
        // Read with our own limit and Loki's error text, below.
        .layer(DefaultBodyLimit::disable())
}

/// A refusal in Loki's words.
fn loki_error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({
        "status": "error",
        "code": status.as_u16(),
        "message": message.into(),
    });
    (status, axum::Json(body)).into_response()
}

#[derive(Deserialize)]
struct PushRequest {
    #[serde(default)]
    streams: Vec<PushStream>,
}

#[derive(Deserialize)]
struct PushStream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<PushValue>,
}

/// `[ts, line]` or `[ts, line, {structured metadata}]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum PushValue {
    Plain(String, String),
    // Structured metadata is accepted but not stored until the log store lands.
    WithMetadata(String, String, #[allow(dead_code)] serde::de::IgnoredAny),
}

async fn push(State(st): State<ApiState>, req: Request) -> Response {
    let limit = st.limits.max_push_body_bytes;
    let (parts, body) = req.into_parts();
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let content_type = header(header::CONTENT_TYPE);
    let encoding = header(header::CONTENT_ENCODING);
    let body: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return loki_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body too large: more than {limit} bytes, limit: {limit} bytes"),
            );
        }
    };
    let is_json = match content_type.as_deref() {
        Some(ct) => ct.starts_with("application/json"),
        // Without a content type, Loki assumes protobuf; a body that is plainly JSON is taken.
        None => body.first() == Some(&b'{') || encoding.is_some(),
    };
    if !is_json {
        return loki_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "unsupported Content-Type {:?}: tetrad accepts Loki's JSON push (Content-Type: application/json, optionally gzip); protobuf+snappy is not supported yet",
                content_type.unwrap_or_default()
            ),
        );
    }
    let decoded = match encoding.as_deref() {
        None | Some("identity") => body.to_vec(),
        Some("gzip") => match gunzip(&body, st.limits.max_push_decoded_bytes) {
            Ok(b) => b,
            Err((status, message)) => return loki_error(status, message),
        },
        Some(other) => {
            return loki_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported Content-Encoding {other:?} (expected gzip)"),
            );
        }
    };
    let Some(sink) = st.log_sink.clone() else {
        return loki_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server has no log store configured",
        );
    };
    let records = match parse_push(&decoded) {
        Ok(r) => r,
        Err(message) => return loki_error(StatusCode::BAD_REQUEST, message),
    };
    let n = records.len() as u64;
    match sink.push(records) {
        Ok(()) => {
            crate::pipeline::count_records(&st.self_metrics, "loki_push", n);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            let mut resp = loki_error(StatusCode::TOO_MANY_REQUESTS, e.to_string());
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            resp
        }
    }
}

/// Decompresses within `limit` bytes; the error is a status and Loki-style text.
fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, (StatusCode, String)> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("gzip: {e}")))?;
    if out.len() > limit {
        return Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Request body too large: more than {limit} bytes decompressed, limit: {limit} bytes"
            ),
        ));
    }
    Ok(out)
}

/// Loki's `{a="b", c="d"}` rendering of a stream, for error texts.
fn render(labels: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// Parses and validates a JSON push body into records; the error is Loki's text.
pub fn parse_push(body: &[u8]) -> Result<Vec<LogRecord>, String> {
    let req: PushRequest =
        serde_json::from_slice(body).map_err(|e| format!("loghttp.PushRequest: {e}"))?;
    let mut out = Vec::new();
    for s in req.streams {
        if s.stream.is_empty() {
            return Err("error at least one label pair is required per stream".into());
        }
        let shown = render(&s.stream);
        if s.stream.len() > MAX_LABEL_NAMES {
            return Err(format!(
                "entry for stream {shown} has {} label names; limit {MAX_LABEL_NAMES}",
                s.stream.len()
            ));
        }
        for (k, v) in &s.stream {
            if !model::is_valid_label_name(k) || k.starts_with("__") {
                return Err(format!(
                    "error parsing labels {shown} with error: invalid label name {k:?}"
                ));
            }
            if k.len() > MAX_LABEL_NAME_BYTES {
                return Err(format!("stream {shown} has label name too long: {k}"));
            }
            if v.len() > MAX_LABEL_VALUE_BYTES {
                return Err(format!("stream {shown} has label value too long: {v}"));
            }
        }
        let labels = Labels::from_pairs(s.stream.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        for v in s.values {
            let (ts, line) = match v {
                PushValue::Plain(t, l) | PushValue::WithMetadata(t, l, _) => (t, l),
            };
            let ts: i64 = ts.trim().parse().map_err(|_| {
                format!("entry for stream {shown} has invalid timestamp {ts:?}: expected Unix nanoseconds as a string")
            })?;
            if line.len() > MAX_LINE_BYTES {
                return Err(format!(
                    "max entry size {MAX_LINE_BYTES} bytes exceeded for stream {shown} while adding an entry with length {} bytes",
                    line.len()
                ));
            }
            out.push(LogRecord::new(ts, labels.clone(), line));
        }
    }
    Ok(out)
}

/// Query of `GET /api/v1/tetrad/logs`.
#[derive(Deserialize)]
struct RecentQuery {
    limit: Option<usize>,
    project: Option<String>,
    service: Option<String>,
    instance: Option<String>,
}

async fn recent(
    State(st): State<ApiState>,
    Query(q): Query<RecentQuery>,
) -> Result<Response, ApiError> {
    let Some(mem) = st.recent_logs.clone() else {
        return Err(ApiError::new(
            crate::ErrorType::Unavailable,
            "this server keeps no recent log records",
        ));
    };
    let limit = q.limit.unwrap_or(100);
    if limit > MAX_RECENT {
        return Err(ApiError::bad_param(
            "limit",
            format!("{limit} is more than the maximum of {MAX_RECENT}"),
        ));
    }
    let wanted = [
        ("project", q.project),
        ("service", q.service),
        ("instance", q.instance),
    ];
    let records = mem.recent_matching(limit, |r| {
        wanted
            .iter()
            .all(|(k, v)| v.as_ref().is_none_or(|v| r.labels.get(k) == v))
    });
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let labels: BTreeMap<&str, &str> = r
                .labels
                .iter()
                .map(|l| (l.name.as_ref(), l.value.as_ref()))
                .collect();
            serde_json::json!({
                "timestamp_ns": r.timestamp_ns.to_string(),
                "labels": labels,
                "line": r.line,
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({
        "status": "success",
        "data": {"records": records},
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_streams_and_values() {
        let recs = parse_push(
            br#"{"streams":[{"stream":{"service":"web","stream":"stdout"},"values":[["1700000000000000001","hello"],["2","x",{"trace_id":"a"}]]}]}"#,
        )
        .unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].timestamp_ns, 1_700_000_000_000_000_001);
        assert_eq!(recs[0].labels.get("service"), "web");
        assert_eq!(recs[1].line, "x");
    }

    #[test]
    fn refusals_use_lokis_words() {
        let e = parse_push(br#"{"streams":[{"stream":{},"values":[["1","x"]]}]}"#).unwrap_err();
        assert_eq!(e, "error at least one label pair is required per stream");
        let e = parse_push(br#"{"streams":[{"stream":{"a":"b"},"values":[["soon","x"]]}]}"#)
            .unwrap_err();
        assert!(e.contains("invalid timestamp \"soon\""), "{e}");
        let e = parse_push(br#"{"streams":[{"stream":{"a-b":"c"},"values":[]}]}"#).unwrap_err();
        assert!(
            e.starts_with("error parsing labels {a-b=\"c\"} with error"),
            "{e}"
        );
        let long = format!(
            r#"{{"streams":[{{"stream":{{"a":"b"}},"values":[["1","{}"]]}}]}}"#,
            "x".repeat(MAX_LINE_BYTES + 1)
        );
        let e = parse_push(long.as_bytes()).unwrap_err();
        assert!(
            e.starts_with("max entry size 262144 bytes exceeded for stream {a=\"b\"}"),
            "{e}"
        );
        assert!(
            parse_push(b"{")
                .unwrap_err()
                .starts_with("loghttp.PushRequest")
        );
    }
}
