//! `kiswatch sim`: the standalone KIS simulator (see `docs/design.md`, "External contract").

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use kis_sim::{ClockMode, Profile, SimConfig, SimServer, demo_credentials};

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Address to listen on (REST and WebSocket share it).
    #[arg(long, default_value = "127.0.0.1:9443")]
    pub bind: SocketAddr,
    /// Which KIS domain to impersonate: `real` (20 req/s) or `vts` (모의투자, 2 req/s).
    #[arg(long, default_value = "real", value_parser = parse_profile)]
    pub profile: Profile,
    /// REST requests per second per app key (0 = no limit); default: the profile's.
    #[arg(long)]
    pub rate: Option<u32>,
    /// Seed of the deterministic market.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// `live`: real KST and KRX sessions; `open`: a virtual session that is always running.
    #[arg(long, default_value = "open", value_parser = parse_clock)]
    pub clock: ClockMode,
    /// Virtual seconds per real second (open clock).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Injected latency before each REST request arrives, `MIN..MAX` milliseconds (e.g. `20..80`).
    #[arg(long, value_parser = parse_latency)]
    pub latency_ms: Option<(u64, u64)>,
    /// Probability (0..1) that a REST request fails with an injected gateway error (HTTP 500).
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub token_ttl: u64,
    /// Seconds between two access-token issuances for one app key (KIS: 60); a `tokenP` call
    /// sooner gets EGW00133.
    #[arg(long, default_value_t = 60)]
    pub token_interval_secs: u64,
    /// Serve the control API under /sim (stats, stocks, faults, scenario, clock).
    #[arg(long)]
    pub control: bool,
    /// Seconds between WebSocket PINGPONGs.
    #[arg(long, default_value_t = 100)]
    pub ping_secs: u64,
    /// On the vts profile, refuse intstock-multprice (EGW00213) as 모의투자 may (undocumented).
    #[arg(long)]
    pub no_multprice_on_vts: bool,
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse().map_err(|e: kis_sim::ProfileError| e.to_string())
}

fn parse_clock(s: &str) -> Result<ClockMode, String> {
    match s {
        "live" => Ok(ClockMode::Live),
        "open" => Ok(ClockMode::Open),
        other => Err(format!("unknown clock {other:?} (expected \"live\" or \"open\")")),
    }
}

fn parse_latency(s: &str) -> Result<(u64, u64), String> {
    let (min, max) = s.split_once("..").unwrap_or((s, s));
    let min: u64 = min
        .trim()
        .parse()
        .map_err(|_| format!("invalid latency {s:?} (expected MIN..MAX ms)"))?;
    let max: u64 = max
        .trim()
        .parse()
        .map_err(|_| format!("invalid latency {s:?} (expected MIN..MAX ms)"))?;
    if min > max {
        return Err(format!("invalid latency {s:?}: MIN is above MAX"));
    }
    Ok((min, max))
}

impl SimArgs {
    fn config(&self) -> anyhow::Result<SimConfig> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.error_rate),
            "--error-rate must be within 0..1, got {}",
            self.error_rate
        );
        anyhow::ensure!(self.ping_secs > 0, "--ping-secs must be positive");
        anyhow::ensure!(self.token_ttl > 0, "--token-ttl must be positive");
        Ok(SimConfig {
            profile: self.profile,
            rate: self.rate,
            seed: self.seed,
            clock: self.clock,
            speed: self.speed,
            latency_ms: self.latency_ms,
            error_rate: self.error_rate,
            token_ttl: Duration::from_secs(self.token_ttl),
            token_interval: Duration::from_secs(self.token_interval_secs),
            control: self.control,
            ping_interval: Duration::from_secs(self.ping_secs),
            multprice_on_vts: !self.no_multprice_on_vts,
        })
    }
}

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let server = SimServer::start(config.clone(), args.bind)
        .await
        .with_context(|| format!("starting the simulator on {}", args.bind))?;
    let (app_key, app_secret) = demo_credentials(config.profile, 0);
    let limit = config.rate_limit().map_or_else(
        || "no limit".to_string(),
        |n| format!("{n} requests/s per app key"),
    );
    println!("kis-sim ({} profile, {limit}) listening", config.profile);
    println!("  REST       {}", server.rest_url());
    println!("  WebSocket  {}/tryitout", server.ws_url());
    if config.control {
        println!(
            "  control    {}/sim/stats  (also /sim/stocks, /sim/faults, /sim/scenario, /sim/clock)",
            server.rest_url()
        );
    }
    println!("Demo credentials (simulator keys, not secrets):");
    println!("  KIS_APP_KEY={app_key}");
    println!("  KIS_APP_SECRET={app_secret}");
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    server.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_ranges_parse() {
        assert_eq!(parse_latency("20..80"), Ok((20, 80)));
        assert_eq!(parse_latency("5"), Ok((5, 5)));
        assert!(parse_latency("80..20").is_err());
        assert!(parse_latency("a..b").is_err());
    }

    #[test]
    fn clock_modes_parse() {
        assert_eq!(parse_clock("live"), Ok(ClockMode::Live));
        assert!(parse_clock("fast").is_err());
    }
}
