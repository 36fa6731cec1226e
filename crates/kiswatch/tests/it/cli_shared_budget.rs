//! Two `kiswatch quote` runs started together on one app key and one data dir against
//! `kiswatch sim` (the situation of issue 9, where the simulator rejected 688 of 844 requests):
//! both succeed, the simulator sees no `EGW00201` and never more than 20 arrivals in a second, and
//! the runs say that they wait for the rate limit instead of looking hung.

use crate::binary;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use binary::{Running, http_get};

const KISWATCH: &str = env!("CARGO_BIN_EXE_kiswatch");

#[test]
fn two_quote_runs_on_one_key_share_the_rate_limit() {
    let child = Command::new(KISWATCH)
        .args([
            "sim",
            "--bind",
            "127.0.0.1:0",
            "--control",
            "--latency-ms",
            "5..100",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut sim = Running(child);
    let mut rest = None;
    for line in BufReader::new(sim.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(url) = line.trim().strip_prefix("REST") {
            rest = Some(url.trim().to_string());
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let rest = rest.expect("the simulator's REST address");
    let stocks: serde_json::Value = serde_json::from_str(&http_get(&rest, "/sim/stocks").1).unwrap();
    let codes: Vec<String> = stocks
        .as_array()
        .unwrap()
        .iter()
        .take(30)
        .map(|s| s["code"].as_str().unwrap().to_owned())
        .collect();
    let dir = std::env::temp_dir().join(format!("kiswatch-cli-shared-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (key, secret) = kis_sim::demo_credentials(kis_sim::Profile::Real, 0);
    let quote = || {
        Command::new(KISWATCH)
            .args(["quote", "--kis", "custom", "--kis-rest-url", &rest, "--data-dir"])
            .arg(&dir)
            .args(&codes)
            .env("KIS_APP_KEY", &key)
            .env("KIS_APP_SECRET", &secret)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (quote(), quote());
    let outputs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    for out in &outputs {
        assert!(
            out.status.success(),
            "quote failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).lines().count(),
            codes.len() + 1
        );
    }
    let stats: serde_json::Value = serde_json::from_str(&http_get(&rest, "/sim/stats").1).unwrap();
    assert_eq!(stats["rate_limited"], 0, "{stats}");
    assert!(stats["max_window"].as_u64().unwrap() <= 20, "{stats}");
    let said: Vec<String> = outputs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .collect();
    assert!(
        said.iter().any(|s| s.contains("waiting for the rate limit")),
        "a run said it was waiting: {said:?}"
    );
    eprintln!("{stats}\n{}", said.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
