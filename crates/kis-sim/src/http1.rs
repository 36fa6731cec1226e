//! The HTTP/1.1 server loop, written so that response header names go on the wire as KIS sends them.
//!
//! KIS sends the standard headers capitalised (`Content-Type`, `Content-Length`, `Date`) and its own
//! in lower case (`tr_id`, `tr_cont`, `gt_uid`). Header names are case-insensitive in HTTP, but the
//! official samples are not: their `kis_auth.py` builds a `namedtuple` from the response header names
//! that are all lower case, so a lower-case `content-type` (not an identifier) crashes every call,
//! and 76 of their functions read `tr_cont` from that tuple (docs/kis-compat.md).
//!
//! hyper writes names lower case by default. Its HTTP/1 server has two documented switches:
//! `title_case_headers` (every name title-cased: `Content-Type`, but also `Tr_id`) and
//! `preserve_header_case`, which records the case of received names in a private extension and
//! "will also look for and use such an extension in any provided Response"; names the extension does
//! not cover fall back to title case. The extension's type is private, so [`kis_header_case`] makes
//! one the documented way: it lets hyper parse a request carrying `tr_id`, `tr_cont` and `gt_uid` in
//! lower case and keeps that request's extensions. [`serve`] turns both switches on and every
//! response gets a copy of those extensions, hence `Content-Type` and `tr_id` byte for byte. The
//! byte-level test is `tests/it/conformance.rs::response_header_names_are_byte_exact`.
//!
//! `axum::serve` cannot set these switches, hence this loop (accept, one hyper connection per socket
//! with upgrades for WebSocket, graceful shutdown of each connection when the server stops).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Extensions, Request};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// KIS's own response headers, in the case KIS writes them.
pub const KIS_HEADER_NAMES: [&str; 3] = ["tr_id", "tr_cont", "gt_uid"];

/// Extensions that make hyper write [`KIS_HEADER_NAMES`] in lower case (see the module doc).
pub async fn kis_header_case() -> std::io::Result<Extensions> {
    let (mut client, server) = tokio::io::duplex(1024);
    let (tx, rx) = oneshot::channel();
    let tx = Mutex::new(Some(tx));
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(req.extensions().clone());
        }
        async { Ok::<_, Infallible>(Response::new(String::new())) }
    });
    let conn = http1::Builder::new()
        .preserve_header_case(true)
        .serve_connection(TokioIo::new(server), service);
    let driver = tokio::spawn(conn);
    let mut head = String::from("GET / HTTP/1.1\r\n");
    for name in KIS_HEADER_NAMES {
        head.push_str(name);
        head.push_str(": x\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    client.write_all(head.as_bytes()).await?;
    let extensions = rx
        .await
        .map_err(|_| std::io::Error::other("hyper did not parse the header-case request"))?;
    drop(client);
    driver.abort();
    Ok(extensions)
}

/// Middleware: every response carries the header-case extensions.
pub async fn add_header_case(State(case): State<Arc<Extensions>>, mut resp: Response) -> Response {
    resp.extensions_mut().extend((*case).clone());
    resp
}

/// Serves `app` on `listener` until `stop` becomes true, then lets open requests finish.
pub async fn serve(listener: TcpListener, app: Router, mut stop: watch::Receiver<bool>) {
    let mut builder = http1::Builder::new();
    builder.title_case_headers(true).preserve_header_case(true);
    // Every connection task holds a sender; when all are gone, every connection has finished.
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        // e.g. out of file descriptors: back off instead of spinning
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let conn = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
                let mut conn_stop = stop.clone();
                let open = open_tx.clone();
                tokio::spawn(async move {
                    let _open = open;
                    let mut conn = std::pin::pin!(conn);
                    let result = tokio::select! {
                        result = conn.as_mut() => result,
                        () = async { let _ = conn_stop.wait_for(|stopped| *stopped).await; } => {
                            // finish the request in progress, then close
                            conn.as_mut().graceful_shutdown();
                            conn.await
                        }
                    };
                    if let Err(err) = result {
                        tracing::debug!(%err, "connection ended with an error");
                    }
                });
            }
            () = async { let _ = stop.wait_for(|stopped| *stopped).await; } => break,
        }
    }
    drop(listener);
    drop(open_tx);
    let _ = open_rx.recv().await;
}
