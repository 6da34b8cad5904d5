//! Push receivers: Prometheus remote-write (`POST /api/v1/write`, 1.0 and 2.0) and OTLP metrics
//! over HTTP (`POST /v1/metrics`, protobuf or JSON).
//!
//! Pushes run on the blocking pool (decode + WAL write), at most `max_concurrent_pushes` at a
//! time: that bounds the memory held by decoded requests. A push that finds no slot within a
//! short wait is answered 503 with `Retry-After`, which remote-write senders retry.

use crate::ApiState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::time::Duration;

/// How long a push waits for a free slot before it is told to retry.
const SLOT_WAIT: Duration = Duration::from_secs(5);

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/write", post(remote_write))
        .route("/v1/metrics", post(otlp_metrics))
        // Bodies are read with our own limit and error text (below), not axum's default 2 MiB.
        .layer(DefaultBodyLimit::disable())
}

pub(crate) fn otlp_routes() -> Router<ApiState> {
    Router::new()
        .route("/v1/metrics", post(otlp_metrics))
        .layer(DefaultBodyLimit::disable())
}

/// Plain-text error with status, as Prometheus' receiver answers (`http.Error`).
fn text_error(status: u16, msg: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, format!("{}\n", msg.into())).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    resp
}

/// A push request's body and content headers.
struct PushBody {
    body: Bytes,
    content_type: Option<String>,
    content_encoding: Option<String>,
}

/// Why a push was not handed to its receiver: an HTTP status and a message.
type Refusal = (u16, String);

/// Reads the body within `limits.max_push_body_bytes` and the content headers.
async fn read_push(st: &ApiState, req: Request) -> Result<PushBody, Refusal> {
    let limit = st.limits.max_push_body_bytes;
    let (parts, body) = req.into_parts();
    let too_large = || {
        (
            413,
            format!("request body exceeds the limit of {limit} bytes (limits.max_push_body_bytes)"),
        )
    };
    // A declared length over the limit is refused before reading a byte of it.
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let body = axum::body::to_bytes(body, limit).await.map_err(|e| {
        // Limited reports an over-long body as `LengthLimitError`; anything else is a broken
        // upload (client gone, bad chunking), not a size problem.
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        {
            too_large()
        } else {
            (400, format!("reading the request body: {e}"))
        }
    })?;
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Ok(PushBody {
        body,
        content_type: header(header::CONTENT_TYPE),
        content_encoding: header(header::CONTENT_ENCODING),
    })
}

/// Runs `ingest` on the blocking pool once an ingest slot is free; a push that waits longer than
/// [`SLOT_WAIT`] is refused with 503.
async fn run_ingest<T: Send + 'static>(
    st: &ApiState,
    receiver: &str,
    ingest: impl FnOnce(&ApiState) -> T + Send + 'static,
) -> Result<T, Refusal> {
    let permit = match tokio::time::timeout(SLOT_WAIT, st.push_slots.clone().acquire_owned()).await
    {
        Ok(Ok(p)) => p,
        _ => {
            count(
                st,
                "tetrad_push_rejected_total",
                "Pushes refused because every ingest slot was busy.",
                receiver,
                1,
            );
            return Err((
                503,
                format!(
                    "ingest is saturated: all {} push slots are busy; retry later",
                    st.limits.max_concurrent_pushes
                ),
            ));
        }
    };
    let st2 = st.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        ingest(&st2)
    })
    .await
    .map_err(|e| (500, format!("ingest task failed: {e}")))
}

/// Adds `n` to the self-metric counter `name{receiver}`.
fn count(st: &ApiState, name: &str, help: &str, receiver: &str, n: u64) {
    st.self_metrics
        .counter(name, help, &[("receiver", receiver)])
        .add(n);
}

async fn remote_write(State(st): State<ApiState>, req: Request) -> Response {
    let push = match read_push(&st, req).await {
        Ok(p) => p,
        Err((status, msg)) => return text_error(status, msg),
    };
    let v2 = collector::remote_write::is_version_2(push.content_type.as_deref());
    let result = run_ingest(&st, "remote_write", move |st| {
        collector::remote_write::receive(
            &push.body,
            push.content_type.as_deref(),
            push.content_encoding.as_deref(),
            st.appendable.as_ref(),
            &st.remote_write,
        )
    })
    .await;
    match result {
        Ok(Ok(stats)) => {
            count(
                &st,
                "tetrad_push_samples_total",
                "Samples accepted by push receivers.",
                "remote_write",
                stats.samples_stored as u64,
            );
            let mut resp = StatusCode::NO_CONTENT.into_response();
            if v2 {
                // Remote-write 2.0 receivers report what they wrote.
                for (name, value) in collector::remote_write::v2::written_headers(&stats) {
                    if let Ok(v) = header::HeaderValue::from_str(&value) {
                        resp.headers_mut().insert(name, v);
                    }
                }
            }
            resp
        }
        Ok(Err(e)) => {
            count(
                &st,
                "tetrad_push_errors_total",
                "Pushes answered with an error.",
                "remote_write",
                1,
            );
            text_error(e.http_status(), e.to_string())
        }
        Err((status, msg)) => text_error(status, msg),
    }
}

/// `google.rpc.Status`, the body OTLP/HTTP error responses carry.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// An OTLP/HTTP error: status code plus a `Status` message in the request's encoding.
fn otlp_error(status: u16, message: String, json: bool) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    // gRPC codes: INVALID_ARGUMENT for bad data, RESOURCE_EXHAUSTED for limits, INTERNAL else.
    let grpc_code = match status {
        400 | 415 => 3,
        413 | 429 => 8,
        503 => 14,
        _ => 13,
    };
    let st = RpcStatus {
        code: grpc_code,
        message,
    };
    let (ct, body) = if json {
        (
            "application/json",
            serde_json::to_vec(&st).unwrap_or_default(),
        )
    } else {
        ("application/x-protobuf", prost::Message::encode_to_vec(&st))
    };
    let mut resp = (code, [(header::CONTENT_TYPE, ct)], body).into_response();
    if code == StatusCode::SERVICE_UNAVAILABLE || code == StatusCode::TOO_MANY_REQUESTS {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    resp
}

async fn otlp_metrics(State(st): State<ApiState>, req: Request) -> Response {
    let push = match read_push(&st, req).await {
        Ok(p) => p,
        Err((status, msg)) => return otlp_error(status, msg, false),
    };
    let json = push
        .content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/json"));
    let result = run_ingest(&st, "otlp_http", move |st| {
        collector::otlp::receive_http(
            &push.body,
            push.content_type.as_deref(),
            push.content_encoding.as_deref(),
            st.appendable.as_ref(),
            &st.otlp_delta,
            &st.otlp,
        )
    })
    .await;
    match result {
        Ok(Ok(reply)) => {
            count(
                &st,
                "tetrad_push_samples_total",
                "Samples accepted by push receivers.",
                "otlp_http",
                reply.stats.samples_stored as u64,
            );
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, reply.encoding.content_type())],
                reply.body,
            )
                .into_response()
        }
        Ok(Err(e)) => {
            count(
                &st,
                "tetrad_push_errors_total",
                "Pushes answered with an error.",
                "otlp_http",
                1,
            );
            otlp_error(e.http_status(), e.to_string(), json)
        }
        Err((status, msg)) => otlp_error(status, msg, json),
    }
}
