//! The store's faults with the real `kiswatch serve` binary as a child process, as a user meets
//! them: a database damaged on disk (refused at start with a message naming the file, a copy and
//! what to do), a database emptied to zero bytes (no silent re-seed by the demo), and the process
//! killed with SIGKILL in the middle of heavy writes (after a restart no trigger the browser saw is
//! lost, and none is stored twice).

use std::io::{BufRead as _, BufReader, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::binary::Running;
use crate::common::{TriggerWatch, all_triggers, eventually};

const KISWATCH: &str = env!("CARGO_BIN_EXE_kiswatch");

fn serve(args: &[&str], data_dir: &Path) -> Command {
    let mut c = Command::new(KISWATCH);
    c.arg("serve")
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("KIS_APP_KEY")
        .env_remove("KIS_APP_SECRET")
        .env_remove("KISWATCH_TOKEN")
        .env("RUST_LOG", "warn");
    c
}

/// Starts the service and reads its banner: the running child, its URL, the banner.
fn start(args: &[&str], data_dir: &Path) -> (Running, String, String) {
    let mut child = serve(args, data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut banner = Vec::new();
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        for line in lines.by_ref() {
            let end = line.contains("Ctrl-C");
            banner.push(line);
            if end {
                let _ = tx.send(banner);
                break;
            }
        }
        // Keep draining, so the service never blocks on a full pipe.
        for _ in lines {}
    });
    let banner = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the banner within 30 s")
        .join("\n");
    let url = banner
        .split_whitespace()
        .skip_while(|w| *w != "open")
        .nth(1)
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("the URL to open: {banner}"))
        .to_string();
    (running, url, banner)
}

async fn get(http: &reqwest::Client, url: &str) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// The database file of the running service (its namespace from `/api/v1/health`).
async fn database(http: &reqwest::Client, url: &str, data_dir: &Path) -> PathBuf {
    let health = get(http, &format!("{url}/api/v1/health")).await;
    let namespace = health["upstream"]["namespace"].as_str().unwrap().to_string();
    data_dir.join("db").join(format!("{namespace}.sqlite3"))
}

/// Stops the service the hard way and folds its write-ahead log into the file, so the file alone
/// holds everything (as after a clean stop).
fn kill_and_checkpoint(mut running: Running, db: &Path) {
    running.0.kill().unwrap();
    running.0.wait().unwrap();
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(c);
}

#[tokio::test]
async fn a_damaged_database_is_refused_at_start_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    // A real database: the demo's ten stocks and their history.
    let (running, url, _) = start(&[], dir.path());
    let db = database(&http, &url, dir.path()).await;
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    eventually(Duration::from_secs(60), "a few megabytes of history", || async {
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        (size(&db) + size(&wal) > 2 << 20).then_some(())
    })
    .await;
    kill_and_checkpoint(running, &db);

    // 64 KB of garbage in the middle of the file.
    let len = std::fs::metadata(&db).unwrap().len();
    let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.seek(SeekFrom::Start(len / 2)).unwrap();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let garbage: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    f.write_all(&garbage).unwrap();
    drop(f);

    let started = Instant::now();
    let out = serve(&[], dir.path()).output().unwrap();
    eprintln!("refused in {:?}", started.elapsed());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let copy = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(".corrupt-"))
        .expect("a copy of the damaged file");
    for what in [
        db.display().to_string(),
        copy.display().to_string(),
        "is damaged".into(),
        "move".into(),
        "start kiswatch again".into(),
    ] {
        assert!(stderr.contains(&what), "{what:?} missing from: {stderr}");
    }
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&db).unwrap());
}

#[tokio::test]
async fn a_zero_byte_database_is_not_silently_re_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let (running, url, banner) = start(&[], dir.path());
    assert!(!banner.contains("WARNING"), "{banner}");
    let watchlist = get(&http, &format!("{url}/api/v1/watchlist")).await;
    assert_eq!(watchlist.as_array().unwrap().len(), 10, "the demo seeded");
    let db = database(&http, &url, dir.path()).await;
    kill_and_checkpoint(running, &db);

    // Its data vanishes: the file is left with zero bytes.
    std::fs::write(&db, b"").unwrap();
    let (_running, url, banner) = start(&[], dir.path());
    for what in ["WARNING", "emptied", &db.display().to_string(), "does not seed"] {
        assert!(
            banner.contains(what),
            "{what:?} missing from the banner:\n{banner}"
        );
    }
    // The demo seeds before the service listens: nothing came back behind the user's back.
    assert_eq!(get(&http, &format!("{url}/api/v1/watchlist")).await, json!([]));
    assert_eq!(get(&http, &format!("{url}/api/v1/conditions")).await, json!([]));
    let health = get(&http, &format!("{url}/api/v1/health")).await;
    assert_eq!(health["store"]["origin"], "emptied", "{health}");
    assert!(
        health["store"]["emptied"]
            .as_str()
            .is_some_and(|e| e.contains("zero bytes")),
        "{health}"
    );
}

/// SIGKILL while triggers, live bars and the backfill are all being written: every trigger the
/// browser was told about is there after a restart, exactly as told, and none twice.
#[tokio::test]
async fn a_kill_under_heavy_writes_loses_and_doubles_no_trigger() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let args = ["--no-demo-content", "--speed", "60"];
    let (running, url, _) = start(&args, dir.path());
    let stocks = get(&http, &format!("{url}/sim/stocks")).await;
    for s in stocks.as_array().unwrap().iter().take(20) {
        let r = http
            .post(format!("{url}/api/v1/watchlist"))
            .json(&json!({"code": s["code"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    let r = http
        .post(format!("{url}/api/v1/conditions"))
        .json(&json!({"name": "양봉", "expr": "1m: close > open"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let watch = TriggerWatch::connect(&url).await;
    eventually(Duration::from_secs(90), "triggers coming in", || async {
        (watch.stored().len() >= 40).then_some(())
    })
    .await;
    drop(running); // SIGKILL, mid-stream
    let told = watch.stored();
    drop(watch);

    let (_running, url, _) = start(&args, dir.path());
    let after = all_triggers(&http, &url).await;
    let mut ids = std::collections::HashSet::new();
    let mut keys = std::collections::HashSet::new();
    for row in &after {
        assert!(ids.insert(row["id"].as_u64().unwrap()), "id twice: {row}");
        assert!(
            keys.insert(row["key"].as_str().unwrap().to_string()),
            "stored twice: {row}"
        );
    }
    let stored: std::collections::HashMap<u64, &Value> =
        after.iter().map(|r| (r["id"].as_u64().unwrap(), r)).collect();
    for t in &told {
        let id = t["id"].as_u64().unwrap();
        let row = stored
            .get(&id)
            .unwrap_or_else(|| panic!("trigger {id} lost: {t}"));
        for field in [
            "key",
            "code",
            "condition_id",
            "bar_time",
            "time",
            "price",
            "values",
            "message",
        ] {
            assert_eq!(row[field], t[field], "{field} of {id}");
        }
    }
    eprintln!(
        "told {} triggers before the kill; {} stored after the restart",
        told.len(),
        after.len()
    );
}
