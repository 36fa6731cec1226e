//! The stock directory: code → name, market, kind, and search, from the KIS stock master.
//!
//! Names appear wherever a code does in the API (watchlist, triggers, a stock's page, WebSocket
//! messages), so they must be at hand without an upstream call per row. Two sources, the first that
//! knows a code wins:
//!
//! 1. **The stock master** ([`kis::master`]): every KOSPI/KOSDAQ listing with its kind (stock, ETF,
//!    ETN, …). [`StockDirectory::follow_master`] runs in the background from startup: it loads the
//!    cached copy in the data dir, or downloads both files (from KIS's download host for `real`/`vts`,
//!    from the upstream server's `/common/master` for `custom` and the demo's embedded simulator),
//!    and asks the loader again every [`MASTER_CHECK_EVERY`]; the loader itself decides whether that
//!    means a download (at most once a trading day, a failed refresh keeps the last good copy).
//! 2. **Names learned one by one** and remembered in the store: the simulator's listing in demo, and
//!    `search-stock-info` or the daily chart's summary for a code the master does not list (see
//!    [`crate::gateway::Gateway::stock`]).
//!
//! Search is [`market::search::StockIndex`] (code prefix, name, 초성, English; ranked) over the
//! master's listings plus the learned stocks it does not list. Until the master has arrived, the index
//! holds what has been learned, so a code or a known name is still found; when the master arrives,
//! the index is rebuilt and every name fills in. [`StockDirectory::changes`] ticks then, for consumers
//! that cache names (the realtime hub's `set_name`).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use kis::master::{Master, MasterLoader, MasterRecord, Origin};
use market::StockCode;
use market::search::{Hit, Kind, Listing, Market, SearchError, StockIndex};
use serde::Serialize;
use tokio::sync::watch;

use crate::contract::{MasterOrigin, MasterState, StockMaster};
use crate::store::{Store, StoreError};

/// What the directory knows about a stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockMeta {
    pub code: StockCode,
    pub name: String,
    /// `KOSPI`, `KOSDAQ`, … (empty when unknown).
    pub market: String,
    /// `stock`, `etf`, `etn`, … ([`Kind::as_str`]); `stock` for a code the master does not list.
    pub kind: String,
}

/// How often the background task asks the loader for the current master (a no-op while the copy is
/// fresh or a failed download is waiting for its retry).
pub const MASTER_CHECK_EVERY: Duration = Duration::from_secs(300);

/// See the module docs.
pub struct StockDirectory {
    /// Learned one by one (and remembered in the store).
    known: RwLock<HashMap<StockCode, StockMeta>>,
    /// The master's listings, once it has arrived.
    master: RwLock<Option<Arc<StockIndex>>>,
    /// The master's records (flags included: 조건검색's universe filters read them).
    records: RwLock<Option<Arc<Vec<MasterRecord>>>>,
    /// Search: the master's listings, then learned stocks it does not list.
    index: RwLock<Arc<StockIndex>>,
    /// English names by code (the demo's simulator has them; the master has none).
    english: RwLock<HashMap<String, String>>,
    loader: OnceLock<Arc<MasterLoader>>,
    changes: watch::Sender<u64>,
    store: Store,
}

impl std::fmt::Debug for StockDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StockDirectory")
            .field("known", &read(&self.known).len())
            .field("master", &read(&self.master).as_ref().map(|m| m.len()))
            .field("listings", &self.len())
            .finish()
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

impl StockDirectory {
    /// The directory with every name the store remembers (the master follows, see
    /// [`StockDirectory::follow_master`]).
    pub async fn load(store: Store) -> Result<StockDirectory, StoreError> {
        let mut known = HashMap::new();
        for (code, name, market) in store.stocks().await? {
            if let Ok(code) = StockCode::parse(&code) {
                known.insert(
                    code,
                    StockMeta {
                        code,
                        name,
                        market,
                        kind: Kind::Stock.as_str().into(),
                    },
                );
            }
        }
        let directory = StockDirectory {
            known: RwLock::new(known),
            master: RwLock::new(None),
            records: RwLock::new(None),
            index: RwLock::new(Arc::new(StockIndex::default())),
            english: RwLock::new(HashMap::new()),
            loader: OnceLock::new(),
            changes: watch::channel(0).0,
            store,
        };
        directory.rebuild();
        Ok(directory)
    }

    pub fn get(&self, code: StockCode) -> Option<StockMeta> {
        if let Some(l) = read(&self.master)
            .as_ref()
            .and_then(|m| m.get(code.as_str()).cloned())
        {
            return Some(StockMeta {
                code,
                name: l.name,
                market: l.market.as_str().into(),
                kind: l.kind.as_str().into(),
            });
        }
        read(&self.known).get(&code).cloned()
    }

    /// The name of a code, or the code itself when no name is known.
    pub fn name(&self, code: StockCode) -> String {
        self.get(code).map_or_else(|| code.to_string(), |m| m.name)
    }

    /// Learns a stock (and remembers it in the store when it is new or changed).
    pub async fn insert(&self, meta: StockMeta) -> Result<(), StoreError> {
        if self.learn(meta.clone()) {
            self.rebuild();
            self.store
                .put_stock(meta.code.to_string(), meta.name, meta.market)
                .await?;
        }
        Ok(())
    }

    /// Learns many stocks at once (a listing).
    pub async fn insert_many(&self, metas: Vec<StockMeta>) -> Result<(), StoreError> {
        let changed: Vec<StockMeta> = metas.into_iter().filter(|m| self.learn(m.clone())).collect();
        if !changed.is_empty() {
            self.rebuild();
        }
        for meta in changed {
            self.store
                .put_stock(meta.code.to_string(), meta.name, meta.market)
                .await?;
        }
        Ok(())
    }

    /// Whether `meta` was new or changed.
    fn learn(&self, meta: StockMeta) -> bool {
        let mut known = write(&self.known);
        let changed = known.get(&meta.code) != Some(&meta);
        known.insert(meta.code, meta);
        changed
    }

    /// English names to search by (code → name), e.g. the demo simulator's.
    pub fn add_english_names(&self, names: impl IntoIterator<Item = (String, String)>) {
        write(&self.english).extend(names);
        self.rebuild();
    }

    /// Listings: the master (or nothing yet) and every known stock it does not list.
    pub fn len(&self) -> usize {
        read(&self.index).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The best `limit` listings for `query`, see [`StockIndex::search`]; an empty or too long query
    /// or a limit out of 1..=100 is an error, before any scan.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let index = read(&self.index).clone();
        index.search(query, limit)
    }

    /// Ticks each time the master arrives or is refreshed (names may have changed).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Uses this master's listings from now on.
    pub fn set_master(&self, master: &Master) {
        *write(&self.master) = Some(Arc::new(master.index()));
        *write(&self.records) = Some(Arc::new(master.records.clone()));
        self.rebuild();
        self.changes.send_modify(|n| *n += 1);
    }

    /// The master's records, once it has arrived (every KOSPI and KOSDAQ listing with its flags).
    pub fn master_records(&self) -> Option<Arc<Vec<MasterRecord>>> {
        read(&self.records).clone()
    }

    /// The search index over the master and the learned stocks it does not list (learned stocks of
    /// another market, e.g. KONEX, are found by [`StockDirectory::get`] but not searched).
    fn rebuild(&self) {
        let master = read(&self.master).clone();
        let mut extra: Vec<Listing> = read(&self.known)
            .values()
            .filter(|m| master.as_ref().is_none_or(|i| i.get(m.code.as_str()).is_none()))
            .filter_map(|m| {
                let market = match m.market.as_str() {
                    "KOSPI" => Market::Kospi,
                    "KOSDAQ" => Market::Kosdaq,
                    _ => return None,
                };
                Some(Listing {
                    code: m.code.to_string(),
                    name: m.name.clone(),
                    market,
                    kind: Kind::Stock,
                    market_cap: None,
                    english_name: None,
                })
            })
            .collect();
        extra.sort_by(|a, b| a.code.cmp(&b.code));
        let listings = master
            .iter()
            .flat_map(|i| i.listings().cloned().collect::<Vec<_>>())
            .chain(extra);
        let english: Vec<(String, String)> = read(&self.english)
            .iter()
            .map(|(c, n)| (c.clone(), n.clone()))
            .collect();
        let index = StockIndex::new(listings).with_english_names(english);
        *write(&self.index) = Arc::new(index);
    }

    /// Keeps the master current: loads it now (cache or download), then asks the loader again every
    /// [`MASTER_CHECK_EVERY`], taking each new copy. Runs until aborted.
    pub async fn follow_master(self: Arc<Self>, loader: Arc<MasterLoader>) {
        let _ = self.loader.set(loader.clone());
        let mut tick = tokio::time::interval(MASTER_CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut current: Option<Arc<Master>> = None;
        loop {
            tick.tick().await;
            // The loader logs a failure; with no copy at all, the learned names keep serving.
            if let Ok(master) = loader.load(Timestamp::now()).await
                && !current.as_ref().is_some_and(|c| Arc::ptr_eq(c, &master))
            {
                self.set_master(&master);
                current = Some(master);
            }
        }
    }

    /// The master's state for `/api/v1/health`; `None` when no loader follows it.
    pub fn master_health(&self) -> Option<StockMaster> {
        let loader = self.loader.get()?;
        let s = loader.status();
        let state = match (s.fetched_at, &s.last_error) {
            (None, None) => MasterState::Loading,
            (None, Some(_)) => MasterState::Failed,
            (Some(_), _) if s.stale => MasterState::Stale,
            (Some(_), _) => MasterState::Loaded,
        };
        Some(StockMaster {
            state,
            records: s.records,
            as_of: s.fetched_at.map(|t| loader.master_day(t).to_string()),
            fetched_at: s.fetched_at.map(|t| t.to_string()),
            origin: s.origin.map(|o| match o {
                Origin::Download => MasterOrigin::Download,
                Origin::Cache => MasterOrigin::Cache,
            }),
            source: s.source,
            error: s.last_error,
            last_attempt: s.last_attempt.map(|t| t.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kis::master::MasterRecord;

    fn meta(code: &str, name: &str) -> StockMeta {
        StockMeta {
            code: StockCode::parse(code).unwrap(),
            name: name.into(),
            market: "KOSPI".into(),
            kind: "stock".into(),
        }
    }

    fn code(c: &str) -> StockCode {
        StockCode::parse(c).unwrap()
    }

    fn codes(d: &StockDirectory, q: &str) -> Vec<String> {
        d.search(q, 10).unwrap().into_iter().map(|h| h.code).collect()
    }

    /// A master record with only what the directory reads.
    fn record(code: &str, name: &str, market: Market, group: &str, cap: u64) -> MasterRecord {
        MasterRecord {
            market,
            code: code.into(),
            standard_code: format!("KR7{code}000"),
            name: name.into(),
            group: group.into(),
            kind: Kind::from_group_code(group),
            cap_size: None,
            kospi200_sector: None,
            base_price: None,
            par_value: None,
            listing_date: None,
            listed_shares_thousands: None,
            market_cap: Some(cap),
            halted: false,
            liquidation: false,
            administrative: false,
            warning: kis::master::MarketWarning::None,
            warning_notice: false,
            unfaithful_disclosure: false,
            short_term_overheat: false,
            spac: false,
            preferred: false,
        }
    }

    #[tokio::test]
    async fn learned_names_are_searched_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        let d = StockDirectory::load(store.clone()).await.unwrap();
        d.insert_many(vec![
            meta("005930", "삼성전자"),
            meta("005935", "삼성전자우"),
            meta("000660", "SK하이닉스"),
        ])
        .await
        .unwrap();
        assert_eq!(codes(&d, "0059"), ["005930", "005935"]);
        assert_eq!(codes(&d, "ㅅㅅㅈㅈ")[0], "005930");
        assert_eq!(codes(&d, "sk"), ["000660"]);
        assert!(matches!(d.search(" ", 10), Err(SearchError::EmptyQuery)));
        assert!(matches!(d.search("삼성", 0), Err(SearchError::BadLimit { .. })));
        let again = StockDirectory::load(store).await.unwrap();
        assert_eq!(again.name(code("000660")), "SK하이닉스");
        assert_eq!(again.len(), 3);
    }

    #[tokio::test]
    async fn the_master_fills_in_names_kinds_and_search() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        let d = StockDirectory::load(store).await.unwrap();
        // Before the master: a code learned from upstream (its name not yet known) and a KONEX stock.
        d.insert(meta("005930", "005930")).await.unwrap();
        d.insert(StockMeta {
            market: "KONEX".into(),
            ..meta("278990", "이엠티")
        })
        .await
        .unwrap();
        assert_eq!(codes(&d, "0059"), ["005930"], "search by code before the master");
        assert!(codes(&d, "삼성").is_empty());
        let mut changes = d.changes();

        d.set_master(&Master {
            records: vec![
                record("005930", "삼성전자", Market::Kospi, "ST", 3_000_000),
                record("069500", "KODEX 200", Market::Kospi, "EF", 80_000),
                record("247540", "에코프로비엠", Market::Kosdaq, "ST", 200_000),
            ],
            fetched_at: Timestamp::UNIX_EPOCH,
            source: "test".into(),
            origin: Origin::Download,
        });
        assert!(changes.has_changed().unwrap());
        let _ = changes.borrow_and_update();
        assert_eq!(d.name(code("005930")), "삼성전자", "the master's name wins");
        assert_eq!(d.get(code("069500")).unwrap().kind, "etf");
        assert_eq!(d.get(code("247540")).unwrap().market, "KOSDAQ");
        assert_eq!(
            d.name(code("278990")),
            "이엠티",
            "a learned stock the master lacks"
        );
        assert_eq!(codes(&d, "삼성"), ["005930"]);
        assert_eq!(codes(&d, "kodex200"), ["069500"]);
        let hit = &d.search("ㅇㅋㅍㄹ", 5).unwrap()[0];
        assert_eq!((hit.code.as_str(), hit.kind), ("247540", Kind::Stock));
        assert_eq!(d.len(), 3, "KONEX is looked up by code, not searched");

        d.add_english_names([("005930".to_string(), "Samsung Electronics".to_string())]);
        assert_eq!(codes(&d, "samsung"), ["005930"]);
    }
}
