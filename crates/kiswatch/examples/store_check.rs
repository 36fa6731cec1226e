//! What the integrity check at startup (`PRAGMA quick_check`, run by `Store::open`) costs on a large,
//! realistic database: 60 watched stocks × 20 sessions of 1-minute bars (381 a session, the
//! 19 sessions a 30-minute MA240 needs and one more), a year and a half of daily bars each, and
//! 10,000 triggers.
//!
//! The database is built once under `DIR` (default: a directory in the system's temp dir, kept for
//! the next run), then opened `runs` times; each open's check time is printed. The first open after
//! the build finds the file in the page cache; to measure a cold start, evict the file from the
//! cache between runs (e.g. `posix_fadvise(POSIX_FADV_DONTNEED)` on it) and run again.
//!
//! ```sh
//! cargo run --release -p kiswatch --example store_check -- [DIR] [runs]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use jiff::SignedDuration;
use jiff::civil::Date;
use kiswatch::contract::{Fired, TriggerValues};
use kiswatch::store::Store;
use market::{Candle, StockCode};

const STOCKS: usize = 60;
const SESSIONS: usize = 20;
const MINUTES: i64 = 381;
const DAYS: usize = 370;
const TRIGGERS: usize = 10_000;

fn bar(time: jiff::civil::DateTime, close: i64) -> Candle {
    Candle {
        time,
        open: close - 50,
        high: close + 100,
        low: close - 100,
        close,
        volume: 1_000 + (close % 777) as u64,
    }
}

/// Weekdays back from `last`, oldest first.
fn weekdays(last: Date, n: usize) -> Vec<Date> {
    let mut out = Vec::new();
    let mut d = last;
    while out.len() < n {
        if d.weekday().to_monday_one_offset() <= 5 {
            out.push(d);
        }
        d = d.yesterday().expect("a date");
    }
    out.reverse();
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("kiswatch-store-check"));
    let runs: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(5);
    let file = dir.join("bench.sqlite3");
    if !file.exists() {
        let started = Instant::now();
        let store = Store::open(&dir, "bench")?;
        let last = jiff::civil::date(2026, 11, 27);
        let sessions = weekdays(last, SESSIONS);
        let days = weekdays(last, DAYS);
        for s in 0..STOCKS {
            let code = StockCode::parse(&format!("{:06}", 5930 + s * 10))?;
            for (i, day) in sessions.iter().enumerate() {
                let open = day.at(9, 0, 0, 0);
                let bars = (0..MINUTES)
                    .map(|m| {
                        bar(
                            open + SignedDuration::from_mins(m),
                            70_000 + (i as i64 * 37 + m * 13) % 5_000,
                        )
                    })
                    .collect();
                store.put_minutes(code, bars).await?;
            }
            let daily = days
                .iter()
                .enumerate()
                .map(|(i, d)| bar(d.at(0, 0, 0, 0), 60_000 + (i as i64 * 97) % 20_000))
                .collect();
            store.put_daily(code, daily).await?;
        }
        for t in 0..TRIGGERS {
            let minute = t % MINUTES as usize;
            let day = sessions[t / MINUTES as usize % SESSIONS];
            let bar_time = format!("{}T{:02}:{:02}:00+09:00", day, 9 + minute / 60, minute % 60);
            store
                .add_trigger(Fired {
                    code: format!("{:06}", 5930 + (t % STOCKS) * 10),
                    name: "종목".into(),
                    condition_id: 1 + (t / (MINUTES as usize * SESSIONS)) as u64,
                    condition_name: "30m: 정배열".into(),
                    period: "1m".into(),
                    time: bar_time.replace(":00+09:00", ":31+09:00"),
                    bar_time,
                    price: 70_000,
                    values: TriggerValues(vec![("ma(20)".into(), 70_100.0), ("ma(60)".into(), 70_000.0)]),
                    late: false,
                    message_ko: "종목(005930) 1m봉 09:05 봉에서 조건 '30m: 정배열' 충족".into(),
                    message: "종목 (005930): '30m: 정배열' became true on the 1m bar of 09:05".into(),
                })
                .await?;
        }
        drop(store);
        println!(
            "built {} ({} stocks × {} sessions × {} minutes, {} daily bars each, {} triggers) in {:.1} s",
            file.display(),
            STOCKS,
            SESSIONS,
            MINUTES,
            DAYS,
            TRIGGERS,
            started.elapsed().as_secs_f64()
        );
    }
    let size = std::fs::metadata(&file)?.len();
    println!("{}: {:.1} MB", file.display(), size as f64 / 1e6);
    for run in 1..=runs {
        let started = Instant::now();
        let store = Store::open(&dir, "bench")?;
        let open = started.elapsed();
        println!(
            "open {run}: quick_check {:.1} ms, whole open {:.1} ms",
            store.opened().check.as_secs_f64() * 1000.0,
            open.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
