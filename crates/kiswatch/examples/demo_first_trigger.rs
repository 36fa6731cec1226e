//! How long a newcomer waits for the demo's first trigger: starts the real `kiswatch` binary as
//! `make run` does (`kiswatch serve`, demo, no credentials, a fresh data directory as on a fresh
//! clone), polls `GET /api/v1/triggers` until the first trigger is listed and reports the time from
//! process start. Nothing is steered from here: the demo has to do it by itself.
//!
//! ```sh
//! cargo build --release -p kiswatch --bin kiswatch --example demo_first_trigger
//! target/release/examples/demo_first_trigger 3      # three runs, one after the other
//! ```
//!
//! The binary is the `kiswatch` next to this example's directory (`target/release/kiswatch` for
//! `target/release/examples/demo_first_trigger`), or the path in `KISWATCH_BIN`. Each run gives up
//! after `DEMO_LIMIT_SECS` (default 300 s) and the example then exits with status 1; it also exits 1
//! when a run takes longer than the demo's promise of two minutes.

mod bench;

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bench::load_average;
use serde_json::Value;

/// The demo's promise: a trigger within two minutes of `make run`.
const PROMISE: Duration = Duration::from_secs(120);

/// One run's figures.
struct Run {
    /// Process start → the banner with the URL on stdout.
    banner: Duration,
    /// Process start → the simulator first steered (the service's own log line).
    first_steer: Option<Duration>,
    /// Process start → the first trigger listed.
    first_trigger: Duration,
    trigger: Value,
}

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
            "{} is missing: build it with `cargo build --release -p kiswatch --bin kiswatch` (or set KISWATCH_BIN)",
            bin.display()
        );
    }
    Ok(bin)
}

/// What the child's output streams report, stamped with the time since the process started.
enum Seen {
    Url(String),
    Steered,
    Exited,
}

/// Stops the child with Ctrl-C (SIGINT, what a user does), then kills it if it lingers.
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

async fn one_run(bin: &PathBuf, limit: Duration) -> anyhow::Result<Run> {
    let dir = tempfile::tempdir()?;
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("KIS_APP_KEY")
        .env_remove("KIS_APP_SECRET")
        .env_remove("KISWATCH_TOKEN")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let (tx, rx) = mpsc::channel::<(Duration, Seen)>();
    let stdout = child.stdout.take().context("stdout")?;
    let stderr = child.stderr.take().context("stderr")?;
    let out_tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The banner's first line: "kiswatch X — open http://127.0.0.1:PORT in your browser".
            let url = line
                .split_whitespace()
                .skip_while(|w| *w != "open")
                .nth(1)
                .filter(|u| u.starts_with("http://"));
            if let Some(url) = url {
                let _ = out_tx.send((start.elapsed(), Seen::Url(url.to_string())));
            }
        }
        let _ = out_tx.send((start.elapsed(), Seen::Exited));
    });
    let log = dir.path().join("kiswatch.log");
    let mut log_file = std::fs::File::create(&log)?;
    std::thread::spawn(move || {
        use std::io::Write as _;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = writeln!(log_file, "{line}");
            if line.contains("demo: steering") {
                let _ = tx.send((start.elapsed(), Seen::Steered));
            }
        }
    });

    let result = async {
        let mut url = None;
        let mut banner = Duration::ZERO;
        let mut first_steer = None;
        let http = reqwest::Client::new();
        loop {
            while let Ok((at, seen)) = rx.try_recv() {
                match seen {
                    Seen::Url(u) => {
                        banner = at;
                        url = Some(u);
                    }
                    Seen::Steered => {
                        first_steer.get_or_insert(at);
                    }
                    Seen::Exited => bail!(
                        "kiswatch exited after {at:?}; its log: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    ),
                }
            }
            if start.elapsed() > limit {
                bail!("no trigger after {limit:?}");
            }
            if let Some(base) = &url {
                let listed: Option<Value> =
                    match http.get(format!("{base}/api/v1/triggers?limit=1")).send().await {
                        Ok(r) if r.status().is_success() => r.json().await.ok(),
                        _ => None,
                    };
                if let Some(first) = listed.as_ref().and_then(|l| l.as_array()?.first().cloned()) {
                    return Ok(Run {
                        banner,
                        first_steer,
                        first_trigger: start.elapsed(),
                        trigger: first,
                    });
                }
            }
            // Polling interval of an outside observer (it bounds the measurement's resolution).
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    .await;
    stop(&mut child);
    result
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(3);
    let limit = Duration::from_secs(
        std::env::var("DEMO_LIMIT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300),
    );
    let bin = binary()?;
    println!(
        "demo first trigger: {} serve (demo, fresh data dir), {runs} run(s); load average before: {}",
        bin.display(),
        load_average()
    );
    println!();
    println!("| run | banner | first steer | first trigger | stock | condition | why |");
    println!("|---|---|---|---|---|---|---|");
    let mut worst = Duration::ZERO;
    let mut failed = 0;
    for i in 1..=runs {
        match one_run(&bin, limit).await {
            Ok(r) => {
                worst = worst.max(r.first_trigger);
                println!(
                    "| {i} | {:.1} s | {} | **{:.1} s** | {} {} | {} | {} |",
                    r.banner.as_secs_f64(),
                    r.first_steer
                        .map_or("–".into(), |d| format!("{:.1} s", d.as_secs_f64())),
                    r.first_trigger.as_secs_f64(),
                    r.trigger["code"].as_str().unwrap_or("?"),
                    r.trigger["name"].as_str().unwrap_or("?"),
                    r.trigger["condition_id"],
                    r.trigger["message"].as_str().unwrap_or(""),
                );
            }
            Err(e) => {
                failed += 1;
                println!("| {i} | – | – | failed: {e:#} | | | |");
            }
        }
    }
    println!();
    println!(
        "slowest first trigger {:.1} s (promise: {} s); failed runs: {failed}",
        worst.as_secs_f64(),
        PROMISE.as_secs()
    );
    if failed > 0 || worst > PROMISE {
        std::process::exit(1);
    }
    Ok(())
}
