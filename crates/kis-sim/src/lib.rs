//! KIS-compatible simulator: a deterministic market ([`model`]) served over the same REST and
//! WebSocket wire formats as the Korea Investment & Securities Open API, with its limits and errors,
//! fault injection and a control API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kis_sim::SimError> {
//! use kis_sim::{Profile, SimConfig, SimServer, demo_credentials};
//! let server = SimServer::start(SimConfig::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! let (app_key, app_secret) = demo_credentials(Profile::Real, 0);
//! println!("{} {} {}", server.rest_url(), app_key.len(), app_secret.len());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod auth;
mod codes;
pub mod config;
mod control;
pub mod envelope;
pub mod faults;
pub mod format;
mod http1;
pub mod master;
pub mod model;
pub mod ratelimit;
mod rest;
pub mod server;
pub mod stats;
mod ws;

pub use auth::demo_credentials;
pub use config::{Profile, ProfileError, SimConfig};
pub use model::ClockMode;
pub use server::{SimError, SimServer};
pub use stats::SimStats;
