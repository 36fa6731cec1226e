//! Stock names from upstream: [`lookup`], the one way kiswatch asks KIS what a code is called (the
//! gateway for the service, `kiswatch quote` for its table), and [`NameCache`], `quote`'s names
//! kept on disk so that a warm run costs one upstream request per code (the price) instead of two.
//!
//! KIS's current-price TR (FHKST01010100) does not carry the stock's name, so a name needs a second
//! call: 주식기본조회 (CTPF1002R: name and market; real only) or, on 모의투자, which does not offer it,
//! the daily chart's summary ([`vts_chart`]). Names almost never change, so `quote` keeps each in
//! `<data dir>/stock-names.json` for [`MAX_AGE_DAYS`] days. The file holds public facts only
//! (`{"005930": {"name": "삼성전자", "fetched": "2026-11-28"}}`); it is written atomically (temp +
//! rename). A missing or unreadable file is an empty cache, never an error: the names are fetched
//! again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use kis::wire::chart::{BarPeriod, PeriodChart};
use kis::{KisClient, KisError};
use market::StockCode;
use serde_json::{Map, Value, json};

/// Days a cached name is trusted before it is looked up again.
pub const MAX_AGE_DAYS: i32 = 30;

const FILE: &str = "stock-names.json";

/// Code → (name, day it was fetched).
pub struct NameCache {
    path: Option<PathBuf>,
    entries: BTreeMap<String, (String, Date)>,
    changed: bool,
}

impl NameCache {
    /// A cache kept in memory only (the embedded simulator's names die with it).
    pub fn in_memory() -> NameCache {
        NameCache {
            path: None,
            entries: BTreeMap::new(),
            changed: false,
        }
    }

    /// The cache in `dir`, read now (an absent or unreadable file reads as empty).
    pub fn load(dir: &Path) -> NameCache {
        let path = dir.join(FILE);
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
            .map(|map| {
                map.into_iter()
                    .filter_map(|(code, entry)| {
                        let name = entry.get("name")?.as_str()?.to_owned();
                        let fetched = entry.get("fetched")?.as_str()?.parse::<Date>().ok()?;
                        (!name.is_empty()).then_some((code, (name, fetched)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        NameCache {
            path: Some(path),
            entries,
            changed: false,
        }
    }

    /// The cached name of `code`, if fetched within [`MAX_AGE_DAYS`] of `today`.
    pub fn get(&self, code: StockCode, today: Date) -> Option<&str> {
        let (name, fetched) = self.entries.get(code.as_str())?;
        let age = (today - *fetched).get_days();
        (0..=MAX_AGE_DAYS).contains(&age).then_some(name.as_str())
    }

    pub fn insert(&mut self, code: StockCode, name: String, today: Date) {
        if !name.is_empty() {
            self.entries.insert(code.as_str().to_owned(), (name, today));
            self.changed = true;
        }
    }

    /// Writes the file if anything was added (temp file + rename, so a reader never sees half).
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = self.path.as_ref().filter(|_| self.changed) else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let map: Map<String, Value> = self
            .entries
            .iter()
            .map(|(code, (name, fetched))| {
                (
                    code.clone(),
                    json!({ "name": name, "fetched": fetched.to_string() }),
                )
            })
            .collect();
        let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec_pretty(&Value::Object(map))?)?;
        std::fs::rename(&tmp, path)
    }
}

/// What upstream calls a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockName {
    pub name: String,
    /// `KOSPI`, `KOSDAQ`, `KONEX`; `None` when the lookup does not tell (모의투자).
    pub market: Option<String>,
}

/// Looks `code` up upstream: 주식기본조회 on the real server, the daily chart's summary on 모의투자.
/// An unknown code is [`KisError::NotFound`].
pub async fn lookup(kis: &KisClient, code: StockCode, today: Date) -> Result<StockName, KisError> {
    if kis.environment().is_vts() {
        let (name, _) = vts_chart(kis, code, today, today).await?;
        return Ok(StockName { name, market: None });
    }
    let info = kis.stock_info(code).await?;
    Ok(StockName {
        name: info.name,
        market: Some(market_name(&info.market_id)),
    })
}

/// On 모의투자: the daily chart of `from..=to` and the name its summary carries (an unknown code has
/// no name there: [`KisError::NotFound`]). The gateway asks for the span a chart's first draw needs,
/// so the same call serves the stock page's candles.
pub async fn vts_chart(
    kis: &KisClient,
    code: StockCode,
    from: Date,
    to: Date,
) -> Result<(String, PeriodChart), KisError> {
    let chart = kis.period_chart(code, BarPeriod::Day, from, to).await?;
    let name = chart.summary.as_ref().map(|s| s.name.clone()).unwrap_or_default();
    if name.is_empty() {
        return Err(KisError::NotFound {
            code: code.to_string(),
        });
    }
    Ok((name, chart))
}

/// KIS's market id as the API names it.
fn market_name(id: &str) -> String {
    match id {
        "STK" => "KOSPI".into(),
        "KSQ" => "KOSDAQ".into(),
        "KNX" => "KONEX".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn code(s: &str) -> StockCode {
        StockCode::parse(s).unwrap()
    }

    #[test]
    fn names_survive_a_save_and_expire_after_max_age() {
        let dir = std::env::temp_dir().join(format!("kiswatch-names-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let day = date(2026, 11, 28);
        let mut cache = NameCache::load(&dir);
        assert_eq!(cache.get(code("005930"), day), None);
        cache.insert(code("005930"), "삼성전자".into(), day);
        cache.insert(code("000660"), String::new(), day); // an empty name is not a name
        cache.save().unwrap();

        let cache = NameCache::load(&dir);
        assert_eq!(cache.get(code("005930"), day), Some("삼성전자"));
        assert_eq!(cache.get(code("000660"), day), None);
        let late = day.checked_add(jiff::Span::new().days(MAX_AGE_DAYS)).unwrap();
        assert_eq!(cache.get(code("005930"), late), Some("삼성전자"));
        let too_late = late.tomorrow().unwrap();
        assert_eq!(
            cache.get(code("005930"), too_late),
            None,
            "stale after {MAX_AGE_DAYS} days"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unreadable_file_is_an_empty_cache() {
        let dir = std::env::temp_dir().join(format!("kiswatch-names-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE), b"{not json").unwrap();
        let cache = NameCache::load(&dir);
        assert_eq!(cache.get(code("005930"), date(2026, 11, 28)), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
