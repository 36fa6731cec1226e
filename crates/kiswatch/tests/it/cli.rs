//! The `kiswatch` binary as a user runs it: `kiswatch sim` serving on a loopback port, `kiswatch quote`
//! through the embedded simulator, and clear errors for bad input.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use crate::binary;

use binary::{Running, http_get};

const KISWATCH: &str = env!("CARGO_BIN_EXE_kiswatch");

/// `kiswatch` run to completion with no KIS credentials in its environment.
fn kiswatch(args: &[&str], data_dir: &std::path::Path) -> Output {
    Command::new(KISWATCH)
        .args(args)
        .env_remove("KIS_APP_KEY")
        .env_remove("KIS_APP_SECRET")
        .env("XDG_DATA_HOME", data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn sim_serves_its_control_api_at_once() {
    let started = Instant::now();
    let child = Command::new(KISWATCH)
        .args(["sim", "--bind", "127.0.0.1:0", "--control", "--clock", "open"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut sim = Running(child);
    let stdout = BufReader::new(sim.0.stdout.take().unwrap());
    let mut rest = None;
    let mut banner = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(url) = line.trim().strip_prefix("REST") {
            rest = Some(url.trim().to_string());
        }
        let done = line.starts_with("Press Ctrl-C");
        banner.push(line);
        if done {
            break;
        }
    }
    let rest = rest.unwrap_or_else(|| panic!("no REST address in the banner: {banner:?}"));
    assert!(rest.starts_with("http://127.0.0.1:"), "{rest}");
    assert!(banner.iter().any(|l| l.contains("KIS_APP_KEY=PS")), "{banner:?}");

    let (status, body) = http_get(&rest, "/sim/stocks");
    eprintln!(
        "kiswatch sim: spawn → /sim/stocks answered in {:?}",
        started.elapsed()
    );
    assert_eq!(status, 200, "{body}");
    let stocks: serde_json::Value = serde_json::from_str(&body).unwrap();
    let stocks = stocks.as_array().unwrap();
    assert!(stocks.len() >= 50, "{} stocks", stocks.len());
    assert!(
        stocks
            .iter()
            .any(|s| s["code"] == "005930" && s["name"] == "삼성전자")
    );

    let (status, body) = http_get(&rest, "/sim/stats");
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["rate_limit"], 20);
}

#[test]
fn quote_prints_prices_through_the_embedded_simulator() {
    let dir = std::env::temp_dir().join(format!("kiswatch-cli-quote-{}", std::process::id()));
    let out = kiswatch(&["quote", "005930", "000660"], &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains("삼성전자") && stdout.contains("SK하이닉스"),
        "{stdout}"
    );
    // Prices carry thousands separators.
    let samsung = stdout.lines().find(|l| l.starts_with("005930")).unwrap();
    assert!(
        samsung
            .split_whitespace()
            .any(|w| w.contains(',') && w.replace(',', "").parse::<u64>().is_ok())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn quote_rejects_a_bad_code_by_name() {
    let dir = std::env::temp_dir().join(format!("kiswatch-cli-bad-{}", std::process::id()));
    let out = kiswatch(&["quote", "12345"], &dir);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("12345"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sim_rejects_a_bad_flag_clearly() {
    let dir = std::env::temp_dir();
    let out = kiswatch(&["sim", "--latency-ms", "80..20"], &dir);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("80..20"), "{stderr}");
}

#[test]
fn backtest_prints_signals_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = kiswatch(
        &[
            "backtest",
            "--code",
            "005930",
            "--condition",
            "D: 골든크로스",
            "--from",
            "2025-01-01",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = stdout.lines().next().unwrap();
    assert!(first.starts_with("005930 삼성전자  D: 골든크로스"), "{stdout}");
    assert!(first.contains("signals"), "{stdout}");
    for h in [1, 5, 20] {
        assert!(stdout.contains(&format!("after {h:>2} bars:")), "{stdout}");
    }
}

#[test]
fn backtest_rejects_a_bad_condition_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let out = kiswatch(
        &["backtest", "--code", "005930", "--condition", "D: ma(20) >"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("at character 12") && stderr.contains("12번째 글자"),
        "{stderr}"
    );
}
