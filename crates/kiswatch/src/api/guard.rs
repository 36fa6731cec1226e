//! Who may drive the service, and what every answer tells the browser about framing and sources.
//!
//! * [`check`]: the rules of [`host_guard`] on every request — UI files, API, WebSocket and `/sim/*`
//!   alike — before anything else runs (the bearer token included). A `Host` that is not one of the
//!   service's names (`127.0.0.1`, `localhost` or `[::1]` with its port, its bound address when that
//!   is a specific one, each `--allowed-host`) is refused with 421 `misdirected_host`: that is DNS
//!   rebinding. A request that may change something (anything but GET, HEAD, OPTIONS) or a WebSocket
//!   upgrade whose `Origin` is not one of those hosts is refused with 403 `foreign_origin`: that is a
//!   cross-site request or WebSocket hijacking. Requests without `Origin` (curl, scripts) pass.
//! * [`headers`]: every answer says it may not be framed (`X-Frame-Options: DENY`, CSP
//!   `frame-ancestors 'none'`), must not be sniffed into another type (`nosniff`), sends no referrer,
//!   may not be embedded by other sites (`Cross-Origin-Resource-Policy: same-origin`), and carries a
//!   Content-Security-Policy that fits the built UI: Vite's module script and stylesheet and the
//!   bundled Pretendard font from this origin (`'self'`), no inline script or style (the build has
//!   none; the charts style elements through the CSSOM, which CSP does not restrict), the `data:`
//!   favicon, and `connect-src 'self'` plus this host's `ws:`/`wss:` for the WebSocket (Chromium lets
//!   `'self'` cover a same-origin `ws:`, other browsers need it named; the host is the request's own
//!   `Host` when the guard accepts it).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use host_guard::{HostGuard, Refusal};

use super::ApiError;

/// Refuses a request addressed to a foreign host, or a state change / WebSocket from a foreign page.
pub async fn check(State(guard): State<Arc<HostGuard>>, request: Request, next: Next) -> Response {
    match guard.check(request.method(), request.uri(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            tracing::debug!(code = refusal.code(), "request refused by the host guard");
            refused(&refusal).into_response()
        }
    }
}

/// A refusal as the API's JSON error.
pub fn refused(refusal: &Refusal) -> ApiError {
    ApiError::new(
        refusal.status(),
        refusal.code(),
        refusal.message_en(),
        refusal.message_ko(),
    )
}

/// The Content-Security-Policy, less `connect-src` (which names the request's host).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; \
                   img-src 'self' data:; manifest-src 'self'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// The CSP for an answer to a request addressed to `host` (one the guard accepts).
pub fn content_security_policy(host: Option<&str>) -> String {
    match host {
        Some(h) => format!("{CSP}; connect-src 'self' ws://{h} wss://{h}"),
        None => format!("{CSP}; connect-src 'self'"),
    }
}

/// Adds the security headers (see the module docs) to every answer, refusals included.
pub async fn headers(State(guard): State<Arc<HostGuard>>, request: Request, next: Next) -> Response {
    // The policy names the request's host for the WebSocket only when it is one of ours.
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| guard.accepts_host(h))
        .map(str::to_owned);
    let mut response = next.run(request).await;
    set_headers(response.headers_mut(), host.as_deref());
    response
}

fn set_headers(headers: &mut HeaderMap, host: Option<&str>) {
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if let Ok(v) = HeaderValue::from_str(&content_security_policy(host)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_forbids_framing_and_inline_code_and_names_the_websocket() {
        let csp = content_security_policy(Some("127.0.0.1:8080"));
        for part in [
            "frame-ancestors 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "font-src 'self'",
            "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080",
            "default-src 'none'",
        ] {
            assert!(csp.contains(part), "{part} in {csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        let mut h = HeaderMap::new();
        set_headers(&mut h, None);
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(
            h[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .ends_with("connect-src 'self'")
        );
    }
}
