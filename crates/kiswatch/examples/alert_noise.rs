//! How noisy the demo's alerts are: starts the real `kiswatch` binary as `make run` does (`kiswatch
//! serve`, demo, no credentials, a fresh data directory, the simulator at 10×), lets it run, and counts
//! the triggers per (condition, stock) per market hour — the figure issue 20 asks to keep at ≤ 2.
//!
//! Two runs, one after the other, each on a fresh data directory and the same seed, so they see the
//! same simulated market and the same steering:
//!
//! * `before`: the conditions' cooldown set to 0 (the default before issue 20; the re-arm rule of
//!   `market::trigger` stands), by a `PUT` of each seeded condition right after the start;
//! * `after`: the defaults as shipped (a cooldown of 30 market minutes per condition and stock).
//!
//! ```sh
//! cargo build --release -p kiswatch --bin kiswatch --example alert_noise
//! target/release/examples/alert_noise 12     # real minutes per run (default 12: 2 market hours at 10×)
//! KISWATCH_BIN=<a build of an older commit> target/release/examples/alert_noise 6 defaults
//! ```
//!
//! With `defaults` as the second argument only the shipped defaults run: given the binary of a commit
//! before issue 20, that is the demo as it was (cooldown 0 by default).
//!
//! Per run it prints the market minutes covered, the triggers in all, and per (condition, stock) the
//! most triggers inside any 60-market-minute window (the worst market hour), with the pairs over 2.
//! The binary is the `kiswatch` next to this example's directory, or the path in `KISWATCH_BIN`.

mod bench;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bench::load_average;
use jiff::civil::DateTime;
use serde_json::{Value, json};

fn binary() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("KISWATCH_BIN") {
        return Ok(PathBuf::from(p));
    }
    let me = std::env::current_exe()?;
    let dir = me
        .parent()
        .and_then(|examples| examples.parent())
        .context("the example is not inside a cargo target directory")?;
    let bin = dir.join("kiswatch");
    if !bin.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p kiswatch --bin kiswatch`",
            bin.display()
        );
    }
    Ok(bin)
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A trigger's pair and market time.
struct Fired {
    pair: (u64, String),
    at: DateTime,
}

struct Outcome {
    market_minutes: f64,
    fired: Vec<Fired>,
}

async fn run(bin: &PathBuf, minutes: u64, cooldown_zero: bool) -> anyhow::Result<Outcome> {
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(bin)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("KIS_APP_KEY")
        .env_remove("KIS_APP_SECRET")
        .env_remove("KISWATCH_TOKEN")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().context("stdout")?;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line
                .split_whitespace()
                .skip_while(|w| *w != "open")
                .nth(1)
                .filter(|u| u.starts_with("http://"))
            {
                let _ = tx.send(url.to_string());
            }
        }
    });
    let result = async {
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .context("no banner within 60 s")?;
        let http = reqwest::Client::new();
        // The seeded conditions exist once the banner is out.
        let conditions: Vec<Value> = http
            .get(format!("{base}/api/v1/conditions"))
            .send()
            .await?
            .json()
            .await?;
        if cooldown_zero {
            for c in &conditions {
                let body = json!({"name": c["name"], "expr": c["expr"], "enabled": c["enabled"], "mode": c["mode"], "cooldown_secs": 0});
                let r = http
                    .put(format!("{base}/api/v1/conditions/{}", c["id"]))
                    .json(&body)
                    .send()
                    .await?;
                if !r.status().is_success() {
                    bail!("PUT condition: {}", r.text().await?);
                }
            }
        }
        // The market's time: the service's `/api/v1/market`, or (a build before it had one) the
        // simulator's own clock, which the demo serves under `/sim`.
        let clock = || async {
            for path in ["/api/v1/market", "/sim/clock"] {
                let Ok(r) = http.get(format!("{base}{path}")).send().await else {
                    continue;
                };
                let Ok(v) = r.json::<Value>().await else {
                    continue;
                };
                if let Some(t) = v["now"]
                    .as_str()
                    .and_then(|s| s.get(..19))
                    .and_then(|s| s.parse::<DateTime>().ok())
                {
                    return Some(t);
                }
            }
            None
        };
        let from = clock().await.context("no market time")?;
        // A benchmark waits wall-clock time by design: it observes what the demo does in that time.
        tokio::time::sleep(Duration::from_secs(minutes * 60)).await;
        let to = clock().await.context("no market time")?;
        let triggers: Vec<Value> = http
            .get(format!("{base}/api/v1/triggers?limit=1000"))
            .send()
            .await?
            .json()
            .await?;
        let fired = triggers
            .iter()
            .filter_map(|t| {
                Some(Fired {
                    pair: (t["condition_id"].as_u64()?, t["code"].as_str()?.to_string()),
                    at: t["time"].as_str()?.get(..19)?.parse().ok()?,
                })
            })
            .collect();
        let market_minutes = (to - from).total(jiff::Unit::Minute).unwrap_or(0.0);
        Ok(Outcome {
            market_minutes,
            fired,
        })
    }
    .await;
    stop(&mut child);
    result
}

/// Per pair, the most triggers inside any 60-market-minute window.
fn worst_hours(fired: &[Fired]) -> BTreeMap<(u64, String), usize> {
    let mut by_pair: BTreeMap<(u64, String), Vec<DateTime>> = BTreeMap::new();
    for f in fired {
        by_pair.entry(f.pair.clone()).or_default().push(f.at);
    }
    by_pair
        .into_iter()
        .map(|(pair, mut times)| {
            times.sort();
            let worst = times
                .iter()
                .map(|t| {
                    let end = t.saturating_add(jiff::SignedDuration::from_hours(1));
                    times.iter().filter(|x| *x >= t && **x < end).count()
                })
                .max()
                .unwrap_or(0);
            (pair, worst)
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let minutes: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(12);
    let only_defaults = std::env::args().nth(2).as_deref() == Some("defaults");
    let bin = binary()?;
    println!(
        "alert noise: {} serve (demo, fresh data dir, 10×), {minutes} real minutes per run; load average before: {}",
        bin.display(),
        load_average()
    );
    println!();
    println!(
        "| setting | market minutes | triggers | triggers per market hour | pairs | worst market hour of a pair | pairs over 2 in an hour |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (label, zero) in [
        ("before: cooldown 0", true),
        (
            "defaults as shipped (since issue 20: cooldown 30 market minutes)",
            false,
        ),
    ] {
        if only_defaults && zero {
            continue;
        }
        let o = run(&bin, minutes, zero).await?;
        let worst = worst_hours(&o.fired);
        let over: Vec<String> = worst
            .iter()
            .filter(|(_, n)| **n > 2)
            .map(|((c, code), n)| format!("{c}/{code}: {n}"))
            .collect();
        println!(
            "| {label} | {:.0} | {} | {:.1} | {} | {} | {} |",
            o.market_minutes,
            o.fired.len(),
            o.fired.len() as f64 * 60.0 / o.market_minutes.max(1.0),
            worst.len(),
            worst.values().max().copied().unwrap_or(0),
            if over.is_empty() {
                "none".to_string()
            } else {
                over.join(", ")
            },
        );
    }
    Ok(())
}
