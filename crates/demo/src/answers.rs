//! The JSON error answers both services share: `{"detail": "..."}`, as FastAPI answers errors.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An answer with `status` and a `detail` message.
pub(crate) fn detail(status: StatusCode, text: String) -> Response {
    (status, Json(json!({ "detail": text }))).into_response()
}

/// 422 with a message naming the bad id, as FastAPI answers a path parameter of the wrong type.
pub(crate) fn invalid_id(raw_id: &str) -> Response {
    // The id is echoed back; cap it so a huge path cannot make a huge answer.
    let shown: String = raw_id.chars().take(64).collect();
    let text = format!("item id must be a non-negative integer, got {shown:?}");
    detail(StatusCode::UNPROCESSABLE_ENTITY, text)
}
