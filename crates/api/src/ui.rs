//! The embedded web UI.
//!
//! `build.rs` bundles `ui/` into `$OUT_DIR/ui`; [`rust_embed`] puts those files into the binary.
//! [`serve`] is the router's fallback: a path that names an embedded file gets that file with its
//! content type, hashed files under `assets/` are cached forever (their name changes when their
//! content does), and any other extension-less path gets `index.html` so the UI's own router can
//! show the page (a single-page app). Paths under the API prefixes never reach the UI: an unknown
//! `/api/...` is a plain 404, as Prometheus answers, not an HTML page a client cannot parse.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$OUT_DIR/ui"]
struct Assets;

/// Path prefixes served by APIs; the UI never answers under them.
const API_PREFIXES: &[&str] = &["/api", "/loki", "/metrics", "/-", "/v1", "/federate"];

/// Whether `path` belongs to an API rather than to the UI.
pub fn is_api_path(path: &str) -> bool {
    API_PREFIXES.iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Content type by file extension, for the kinds of files Vite emits.
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// Whether the last path segment looks like a file name (has an extension).
fn looks_like_file(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|seg| seg.contains('.'))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
        .into_response()
}

/// Serves one embedded file; `immutable` for content-hashed names.
fn file_response(name: &str, headers: &HeaderMap) -> Option<Response> {
    let file = Assets::get(name)?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        // index.html names the current hashed assets, so browsers must revalidate it.
        "no-cache"
    };
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, content_type(name))],
            file.data.into_owned(),
        )
            .into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Some(resp)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The router's fallback: UI files, or `index.html` for UI routes, or 404.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if (method != Method::GET && method != Method::HEAD) || is_api_path(path) {
        return not_found();
    }
    let name = path.trim_start_matches('/');
    if !name.is_empty()
        && let Some(resp) = file_response(name, &headers)
    {
        return resp;
    }
    if looks_like_file(path) {
        return not_found();
    }
    file_response("index.html", &headers).unwrap_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_prefixes_are_not_ui() {
        for p in [
            "/api",
            "/api/v1/query",
            "/loki/api/v1/push",
            "/metrics",
            "/-/healthy",
            "/v1/metrics",
        ] {
            assert!(is_api_path(p), "{p}");
        }
        for p in ["/", "/d/service", "/explore", "/apis", "/metricsx", "/v1x"] {
            assert!(!is_api_path(p), "{p}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("assets/index-abc.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("assets/x.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("blob"), "application/octet-stream");
    }

    #[test]
    fn the_build_embedded_index_html() {
        let index = Assets::get("index.html").map(|f| f.data.into_owned());
        let text = String::from_utf8(index.unwrap_or_default()).unwrap_or_default();
        assert!(text.contains("<div id=\"app\">"), "{text}");
    }
}
