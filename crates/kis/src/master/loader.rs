//! Download, cache and refresh the two master files.
//!
//! * **Source.** `{base_url}/kospi_code.mst.zip` and `{base_url}/kosdaq_code.mst.zip`, plain HTTP GETs
//!   with no token and no governor slot (the master is not a KIS REST API and has no rate limit).
//! * **Cache.** `<data_dir>/master/kospi_code.mst`, `kosdaq_code.mst` (the unzipped files, as served)
//!   and `master.json` (when and where they were fetched), each written to a temporary file and renamed,
//!   `master.json` last. A cache that does not parse, or was downloaded from another base URL (a
//!   simulator's listing is not KIS's), is ignored (and logged).
//! * **Refresh rule.** KIS regenerates the files overnight. The *master day* of an instant is the KRX
//!   trading day whose files are current then: today from 08:00 KST on a trading day (before the 08:30
//!   pre-open auction), otherwise the previous trading day ([`market::krx::Calendar::krx`]). A copy is
//!   fresh while it was fetched on the current master day, so the files are downloaded at most once a
//!   trading day, and a restart on the same day reuses the cache without a download.
//! * **Failure.** When a download or parse fails, the last good copy (in memory or on disk, however
//!   old) stays in use, [`MasterStatus`] says so (`last_error`, `stale`), and the next attempt waits
//!   [`MasterConfig::retry_after`]. Only with no copy at all is the error returned.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp};
use market::krx::Calendar;
use market::search::{Market, StockIndex};
use serde::{Deserialize, Serialize};

use super::record::MasterRecord;
use super::{MasterError, parse_master};
use crate::env::Environment;

/// Where KIS publishes the master files (the same for 실전 and 모의투자).
pub const REAL_MASTER_URL: &str = "https://new.real.download.dws.co.kr/common/master";
/// The path of the files under a KIS-compatible server (the simulator serves them there too).
pub const MASTER_PATH: &str = "/common/master";
/// The time of day (KST) from which a trading day's master is expected to be published.
pub const PUBLISHED_BY: Time = Time::constant(8, 0, 0, 0);
/// Largest zip or unzipped file accepted (the real files are well under 1 MiB).
const MAX_BYTES: u64 = 32 << 20;

/// The zip and file name of a market's master.
pub fn file_name(market: Market) -> &'static str {
    match market {
        Market::Kospi => "kospi_code.mst",
        Market::Kosdaq => "kosdaq_code.mst",
    }
}

const MARKETS: [Market; 2] = [Market::Kospi, Market::Kosdaq];

/// How the master is fetched and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterConfig {
    /// The directory holding `kospi_code.mst.zip` and `kosdaq_code.mst.zip`, without a trailing `/`.
    pub base_url: String,
    /// Where `master/` is cached; `None` keeps the master in memory only.
    pub data_dir: Option<PathBuf>,
    /// Timeout of one file download.
    pub timeout: Duration,
    /// After a failed download, wait this long before trying again.
    pub retry_after: Duration,
}

impl MasterConfig {
    /// KIS's download host for `Real` and `Vts`; `{rest_url}/common/master` for a custom server (the
    /// simulator).
    pub fn for_environment(env: &Environment, data_dir: Option<PathBuf>) -> MasterConfig {
        let base_url = match env {
            Environment::Real | Environment::Vts => REAL_MASTER_URL.to_owned(),
            Environment::Custom { .. } => format!("{}{MASTER_PATH}", env.rest_url()),
        };
        MasterConfig {
            base_url,
            data_dir,
            timeout: Duration::from_secs(30),
            retry_after: Duration::from_secs(600),
        }
    }

    fn url(&self, market: Market) -> String {
        format!(
            "{}/{}.zip",
            self.base_url.trim_end_matches('/'),
            file_name(market)
        )
    }

    fn cache_dir(&self) -> Option<PathBuf> {
        self.data_dir.as_ref().map(|d| d.join("master"))
    }
}

/// Where the loaded copy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Download,
    Cache,
}

/// A loaded master: both markets' records, KOSPI first, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Master {
    pub records: Vec<MasterRecord>,
    /// When the files were downloaded (for a cached copy: when it was downloaded originally).
    pub fetched_at: Timestamp,
    /// The base URL they came from.
    pub source: String,
    pub origin: Origin,
}

impl Master {
    /// A search index over every record, in file order.
    pub fn index(&self) -> StockIndex {
        StockIndex::new(self.records.iter().map(MasterRecord::listing))
    }

    /// The record of this code.
    pub fn get(&self, code: &str) -> Option<&MasterRecord> {
        self.records.iter().find(|r| r.code == code)
    }
}

/// What `/api/v1/health` can show about the master.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MasterStatus {
    /// Records in the copy in use (0 before any).
    pub records: usize,
    /// When the copy in use was downloaded.
    pub fetched_at: Option<Timestamp>,
    /// The base URL it came from.
    pub source: Option<String>,
    pub origin: Option<Origin>,
    /// True when the copy in use is older than the current master day (a refresh failed).
    pub stale: bool,
    /// The last download attempt.
    pub last_attempt: Option<Timestamp>,
    /// Why the last download attempt failed; `None` when it succeeded.
    pub last_error: Option<String>,
}

/// `master.json`.
#[derive(Debug, Serialize, Deserialize)]
struct CacheMeta {
    fetched_at: Timestamp,
    source: String,
}

/// Loads the master on demand and keeps the last good copy. Cheap to call often: see the module docs.
pub struct MasterLoader {
    config: MasterConfig,
    calendar: Calendar,
    http: reqwest::Client,
    current: tokio::sync::Mutex<Option<Arc<Master>>>,
    status: Mutex<MasterStatus>,
}

impl MasterLoader {
    pub fn new(config: MasterConfig) -> MasterLoader {
        MasterLoader::with_calendar(config, Calendar::krx().clone())
    }

    /// With a calendar that knows more holidays (e.g. merged with KIS's holiday API).
    pub fn with_calendar(config: MasterConfig, calendar: Calendar) -> MasterLoader {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .unwrap_or_default();
        MasterLoader {
            config,
            calendar,
            http,
            current: tokio::sync::Mutex::new(None),
            status: Mutex::new(MasterStatus::default()),
        }
    }

    pub fn config(&self) -> &MasterConfig {
        &self.config
    }

    pub fn status(&self) -> MasterStatus {
        self.status.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_status(&self, f: impl FnOnce(&mut MasterStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// The KRX trading day whose master is current at `now` (see the module docs).
    pub fn master_day(&self, now: Timestamp) -> Date {
        let local = now.to_zoned(market::time::kst()).datetime();
        let day = local.date();
        if self.calendar.is_trading_day(day) && local.time() >= PUBLISHED_BY {
            day
        } else {
            self.calendar.prev_trading_day(day)
        }
    }

    fn is_fresh(&self, master: &Master, now: Timestamp) -> bool {
        self.master_day(master.fetched_at) >= self.master_day(now)
    }

    /// The current master: the copy in memory or on disk if it is fresh at `now`, else a new download;
    /// if that fails, the last good copy (marked stale in [`MasterLoader::status`]). An error only when
    /// there is no copy at all. Concurrent callers share one download.
    pub async fn load(&self, now: Timestamp) -> Result<Arc<Master>, MasterError> {
        let mut current = self.current.lock().await;
        if current.is_none()
            && let Some(cached) = self.read_cache()
        {
            self.use_copy(&cached, now);
            *current = Some(Arc::new(cached));
        }
        if let Some(m) = current.as_ref() {
            if self.is_fresh(m, now) {
                return Ok(m.clone());
            }
            if let Some(last) = self.status().last_attempt
                && self.status().last_error.is_some()
                && now.duration_since(last)
                    < SignedDuration::try_from(self.config.retry_after).unwrap_or_default()
            {
                return Ok(m.clone());
            }
        }
        self.set_status(|s| s.last_attempt = Some(now));
        match self.download(now).await {
            Ok((master, files)) => {
                if let Err(err) = self.write_cache(&master, &files) {
                    tracing::warn!(%err, "stock master: cannot write the cache; keeping it in memory");
                }
                tracing::info!(records = master.records.len(), source = %master.source, "stock master downloaded");
                self.use_copy(&master, now);
                self.set_status(|s| s.last_error = None);
                let master = Arc::new(master);
                *current = Some(master.clone());
                Ok(master)
            }
            Err(err) => {
                self.set_status(|s| s.last_error = Some(err.to_string()));
                match current.as_ref() {
                    Some(m) => {
                        tracing::warn!(%err, fetched_at = %m.fetched_at, "stock master refresh failed; keeping the last good copy");
                        Ok(m.clone())
                    }
                    None => {
                        tracing::warn!(%err, "stock master download failed and there is no cached copy");
                        Err(err)
                    }
                }
            }
        }
    }

    fn use_copy(&self, m: &Master, now: Timestamp) {
        let stale = !self.is_fresh(m, now);
        self.set_status(|s| {
            s.records = m.records.len();
            s.fetched_at = Some(m.fetched_at);
            s.source = Some(m.source.clone());
            s.origin = Some(m.origin);
            s.stale = stale;
        });
    }

    /// Both files, parsed (every line checked before anything replaces the last good copy).
    async fn download(&self, now: Timestamp) -> Result<(Master, Vec<Vec<u8>>), MasterError> {
        let mut records = Vec::new();
        let mut files = Vec::new();
        for market in MARKETS {
            let file = self.download_file(market).await?;
            records.extend(parse_master(market, &file)?);
            files.push(file);
        }
        let master = Master {
            records,
            fetched_at: now,
            source: self.config.base_url.clone(),
            origin: Origin::Download,
        };
        Ok((master, files))
    }

    /// One zip, unzipped.
    async fn download_file(&self, market: Market) -> Result<Vec<u8>, MasterError> {
        let url = self.config.url(market);
        let transport = |source: reqwest::Error| MasterError::Transport {
            url: url.clone(),
            source,
        };
        let resp = self.http.get(&url).send().await.map_err(transport)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(MasterError::Status {
                url,
                status: status.as_u16(),
            });
        }
        if resp.content_length().is_some_and(|n| n > MAX_BYTES) {
            return Err(MasterError::TooLarge {
                url,
                limit: MAX_BYTES,
            });
        }
        let zip = resp.bytes().await.map_err(transport)?;
        unzip(&zip, market).map_err(|source| MasterError::Zip { url, source })
    }

    fn read_cache(&self) -> Option<Master> {
        let dir = self.config.cache_dir()?;
        let meta = std::fs::read(dir.join("master.json")).ok()?;
        let read = || -> Result<Master, String> {
            let meta: CacheMeta = serde_json::from_slice(&meta).map_err(|e| e.to_string())?;
            if meta.source != self.config.base_url {
                return Err(format!(
                    "it was downloaded from {}, not {}",
                    meta.source, self.config.base_url
                ));
            }
            let mut records = Vec::new();
            for market in MARKETS {
                let path = dir.join(file_name(market));
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                records.extend(parse_master(market, &bytes).map_err(|e| e.to_string())?);
            }
            Ok(Master {
                records,
                fetched_at: meta.fetched_at,
                source: meta.source,
                origin: Origin::Cache,
            })
        };
        read()
            .inspect_err(
                |err| tracing::warn!(%err, dir = %dir.display(), "stock master cache unusable; ignoring it"),
            )
            .ok()
    }

    fn write_cache(&self, master: &Master, files: &[Vec<u8>]) -> Result<(), MasterError> {
        let Some(dir) = self.config.cache_dir() else {
            return Ok(());
        };
        let cache = |source: std::io::Error| MasterError::Cache {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(cache)?;
        for (market, bytes) in MARKETS.iter().zip(files) {
            write_atomically(&dir.join(file_name(*market)), bytes).map_err(cache)?;
        }
        let meta = CacheMeta {
            fetched_at: master.fetched_at,
            source: master.source.clone(),
        };
        let json = serde_json::to_vec_pretty(&meta).unwrap_or_default();
        write_atomically(&dir.join("master.json"), &json).map_err(cache)
    }
}

/// The one `.mst` entry of a master zip (by name, else the only entry), size-capped.
fn unzip(bytes: &[u8], market: Market) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
    let index = archive
        .index_for_name(file_name(market))
        .or_else(|| (archive.len() == 1).then_some(0))
        .ok_or(zip::result::ZipError::FileNotFound)?;
    let entry = archive.by_index(index)?;
    let mut out = Vec::new();
    entry.take(MAX_BYTES + 1).read_to_end(&mut out)?;
    if out.len() as u64 > MAX_BYTES {
        return Err(zip::result::ZipError::UnsupportedArchive(
            "the master file is larger than 32 MiB",
        ));
    }
    Ok(out)
}

/// Write to `<path>.tmp`, flush to disk, rename over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn at(kst: &str) -> Timestamp {
        format!("{kst}+09:00[Asia/Seoul]")
            .parse::<jiff::Zoned>()
            .unwrap()
            .timestamp()
    }

    #[test]
    fn master_day_follows_the_krx_calendar_from_eight_kst() {
        let loader = MasterLoader::new(MasterConfig::for_environment(&Environment::Real, None));
        let day = |t: &str| loader.master_day(at(t));
        // A Friday: before 08:00 it is still Thursday's master.
        assert_eq!(day("2026-11-27T07:59:59"), date(2026, 11, 26));
        assert_eq!(day("2026-11-27T08:00:00"), date(2026, 11, 27));
        // The weekend keeps Friday's.
        assert_eq!(day("2026-11-29T20:00:00"), date(2026, 11, 27));
        // New Year's Day (closed) keeps the last trading day of the old year (12-31 is closed too).
        assert_eq!(day("2026-01-01T12:00:00"), date(2025, 12, 30));
        // UTC midnight is 09:00 KST.
        assert_eq!(
            loader.master_day("2026-11-27T00:00:00Z".parse().unwrap()),
            date(2026, 11, 27)
        );
    }

    #[test]
    fn urls_per_environment() {
        let real = MasterConfig::for_environment(&Environment::Vts, None);
        assert_eq!(
            real.url(Market::Kospi),
            "https://new.real.download.dws.co.kr/common/master/kospi_code.mst.zip"
        );
        let sim = Environment::Custom {
            rest_url: "http://127.0.0.1:9443/".into(),
            ws_url: "ws://127.0.0.1:9443".into(),
            rate: 20,
            vts: false,
        };
        let sim = MasterConfig::for_environment(&sim, None);
        assert_eq!(
            sim.url(Market::Kosdaq),
            "http://127.0.0.1:9443/common/master/kosdaq_code.mst.zip"
        );
    }
}
