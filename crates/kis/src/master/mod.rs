//! The stock master (종목 마스터): every KOSPI and KOSDAQ listing with its code, standard code
//! (ISIN), Korean name and status flags, from the zip files KIS publishes outside its REST API.
//!
//! * [`parse_master`]: one file's cp949 bytes → [`MasterRecord`]s; a malformed line is a
//!   [`MasterError`] naming the file, the line and the field (the whole file is refused, so a bad
//!   download never replaces a good copy). The column layout is in [`layout`]; why the tail is counted
//!   in characters of the decoded line is explained in `parse.rs`.
//! * [`MasterLoader`]: downloads both files, caches them in the data dir, refreshes at most once a
//!   trading day and keeps the last good copy when a refresh fails ([`MasterStatus`] for
//!   `/api/v1/health`). It spends no rate-limit budget: the files are plain downloads, not KIS REST
//!   calls, so they do not go through the governor.
//! * [`Master::index`]: a [`market::search::StockIndex`] over the records, for search and names.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kis::master::MasterError> {
//! use kis::master::{MasterConfig, MasterLoader};
//! let loader = MasterLoader::new(MasterConfig::for_environment(&kis::Environment::Real, None));
//! let master = loader.load(jiff::Timestamp::now()).await?;
//! let index = master.index();
//! let hits = index.search("ㅅㅅㅈㅈ", 10).expect("a valid query");
//! println!("{} stocks; first hit {:?}; {:?}", index.len(), hits.first(), loader.status());
//! # Ok(()) }
//! ```

pub mod layout;
mod loader;
mod parse;
mod record;

use std::path::PathBuf;

use market::search::Market;

pub use loader::{
    MASTER_PATH, Master, MasterConfig, MasterLoader, MasterStatus, Origin, PUBLISHED_BY, REAL_MASTER_URL,
    file_name,
};
pub use parse::parse_master;
pub use record::{MarketWarning, MasterRecord};

/// Why the master could not be read or fetched.
#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    #[error("{} line {line}: not valid cp949 text", file_name(*market))]
    Encoding { market: Market, line: usize },
    #[error("{} line {line}: {chars} characters, a record needs at least {need}", file_name(*market))]
    TooShort {
        market: Market,
        line: usize,
        chars: usize,
        need: usize,
    },
    #[error("{} line {line}: field {field} {value:?}: {reason}", file_name(*market))]
    Field {
        market: Market,
        line: usize,
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("master download {url}: {source}")]
    Transport { url: String, source: reqwest::Error },
    #[error("master download {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("master download {url}: larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("master download {url}: bad zip: {source}")]
    Zip {
        url: String,
        source: zip::result::ZipError,
    },
    #[error("master cache {}: {source}", path.display())]
    Cache { path: PathBuf, source: std::io::Error },
}
