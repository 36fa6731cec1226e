//! The stock directory: code → name, market, kind, and search over what is known.
//!
//! Names appear wherever a code does in the API, so they must be at hand without an upstream call per
//! row: the directory holds every name kiswatch has learned (the simulator's listing in demo, then
//! `search-stock-info` or the daily chart's summary for anything else, see
//! [`crate::gateway::Gateway::stock`]) and remembers them in the store.
//!
//! Search is a seam: today it ranks the known names (code prefix, name prefix/substring, 초성); a
//! full stock master (every listed code, English names) plugs in by filling the directory with
//! [`StockDirectory::insert_many`] at startup.

use std::collections::HashMap;
use std::sync::RwLock;

use market::StockCode;
use serde::Serialize;

use crate::store::{Store, StoreError};

/// What the directory knows about a stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockMeta {
    pub code: StockCode,
    pub name: String,
    /// `KOSPI`, `KOSDAQ`, … (empty when unknown).
    pub market: String,
    /// `stock` for common shares (ETF/ETN once a master tells).
    pub kind: String,
}

/// The longest query search accepts, in characters.
pub const MAX_QUERY_CHARS: usize = 40;

/// See the module docs.
#[derive(Debug)]
pub struct StockDirectory {
    known: RwLock<HashMap<StockCode, StockMeta>>,
    store: Store,
}

impl StockDirectory {
    /// The directory with every name the store remembers.
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
                        kind: "stock".into(),
                    },
                );
            }
        }
        Ok(StockDirectory {
            known: RwLock::new(known),
            store,
        })
    }

    pub fn get(&self, code: StockCode) -> Option<StockMeta> {
        self.known
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&code)
            .cloned()
    }

    /// The name of a code, or the code itself when no name is known.
    pub fn name(&self, code: StockCode) -> String {
        self.get(code).map_or_else(|| code.to_string(), |m| m.name)
    }

    /// Learns a stock (and remembers it in the store when it is new or changed).
    pub async fn insert(&self, meta: StockMeta) -> Result<(), StoreError> {
        let changed = {
            let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
            let changed = known.get(&meta.code) != Some(&meta);
            known.insert(meta.code, meta.clone());
            changed
        };
        if changed {
            self.store
                .put_stock(meta.code.to_string(), meta.name, meta.market)
                .await?;
        }
        Ok(())
    }

    /// Learns many stocks at once (a listing or a stock master).
    pub async fn insert_many(&self, metas: Vec<StockMeta>) -> Result<(), StoreError> {
        for meta in metas {
            self.insert(meta).await?;
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.known.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Known stocks matching `query` (code prefix, name prefix or substring, or 초성 such as
    /// `ㅅㅅㅈㅈ`), best first: exact code, code prefix, name prefix, name substring, 초성.
    pub fn search(&self, query: &str, limit: usize) -> Vec<StockMeta> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let q_initials = q.chars().all(is_initial);
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        let mut hits: Vec<(u8, &StockMeta)> = known
            .values()
            .filter_map(|m| {
                let name = m.name.to_lowercase();
                let rank = if m.code.as_str() == q {
                    0
                } else if m.code.as_str().starts_with(&q) {
                    1
                } else if name.starts_with(&q) {
                    2
                } else if name.contains(&q) {
                    3
                } else if q_initials && initials(&name).contains(&q) {
                    4
                } else {
                    return None;
                };
                Some((rank, m))
            })
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
        hits.into_iter().take(limit).map(|(_, m)| m.clone()).collect()
    }
}

/// The 19 initial consonants of Hangul syllables, in Unicode order.
const INITIALS: [char; 19] = [
    'ㄱ', 'ㄲ', 'ㄴ', 'ㄷ', 'ㄸ', 'ㄹ', 'ㅁ', 'ㅂ', 'ㅃ', 'ㅅ', 'ㅆ', 'ㅇ', 'ㅈ', 'ㅉ', 'ㅊ', 'ㅋ', 'ㅌ',
    'ㅍ', 'ㅎ',
];

fn is_initial(c: char) -> bool {
    INITIALS.contains(&c)
}

/// `삼성전자` → `ㅅㅅㅈㅈ`; other characters stay as they are.
fn initials(s: &str) -> String {
    s.chars()
        .map(|c| match c as u32 {
            0xAC00..=0xD7A3 => INITIALS[((c as u32 - 0xAC00) / 588) as usize],
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(code: &str, name: &str) -> StockMeta {
        StockMeta {
            code: StockCode::parse(code).unwrap(),
            name: name.into(),
            market: "KOSPI".into(),
            kind: "stock".into(),
        }
    }

    #[tokio::test]
    async fn search_ranks_codes_names_and_initials() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "t").unwrap();
        let d = StockDirectory::load(store.clone()).await.unwrap();
        d.insert_many(vec![
            meta("005930", "삼성전자"),
            meta("005935", "삼성전자우"),
            meta("028260", "삼성물산"),
            meta("000660", "SK하이닉스"),
        ])
        .await
        .unwrap();
        let codes = |q: &str| {
            d.search(q, 10)
                .into_iter()
                .map(|m| m.code.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(codes("005930"), ["005930"]);
        assert_eq!(codes("00593"), ["005930", "005935"]);
        assert_eq!(codes("삼성전자"), ["005930", "005935"]);
        assert_eq!(codes("하이닉스"), ["000660"]);
        assert_eq!(codes("sk"), ["000660"], "case-insensitive");
        assert_eq!(codes("ㅅㅅㅈㅈ"), ["005930", "005935"]);
        assert_eq!(codes("ㅅㅅ")[..3], ["005930", "005935", "028260"]);
        assert!(codes("없는종목").is_empty());
        assert_eq!(d.search("삼성", 1).len(), 1);
        // Names survive a restart.
        let again = StockDirectory::load(store).await.unwrap();
        assert_eq!(again.name(StockCode::parse("000660").unwrap()), "SK하이닉스");
    }
}
