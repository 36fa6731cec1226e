//! `kiswatch serve` as `make run` starts it, through the real binary: the banner tells a newcomer what
//! to open, the URL in it answers, the demo's watchlist is there; and binding off loopback without
//! `KISWATCH_TOKEN` is refused at startup with a message that says what to do.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::binary;

use binary::http_get;

const KISWATCH: &str = env!("CARGO_BIN_EXE_kiswatch");

fn serve(args: &[&str], data_dir: &std::path::Path) -> Command {
    let mut c = Command::new(KISWATCH);
    c.arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("KIS_APP_KEY")
        .env_remove("KIS_APP_SECRET")
        .env_remove("KISWATCH_TOKEN")
        .env("RUST_LOG", "warn");
    c
}

#[test]
fn the_banner_says_what_to_open_and_its_url_answers() {
    let dir = tempfile::tempdir().unwrap();
    // The banner is printed once the service listens.
    let (_running, url, banner) = binary::start(
        serve(&["--bind", "127.0.0.1:0"], dir.path()).stderr(Stdio::null()),
        Duration::from_secs(10),
    );
    for what in ["DEMO", "simulator", "trigger", "two minutes", "데모", "Ctrl-C"] {
        assert!(
            banner.contains(what),
            "{what:?} missing from the banner:\n{banner}"
        );
    }
    let (status, health) = http_get(&url, "/api/v1/health");
    assert_eq!(status, 200, "{health}");
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["upstream"]["kind"], "demo");
    let (status, watchlist) = http_get(&url, "/api/v1/watchlist");
    assert_eq!(status, 200);
    let watchlist: serde_json::Value = serde_json::from_str(&watchlist).unwrap();
    assert_eq!(
        watchlist.as_array().unwrap().len(),
        kiswatch::demo::DEMO_STOCKS.len(),
        "the demo's watchlist: {watchlist}"
    );
    let (status, page) = http_get(&url, "/");
    assert_eq!(status, 200);
    assert!(page.contains("<html") || page.contains("<!doctype") || page.contains("<!DOCTYPE"));
}

#[test]
fn binding_off_loopback_without_a_token_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let out = serve(&["--bind", "0.0.0.0:0"], dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("KISWATCH_TOKEN"), "{stderr}");
    assert!(stderr.contains("0.0.0.0"), "{stderr}");
}

#[test]
fn a_token_without_16_non_whitespace_characters_is_refused_at_startup() {
    for weak in [
        " ".repeat(16),
        format!("{} {}", "a".repeat(8), "b".repeat(7)),
        "short".to_owned(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = serve(&["--bind", "127.0.0.1:0"], dir.path())
            .env("KISWATCH_TOKEN", &weak)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{weak:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("KISWATCH_TOKEN") && stderr.contains("16 non-whitespace"),
            "{weak:?}: {stderr}"
        );
        assert!(
            !stderr.contains(weak.trim()) || weak.trim().is_empty(),
            "the token is not echoed: {stderr}"
        );
    }
}

#[test]
fn an_allowed_host_that_is_not_a_host_is_refused_by_the_parser() {
    let dir = tempfile::tempdir().unwrap();
    let out = serve(&["--allowed-host", "http://evil.example/"], dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--allowed-host") && stderr.contains("NAME:PORT"),
        "{stderr}"
    );
}
