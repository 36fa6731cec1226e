//! The embedded web UI: the Vite build in `web/dist`, compiled into the binary (`rust-embed`), so
//! that `kiswatch serve` is one file with nothing else to run.
//!
//! * Files are served with their MIME type; Vite's fingerprinted `assets/*` are cached for a year
//!   (`immutable`), everything else is revalidated (`no-cache`), so a new build shows at once.
//! * The UI's routes (`/`, `/stocks/{code}`, `/conditions`, `/channels`) get `index.html` (a single-page
//!   app); a browser asking for any other page gets it too, with status 404, and the UI says it is not there.
//! * Without a build (`web/dist` missing, e.g. a fresh clone before `make web-build`) the crate still
//!   compiles and `/` explains how to build the UI; the API works either way.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Assets;

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="ko"><meta charset="utf-8"><title>kiswatch</title>
<body>
<h1>kiswatch</h1>
<p>The web UI is not built into this binary. Run <code>make web-build</code> (or
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>) and rebuild kiswatch.</p>
<p>웹 UI가 이 실행 파일에 포함되지 않았습니다. <code>make web-build</code> 후 다시 빌드하세요.</p>
<p>The API works: <a href="/api/v1/health">/api/v1/health</a>, <a href="/api/v1/watchlist">/api/v1/watchlist</a>,
<a href="/api/v1/triggers">/api/v1/triggers</a>.</p>
</body></html>"#;

/// Whether the UI is built into this binary.
pub fn is_built() -> bool {
    Assets::get("index.html").is_some()
}

/// Whether `path` is one of the UI's own routes.
fn is_ui_route(path: &str) -> bool {
    path == "/"
        || path == "/conditions"
        || path == "/channels"
        || path == "/scan"
        || path == "/index.html"
        || path
            .strip_prefix("/stocks/")
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

fn file(path: &str) -> Option<Response> {
    let asset = Assets::get(path)?;
    let mime = asset.metadata.mimetype();
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = asset.data.into_owned().into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Some(response)
}

/// A UI file at `path`, or the UI's `index.html` for its routes; `None` for anything else (the
/// router answers that with its JSON 404).
pub fn serve(path: &str) -> Option<Response> {
    if let Some(response) = file(path.trim_start_matches('/')).filter(|_| path != "/") {
        return Some(response);
    }
    if !is_ui_route(path) {
        return None;
    }
    Some(file("index.html").unwrap_or_else(|| {
        let mut r = Html(NOT_BUILT).into_response();
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        r
    }))
}

/// The UI's `index.html` with status 404: a browser shows the UI's own not-found page (the UI's
/// router knows no such route) instead of a JSON body. `None` without a built UI.
pub fn not_found_page() -> Option<Response> {
    let mut response = file("index.html")?;
    *response.status_mut() = axum::http::StatusCode::NOT_FOUND;
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_routes() {
        assert!(is_ui_route("/"));
        assert!(is_ui_route("/stocks/005930"));
        assert!(is_ui_route("/conditions"));
        assert!(is_ui_route("/channels"));
        assert!(is_ui_route("/scan"));
        assert!(!is_ui_route("/stocks/"));
        assert!(!is_ui_route("/stocks/005930/x"));
        assert!(!is_ui_route("/favicon.ico"));
    }
}
