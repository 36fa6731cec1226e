//! The upstream: where data enters kiswatch.
//!
//! * [`Upstream`]: `demo | real | vts | custom` → one [`kis::KisClient`] (governor, tokens, retries)
//!   and one realtime WebSocket session per app key ([`Upstream::realtime`]), plus, in demo, the
//!   embedded simulator they talk to. Every command that talks to KIS (`serve`, `quote`, `backtest`)
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
pub mod names;

use std::time::Duration;

pub use counters::{CallKind, UpstreamCounters};
pub use directory::{StockDirectory, StockMeta};
pub use gateway::{Gateway, GatewayError, Ttls};

use kis::realtime::{RealtimeClient, RealtimeConfig, RealtimeEvent, RealtimeHandle};
use kis::{ClientConfig, Credentials, Environment, KisClient};
use kis_sim::{ClockMode, Profile, SimConfig, SimServer};

use crate::config::{KisProfile, UpstreamConfig};

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
    pub client: KisClient,
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
            .field("env", self.client.environment())
            .finish()
    }
}

impl Upstream {
    /// Connects (for demo: starts the simulator). `data_dir` holds the token cache of real upstreams.
    pub async fn start(
        config: &UpstreamConfig,
        data_dir: &std::path::Path,
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
                    client,
                    namespace,
                    sim: Some(sim),
                })
            }
            UpstreamConfig::Real(credentials) => Ok(Upstream {
                kind: UpstreamKind::Real,
                client: KisClient::new(
                    ClientConfig::new(Environment::Real, credentials.clone()).with_data_dir(data_dir),
                )?,
                namespace: "real".into(),
                sim: None,
            }),
            UpstreamConfig::Vts(credentials) => Ok(Upstream {
                kind: UpstreamKind::Vts,
                client: KisClient::new(
                    ClientConfig::new(Environment::Vts, credentials.clone()).with_data_dir(data_dir),
                )?,
                namespace: "vts".into(),
                sim: None,
            }),
            UpstreamConfig::Custom {
                rest_url,
                ws_url,
                profile,
                rate,
                credentials,
            } => {
                let vts = *profile == KisProfile::Vts;
                let env = Environment::Custom {
                    rest_url: rest_url.clone(),
                    ws_url: ws_url.clone(),
                    rate: rate.unwrap_or(if vts { 2 } else { 20 }).max(1),
                    vts,
                };
                let namespace = format!("{}-{}", env.cache_name(), if vts { "vts" } else { "real" });
                Ok(Upstream {
                    kind: UpstreamKind::Custom,
                    client: KisClient::new(
                        ClientConfig::new(env, credentials.clone()).with_data_dir(data_dir),
                    )?,
                    namespace,
                    sim: None,
                })
            }
        }
    }

    /// Whether past days' minute bars can be fetched (not on VTS-like servers).
    pub fn has_past_minutes(&self) -> bool {
        !self.client.environment().is_vts()
    }

    /// Opens the one realtime session of this app key (demo: the embedded simulator's WebSocket,
    /// spoken to exactly as KIS's). The approval key comes from the client's token store.
    pub fn realtime(&self) -> (RealtimeHandle, tokio::sync::mpsc::Receiver<RealtimeEvent>) {
        let config = RealtimeConfig::new(self.client.environment().ws_url());
        let approval: std::sync::Arc<dyn kis::realtime::ApprovalSource> = self.client.tokens().clone();
        RealtimeClient::connect(config, approval)
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
