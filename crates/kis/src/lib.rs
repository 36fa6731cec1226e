//! KIS Open API client.
//!
//! * [`wire`]: one small request type per endpoint; KIS's string numbers become typed values at
//!   the boundary, with errors naming the TR, the field and the raw value. [`scalar`] is the one
//!   reading of those strings, shared with the realtime frames.
//! * [`governor`]: N slots per app key, each held from send until 1 s after completion, so no
//!   1-second window at the server ever holds more than N arrivals.
//! * [`ledger`]: where those N slots are counted — in this process, in a file in the data dir
//!   shared by every process using the same app key (KIS counts per key, not per process), or in
//!   Redis shared by machines — and the key's adaptive rate (R ≤ N, lowered by an EGW00201).
//! * [`token`]: access token and approval key, cached on disk (0600, atomic), single-flight,
//!   never issued twice within a minute, even across processes; [`clock`] is the wall clock it
//!   reads (injectable, so tests run the rules in virtual time).
//! * [`client`]: [`KisClient`] ties them together with retries and request coalescing;
//!   [`paging`] walks candle history across calls.
//! * [`realtime`]: the WebSocket feed.
//! * [`master`]: the stock master files (every KOSPI/KOSDAQ listing), downloaded, cached and
//!   refreshed once a trading day, outside the governor (they are not REST calls).

pub mod client;
pub mod clock;
mod coalesce;
pub mod credentials;
pub mod env;
pub mod error;
mod filelock;
pub mod governor;
pub mod ledger;
pub mod master;
pub mod paging;
mod priority;
pub mod realtime;
pub mod retry;
pub mod scalar;
pub mod token;
pub mod wire;

pub use client::{ClientConfig, KisClient};
pub use credentials::{Credentials, KeyFingerprint};
pub use env::Environment;
pub use error::KisError;
pub use governor::{Governor, GovernorConfig, GovernorMetrics, Priority};
