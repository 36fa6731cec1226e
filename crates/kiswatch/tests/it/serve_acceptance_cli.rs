//! `kiswatch serve` as `make run` starts it, through the real binary: the banner tells a newcomer what
//! to open, the URL in it answers, the demo's watchlist is there; and binding off loopback without
//! `KISWATCH_TOKEN` is refused at startup with a message that says what to do.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::binary;

use binary::{Running, http_get};

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
    let mut child = serve(&["--bind", "127.0.0.1:0"], dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    // The banner is printed once the service listens; read it on a thread so a hang fails the test.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut banner = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let end = line.contains("Ctrl-C");
            banner.push(line);
            if end {
                let _ = tx.send(banner);
                return;
            }
        }
    });
    let banner = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the banner within 10 s")
        .join("\n");
    let url = banner
        .split_whitespace()
        .skip_while(|w| *w != "open")
        .nth(1)
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("the URL to open: {banner}"))
        .to_string();
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
