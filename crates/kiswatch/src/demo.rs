//! The demo: what `kiswatch serve` does on the embedded simulator so that a newcomer sees it work
//! within two minutes, with nobody touching anything.
//!
//! * On the first start of a demo namespace it watches ten large caps and adds two conditions: the
//!   seed's own example `30m: 정배열` and `1m: 정배열`, which can form within minutes. Only then:
//!   a namespace seeded before keeps what the user made of it (even an empty watchlist), and a
//!   database that existed and was found emptied ([`crate::contract::StoreOrigin::Emptied`]) is not
//!   seeded over: the user's data vanished, and filling the hole with demo content would hide
//!   that. It says so instead ([`Seeding::Emptied`]); deleting the file starts the demo afresh.
//! * Then it steers the simulator honestly: once a stock's 1-minute history is stored (so the engine
//!   knows its MA240), it asks the simulator (`POST /sim/scenario`, pattern `bullish_alignment` on
//!   `1m`) to move that stock into 정배열. The simulator changes only its future trades; kiswatch
//!   polls those trades like any other, builds the bars, and the engine decides on its own that the
//!   condition became true. Nothing downstream of the simulator is faked.
//! * It steers three stocks at first and another one every couple of minutes after, so the demo
//!   keeps firing.

use std::sync::Arc;
use std::time::Duration;

use market::StockCode;
use serde_json::json;

use crate::history::{Backfill, LONGEST_AVERAGE};
use crate::store::{NewCondition, Store, StoreError};
use crate::upstream::StockDirectory;

/// Ten large caps (in the simulator's listing), the first three steered first.
pub const DEMO_STOCKS: [&str; 10] = [
    "005930", "000660", "035420", "005380", "207940", "373220", "035720", "051910", "068270", "105560",
];

/// The demo's conditions: `(name, expression)`.
pub const DEMO_CONDITIONS: [(&str, &str); 2] = [
    ("30분봉 정배열 (30m bullish alignment)", "30m: 정배열"),
    ("1분봉 정배열 (1m bullish alignment, demo)", "1m: 정배열"),
];

const SEEDED: &str = "demo_seeded";

/// What [`seed`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seeding {
    /// The namespace's first start: the demo's watchlist and conditions are in.
    Seeded,
    /// Seeded on an earlier start: left as the user made it.
    AlreadySeeded,
    /// The database existed and was found emptied (how, and when): not seeded over.
    Emptied(String),
}

/// Seeds the watchlist and conditions on the first start of a namespace (see the module docs).
pub async fn seed(store: &Store, stocks: &StockDirectory) -> Result<Seeding, StoreError> {
    if store.meta(SEEDED).await?.is_some() {
        return Ok(Seeding::AlreadySeeded);
    }
    if let Some(emptied) = &store.opened().emptied {
        tracing::error!(
            db = %store.path().display(),
            "demo: this demo database existed and was found emptied ({emptied}); the demo does not seed \
             its watchlist and conditions over whatever was lost. Delete the file to start the demo afresh"
        );
        return Ok(Seeding::Emptied(emptied.clone()));
    }
    for code in DEMO_STOCKS {
        let Ok(code) = StockCode::parse(code) else {
            continue;
        };
        if stocks.get(code).is_some() {
            store.watch(code).await?;
        }
    }
    for (name, expr) in DEMO_CONDITIONS {
        store
            .add_condition(NewCondition {
                name: name.into(),
                expr: expr.into(),
                enabled: true,
                mode: market::trigger::Mode::EveryTick,
                cooldown_secs: crate::store::DEFAULT_COOLDOWN_SECS,
                webhook: None,
                notify: true,
                sound: true,
                channels: Vec::new(),
                quiet_hours: None,
                expires_at: None,
                scope: Default::default(),
                filters: None,
            })
            .await?;
    }
    store.set_meta(SEEDED, "1".into()).await?;
    Ok(Seeding::Seeded)
}

/// Whether the stock's stored minutes can already give a 1-minute MA240.
fn ready(backfill: &Backfill, code: StockCode) -> bool {
    backfill
        .progress_of(code)
        .is_some_and(|p| p.minutes.have >= LONGEST_AVERAGE + 20 || (p.done && p.minutes.have > 0))
}

async fn steer_one(http: &reqwest::Client, sim_url: &str, code: StockCode) {
    let body = json!({"code": code.as_str(), "pattern": "bullish_alignment", "period": "1m"});
    match http
        .post(format!("{sim_url}/sim/scenario"))
        .json(&body)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => {
            tracing::info!(%code, "demo: steering the simulator towards 1m 정배열 (bullish alignment)");
        }
        Ok(r) => {
            tracing::warn!(%code, status = r.status().as_u16(), "demo: the simulator refused a scenario")
        }
        Err(e) => tracing::warn!(%code, error = %e.without_url(), "demo: scenario request failed"),
    }
}

/// Steers watched stocks, first three at once as soon as their history is in, then one more every
/// `every`. Runs until the task is dropped.
pub async fn steer(store: Store, backfill: Arc<Backfill>, sim_url: String, every: Duration) {
    let http = reqwest::Client::new();
    let mut steered: Vec<StockCode> = Vec::new();
    let mut initial_left = 3usize;
    loop {
        let watched: Vec<StockCode> = match store.watchlist().await {
            Ok(w) => w.into_iter().map(|w| w.code).collect(),
            Err(_) => Vec::new(),
        };
        // Never-steered stocks first, in watchlist order; then the one steered longest ago.
        let mut order: Vec<StockCode> = watched.iter().copied().filter(|c| !steered.contains(c)).collect();
        if initial_left == 0 {
            order.extend(steered.iter().copied().filter(|c| watched.contains(c)));
        }
        let want = initial_left.max(1);
        let mut started = 0;
        for code in order {
            if started == want {
                break;
            }
            if !ready(&backfill, code) {
                continue;
            }
            steer_one(&http, &sim_url, code).await;
            steered.retain(|c| *c != code);
            steered.push(code);
            started += 1;
        }
        initial_left = initial_left.saturating_sub(started);
        if initial_left > 0 || started == 0 {
            // Waiting for history: look again soon.
            tokio::time::sleep(Duration::from_millis(500)).await;
        } else {
            tokio::time::sleep(every).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn seeded(dir: &std::path::Path) -> (Seeding, usize) {
        let store = Store::open(dir, "demo-42-2026-11-27").unwrap();
        let stocks = StockDirectory::load(store.clone()).await.unwrap();
        let seeding = seed(&store, &stocks).await.unwrap();
        (seeding, store.conditions().await.unwrap().len())
    }

    #[tokio::test]
    async fn the_first_start_seeds_and_later_ones_leave_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(seeded(dir.path()).await, (Seeding::Seeded, DEMO_CONDITIONS.len()));
        assert_eq!(
            seeded(dir.path()).await,
            (Seeding::AlreadySeeded, DEMO_CONDITIONS.len())
        );
    }

    /// A demo database that existed and was emptied is not re-seeded, on this start or any later.
    #[tokio::test]
    async fn an_emptied_database_is_not_seeded_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("demo-42-2026-11-27.sqlite3"), b"").unwrap();
        for _ in 0..2 {
            let (seeding, conditions) = seeded(dir.path()).await;
            assert!(
                matches!(&seeding, Seeding::Emptied(how) if how.contains("zero bytes")),
                "{seeding:?}"
            );
            assert_eq!(conditions, 0);
        }
    }
}
