//! Routes of the project registry ([`crate::projects`]), under `/api/v1/tetrad/projects`, with
//! Prometheus' JSON envelope and error style:
//!
//! - `PUT /api/v1/tetrad/projects/{project}`: register or refresh (heartbeat) a project;
//! - `GET /api/v1/tetrad/projects`: every registered project;
//! - `DELETE /api/v1/tetrad/projects/{project}`: deregister (404 when unknown).

use crate::ApiState;
use crate::error::{ApiError, ErrorType};
use crate::projects::ProjectRegistration;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};

/// Largest registration body; a full registration (256 services × 64 replicas) fits.
const MAX_BODY: usize = 4 << 20;

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/tetrad/projects", get(list))
        .route(
            "/api/v1/tetrad/projects/{project}",
            put(register).delete(deregister),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

fn success(data: serde_json::Value) -> Response {
    axum::Json(serde_json::json!({"status": "success", "data": data})).into_response()
}

async fn list(State(st): State<ApiState>) -> Response {
    success(serde_json::json!({ "projects": st.projects.list() }))
}

async fn register(
    State(st): State<ApiState>,
    Path(project): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let reg: ProjectRegistration = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_data(format!("invalid registration: {e}")))?;
    st.projects.register(&project, reg)?;
    Ok(success(serde_json::json!({ "project": project })))
}

async fn deregister(
    State(st): State<ApiState>,
    Path(project): Path<String>,
) -> Result<Response, ApiError> {
    if st.projects.deregister(&project) {
        Ok(success(serde_json::json!({ "project": project })))
    } else {
        Err(ApiError::new(
            ErrorType::NotFound,
            format!("project {project:?} is not registered"),
        ))
    }
}
