//! Dashboard provisioning: Grafana dashboard JSON files served to the UI.
//!
//! A [`DashboardStore`] holds the built-in service dashboard (`dashboards/service.json`, compiled
//! in, so it is always there) and optionally a folder of `*.json` files (the stack file's
//! `dashboards: {path: ...}`), which is re-read on each request like Grafana's file provisioner
//! re-scans its folder, so editing a file and reloading the page shows the change. A file in the
//! folder with the built-in's uid replaces it.
//!
//! Files are parsed only to find `uid`, `title` and `tags`; the JSON itself is served as stored
//! so it still imports into Grafana. A file that is not valid JSON, is too large, or repeats a
//! uid is listed with its error (and logged once per change) instead of failing the server.
//!
//! Routes: `GET /api/tetrad/dashboards` (the list, in Prometheus' `{status, data}` envelope) and
//! `GET /api/tetrad/dashboards/{uid}` (the stored JSON, no envelope).

use crate::ApiState;
use crate::error::{ApiError, ErrorType};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// The built-in service dashboard.
pub const BUILTIN_SERVICE: &str = include_str!("../../../dashboards/service.json");

/// Largest dashboard file read; Grafana dashboards are rarely above a few hundred KiB.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Most files read from the folder; the rest are listed as skipped.
pub const MAX_FILES: usize = 500;

/// One dashboard in the list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DashboardSummary {
    /// Unique id (`uid` of the JSON, else the file name without `.json`).
    pub uid: String,
    /// Title (`title`, else the uid).
    pub title: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Where it came from: `built-in` or the file path.
    pub source: String,
    /// Why it cannot be shown, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A loaded dashboard: its summary and, when valid, its JSON text.
#[derive(Debug, Clone)]
struct Loaded {
    summary: DashboardSummary,
    json: Option<Arc<str>>,
}

/// Parses one dashboard's JSON text; `fallback_uid` names it when it has no `uid`.
fn parse(text: &str, fallback_uid: &str, source: &str) -> Loaded {
    let failed = |error: String| Loaded {
        summary: DashboardSummary {
            uid: fallback_uid.to_string(),
            title: fallback_uid.to_string(),
            tags: Vec::new(),
            source: source.to_string(),
            error: Some(error),
        },
        json: None,
    };
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return failed(format!("invalid JSON: {e}")),
    };
    let Some(obj) = value.as_object() else {
        return failed("a dashboard must be a JSON object".to_string());
    };
    let uid = match obj.get("uid") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
        None | Some(serde_json::Value::Null) => fallback_uid.to_string(),
        Some(serde_json::Value::String(_)) => fallback_uid.to_string(),
        Some(other) => return failed(format!("\"uid\" must be a string, got {other}")),
    };
    let title = obj
        .get("title")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .unwrap_or(&uid)
        .to_string();
    let tags = obj
        .get("tags")
        .and_then(|t| t.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Loaded {
        summary: DashboardSummary {
            uid,
            title,
            tags,
            source: source.to_string(),
            error: None,
        },
        json: Some(Arc::from(text)),
    }
}

/// A cached file: parsed again only when its modification time or size changes.
#[derive(Debug, Clone)]
struct CachedFile {
    modified: Option<SystemTime>,
    len: u64,
    loaded: Loaded,
}

/// The dashboards the UI can show.
#[derive(Debug)]
pub struct DashboardStore {
    builtin: Loaded,
    folder: Option<PathBuf>,
    cache: Mutex<HashMap<PathBuf, CachedFile>>,
}

impl Default for DashboardStore {
    fn default() -> Self {
        Self::builtin_only()
    }
}

impl DashboardStore {
    /// Only the built-in dashboard.
    pub fn builtin_only() -> Self {
        DashboardStore {
            builtin: parse(BUILTIN_SERVICE, "service", "built-in"),
            folder: None,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The built-in dashboard plus the `*.json` files of `folder`.
    pub fn with_folder(folder: PathBuf) -> Self {
        DashboardStore {
            folder: Some(folder),
            ..Self::builtin_only()
        }
    }

    /// The provisioning folder, if any.
    pub fn folder(&self) -> Option<&std::path::Path> {
        self.folder.as_deref()
    }

    /// Reads the folder (through the cache) and resolves uids: folder files by name order, the
    /// built-in last unless a file took its uid; later files with a taken uid get an error.
    fn load_all(&self) -> Vec<Loaded> {
        let mut files = self.read_folder();
        let mut taken: BTreeMap<String, String> = BTreeMap::new();
        for f in &mut files {
            if f.summary.error.is_some() {
                continue;
            }
            if let Some(first) = taken.get(&f.summary.uid) {
                f.summary.error = Some(format!(
                    "duplicate uid {:?} (already used by {first})",
                    f.summary.uid
                ));
                f.json = None;
            } else {
                taken.insert(f.summary.uid.clone(), f.summary.source.clone());
            }
        }
        let mut out = Vec::with_capacity(files.len() + 1);
        if !taken.contains_key(&self.builtin.summary.uid) {
            out.push(self.builtin.clone());
        }
        out.extend(files);
        out
    }

    fn read_folder(&self) -> Vec<Loaded> {
        let Some(folder) = &self.folder else {
            return Vec::new();
        };
        let entries = match std::fs::read_dir(folder) {
            Ok(e) => e,
            Err(e) => {
                let source = folder.display().to_string();
                return vec![parse_error(
                    "",
                    &source,
                    format!("cannot read the dashboards folder: {e}"),
                )];
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
            .collect();
        paths.sort();
        let mut out = Vec::new();
        let mut cache = self.cache.lock();
        cache.retain(|p, _| paths.contains(p));
        for (i, path) in paths.into_iter().enumerate() {
            let source = path.display().to_string();
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if i >= MAX_FILES {
                out.push(parse_error(
                    &stem,
                    &source,
                    format!("skipped: more than {MAX_FILES} dashboard files in the folder"),
                ));
                continue;
            }
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    out.push(parse_error(&stem, &source, format!("cannot read: {e}")));
                    continue;
                }
            };
            let modified = meta.modified().ok();
            if let Some(c) = cache.get(&path)
                && c.modified == modified
                && c.len == meta.len()
            {
                out.push(c.loaded.clone());
                continue;
            }
            let loaded = if meta.len() > MAX_FILE_BYTES {
                parse_error(
                    &stem,
                    &source,
                    format!(
                        "file is {} bytes, more than the limit of {MAX_FILE_BYTES}",
                        meta.len()
                    ),
                )
            } else {
                match std::fs::read_to_string(&path) {
                    Ok(text) => parse(&text, &stem, &source),
                    Err(e) => parse_error(&stem, &source, format!("cannot read: {e}")),
                }
            };
            if let Some(err) = &loaded.summary.error {
                tracing::warn!(file = %source, error = %err, "dashboard not loaded");
            }
            cache.insert(
                path,
                CachedFile {
                    modified,
                    len: meta.len(),
                    loaded: loaded.clone(),
                },
            );
            out.push(loaded);
        }
        out
    }

    /// Every dashboard, the failed ones with their error.
    pub fn list(&self) -> Vec<DashboardSummary> {
        self.load_all().into_iter().map(|l| l.summary).collect()
    }

    /// The stored JSON of the dashboard `uid`.
    pub fn get(&self, uid: &str) -> Result<Arc<str>, ApiError> {
        let all = self.load_all();
        let found = all.iter().find(|l| l.summary.uid == uid);
        match found {
            Some(Loaded {
                json: Some(json), ..
            }) => Ok(json.clone()),
            Some(Loaded { summary, .. }) => Err(ApiError::new(
                ErrorType::BadData,
                format!(
                    "dashboard {uid:?} ({}) cannot be loaded: {}",
                    summary.source,
                    summary.error.as_deref().unwrap_or("unknown error")
                ),
            )),
            None => Err(ApiError::new(
                ErrorType::NotFound,
                format!("dashboard {uid:?} not found"),
            )),
        }
    }
}

fn parse_error(uid: &str, source: &str, error: String) -> Loaded {
    Loaded {
        summary: DashboardSummary {
            uid: uid.to_string(),
            title: uid.to_string(),
            tags: Vec::new(),
            source: source.to_string(),
            error: Some(error),
        },
        json: None,
    }
}

pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/tetrad/dashboards", get(list))
        .route("/api/tetrad/dashboards/{uid}", get(one))
}

async fn list(State(st): State<ApiState>) -> Result<Response, ApiError> {
    let store = st.dashboards.clone();
    // Reading the folder is blocking file IO.
    let list = tokio::task::spawn_blocking(move || store.list())
        .await
        .map_err(|e| ApiError::new(ErrorType::Internal, format!("listing dashboards: {e}")))?;
    Ok(axum::Json(serde_json::json!({"status": "success", "data": list})).into_response())
}

async fn one(State(st): State<ApiState>, Path(uid): Path<String>) -> Result<Response, ApiError> {
    let store = st.dashboards.clone();
    let json = tokio::task::spawn_blocking(move || store.get(&uid))
        .await
        .map_err(|e| ApiError::new(ErrorType::Internal, format!("reading dashboard: {e}")))??;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        json.to_string(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_service_dashboard_parses() {
        let s = DashboardStore::builtin_only();
        let list = s.list();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].uid, "service");
        assert_eq!(list[0].error, None);
        assert!(s.get("service").is_ok());
        assert_eq!(s.get("nope").map_err(|e| e.kind), Err(ErrorType::NotFound));
    }

    #[test]
    fn folder_files_bad_json_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.json"),
            r#"{"uid":"svc2","title":"Second","tags":["x"]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("b.json"), "{not json").unwrap();
        std::fs::write(dir.path().join("c.json"), r#"{"uid":"svc2"}"#).unwrap();
        std::fs::write(dir.path().join("d.json"), r#"{"title":"No uid"}"#).unwrap();
        std::fs::write(dir.path().join("e.json"), "[1,2]").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let s = DashboardStore::with_folder(dir.path().to_path_buf());
        let list = s.list();
        let by_source = |name: &str| {
            list.iter()
                .find(|d| d.source.ends_with(name))
                .cloned()
                .unwrap()
        };
        assert_eq!(list.len(), 6, "{list:?}");
        assert_eq!(list[0].source, "built-in");
        assert_eq!(by_source("a.json").title, "Second");
        assert_eq!(by_source("a.json").tags, vec!["x".to_string()]);
        assert!(
            by_source("b.json")
                .error
                .unwrap()
                .starts_with("invalid JSON")
        );
        assert!(by_source("c.json").error.unwrap().contains("duplicate uid"));
        assert_eq!(by_source("d.json").uid, "d");
        assert!(by_source("e.json").error.unwrap().contains("JSON object"));
        assert_eq!(
            s.get("b").map_err(|e| e.kind),
            Err(ErrorType::BadData),
            "a broken file is an error naming it, not a 404"
        );
        assert_eq!(
            &*s.get("svc2").unwrap(),
            r#"{"uid":"svc2","title":"Second","tags":["x"]}"#
        );
    }

    #[test]
    fn a_folder_file_replaces_the_builtin_and_edits_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("mine.json");
        std::fs::write(&f, r#"{"uid":"service","title":"Mine"}"#).unwrap();
        let s = DashboardStore::with_folder(dir.path().to_path_buf());
        let list = s.list();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].title, "Mine");
        // A different length is noticed even when the modification time has a coarse resolution.
        std::fs::write(&f, r#"{"uid":"service","title":"Mine, edited"}"#).unwrap();
        assert_eq!(s.list()[0].title, "Mine, edited");
        std::fs::remove_file(&f).unwrap();
        assert_eq!(s.list()[0].source, "built-in");
    }

    #[test]
    fn a_missing_folder_is_listed_as_an_error() {
        let s = DashboardStore::with_folder(PathBuf::from("/nonexistent/tetrad-dashboards"));
        let list = s.list();
        assert_eq!(list.len(), 2);
        assert!(list[1].error.as_deref().unwrap().contains("cannot read"));
    }
}
