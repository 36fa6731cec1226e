//! The upstream: where data enters kiswatch.
//!
//! * [`Upstream`]: `demo | real | vts | custom` → one [`kis::KisClient`] (governor, tokens, retries)
//!   per app key in a [`KeyPool`] ([`keys`]: REST spread by free capacity, a refused key taken out)
//!   and one realtime WebSocket session per app key ([`RealtimeSessions`], [`realtime`]: the
//!   registrations sharded 41 a key), plus, in demo, the embedded simulator they talk to. Every command that talks to KIS (`serve`, `quote`, `backtest`)
//!   builds it here, from the same [`UpstreamConfig`].
//! * [`gateway`]: every REST call the service makes, behind TTL caches with single-flight.
//! * [`counters`]: what those calls cost, for health and `/metrics`.
//! * [`directory`]: code → name, market, kind, and search, from the KIS stock master.
//! * [`names`]: looking a stock's name up upstream (the one way, for the gateway and `quote`), and
//!   `quote`'s on-disk name cache.
//!
//! The demo is not a shortcut: the simulator runs in-process on a loopback port with the open clock
//! and its control API on, and kiswatch reaches it through the same client over real HTTP, exactly as
//! it reaches KIS. Its `/sim/*` control API is proxied under kiswatch's own `/sim/*`
//! ([`crate::api::sim`]).
//!
//! Each upstream has a *namespace* naming its stored data (`real`, `vts`, `demo-<seed>-<date>`,
//! `custom-...`), so simulated bars never mix with real ones. The demo's namespace carries the
//! simulated market's first session date too: the same seed started on another day generates
//! another history.

pub mod counters;
pub mod directory;
pub mod gateway;
pub mod keys;
pub mod names;
pub mod realtime;

use std::time::Duration;

pub use counters::{CallKind, UpstreamCounters};
pub use directory::{StockDirectory, StockMeta};
pub use gateway::{Gateway, GatewayError, Ranking, Ttls};
pub use keys::{Key, KeyPool};
pub use realtime::RealtimeSessions;

use std::sync::Arc;

use kis::{ClientConfig, Credentials, Environment, KisClient};
use kis_sim::{ClockMode, Profile, SimConfig, SimServer};

use crate::config::{KisKeys, KisProfile, UpstreamConfig};

/// The stock asked for when only the upstream's health or the market's time is wanted (listed on
/// every KIS server).
pub const PROBE_CODE: &str = "005930";

/// Why the upstream could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("starting the embedded simulator: {0}")]
    Simulator(#[from] kis_sim::SimError),
    #[error(transparent)]
    Kis(#[from] kis::KisError),
}

/// Which kind of upstream this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamKind {
    Demo,
    Real,
    Vts,
    Custom,
}

impl UpstreamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamKind::Demo => "demo",
            UpstreamKind::Real => "real",
            UpstreamKind::Vts => "vts",
            UpstreamKind::Custom => "custom",
        }
    }
}

/// A connected upstream.
pub struct Upstream {
    pub kind: UpstreamKind,
    /// Every app key's client.
    pub keys: Arc<KeyPool>,
    /// Names the stored data of this upstream.
    pub namespace: String,
    /// The embedded simulator (demo only); dropping it stops it.
    pub sim: Option<SimServer>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("kind", &self.kind)
            .field("namespace", &self.namespace)
            .field("env", self.client().environment())
            .finish()
    }
}

impl Upstream {
    /// Connects (for demo: starts the simulator). `data_dir` holds the token cache of real upstreams
    /// and the ledger of their request slots, shared with every process on the key.
    pub async fn start(
        config: &UpstreamConfig,
        data_dir: &std::path::Path,
    ) -> Result<Upstream, UpstreamError> {
        Upstream::start_with(config, data_dir, true).await
    }

    /// [`Upstream::start`], with the slots counted in this process alone unless `share_slots`.
    pub async fn start_with(
        config: &UpstreamConfig,
        data_dir: &std::path::Path,
        share_slots: bool,
    ) -> Result<Upstream, UpstreamError> {
        match config {
            UpstreamConfig::Demo { seed, speed } => {
                let sim = SimServer::start(
                    SimConfig {
                        profile: Profile::Real,
                        seed: *seed,
                        clock: ClockMode::Open,
                        speed: *speed,
                        control: true,
                        ..SimConfig::default()
                    },
                    "127.0.0.1:0".parse().expect("loopback address"),
                )
                .await?;
                let (key, secret) = kis_sim::demo_credentials(Profile::Real, 0);
                let env = Environment::Custom {
                    rest_url: sim.rest_url(),
                    ws_url: sim.ws_url(),
                    rate: Profile::Real.default_rate(),
                    vts: false,
                };
                // The simulator forgets its tokens when it stops: tokens stay in memory.
                let client = KisClient::new(demo_client_config(env, Credentials::new(key, secret)?))?;
                let namespace = format!("demo-{seed}-{}", sim.market().trading_date());
                Ok(Upstream {
                    kind: UpstreamKind::Demo,
                    keys: Arc::new(KeyPool::new(vec![client])),
                    namespace,
                    sim: Some(sim),
                })
            }
            UpstreamConfig::Real(keys) => Upstream::with_keys(
                UpstreamKind::Real,
                Environment::Real,
                keys,
                (data_dir, share_slots),
                "real".into(),
            ),
            UpstreamConfig::Vts(keys) => Upstream::with_keys(
                UpstreamKind::Vts,
                Environment::Vts,
                keys,
                (data_dir, share_slots),
                "vts".into(),
            ),
            UpstreamConfig::Custom {
                rest_url,
                ws_url,
                profile,
                rate,
                keys,
            } => {
                let vts = *profile == KisProfile::Vts;
                let env = Environment::Custom {
                    rest_url: rest_url.clone(),
                    ws_url: ws_url.clone(),
                    rate: rate.unwrap_or(if vts { 2 } else { 20 }).max(1),
                    vts,
                };
                let namespace = format!("{}-{}", env.cache_name(), if vts { "vts" } else { "real" });
                Upstream::with_keys(
                    UpstreamKind::Custom,
                    env,
                    keys,
                    (data_dir, share_slots),
                    namespace,
                )
            }
        }
    }

    /// One client per key, each with its token cache in `data_dir` and its slots in the ledger
    /// (Redis when configured, else the data dir's file ledger when `share_slots`).
    fn with_keys(
        kind: UpstreamKind,
        env: Environment,
        keys: &KisKeys,
        (data_dir, share_slots): (&std::path::Path, bool),
        namespace: String,
    ) -> Result<Upstream, UpstreamError> {
        let clients = keys
            .credentials
            .iter()
            .map(|credentials| {
                let mut config = ClientConfig::new(env.clone(), credentials.clone()).with_data_dir(data_dir);
                config.ledger_url = keys.ledger.clone();
                config.share_slots = share_slots;
                Ok(KisClient::new(config)?)
            })
            .collect::<Result<Vec<_>, UpstreamError>>()?;
        Ok(Upstream {
            kind,
            keys: Arc::new(KeyPool::new(clients)),
            namespace,
            sim: None,
        })
    }

    /// Key 1's client (the environment, the master and the market clock are the same on every key).
    pub fn client(&self) -> &KisClient {
        &self.keys.first().client
    }

    /// Whether past days' minute bars can be fetched (not on VTS-like servers).
    pub fn has_past_minutes(&self) -> bool {
        !self.client().environment().is_vts()
    }

    /// Opens one realtime session per app key (demo: the embedded simulator's WebSocket, spoken to
    /// exactly as KIS's), their events merged into one stream.
    pub fn realtime(
        &self,
    ) -> (
        RealtimeSessions,
        tokio::sync::mpsc::Receiver<kis::realtime::RealtimeEvent>,
    ) {
        RealtimeSessions::open(self.keys.clone())
    }

    /// The base URL of the embedded simulator's control API (demo only).
    pub fn sim_url(&self) -> Option<String> {
        self.sim.as_ref().map(SimServer::rest_url)
    }

    /// Stops the embedded simulator, if any.
    pub async fn shutdown(self) {
        if let Some(sim) = self.sim {
            sim.shutdown().await;
        }
    }
}

fn demo_client_config(env: Environment, credentials: Credentials) -> ClientConfig {
    let mut config = ClientConfig::new(env, credentials);
    config.request_timeout = Duration::from_secs(5);
    config
}
