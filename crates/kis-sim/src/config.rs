//! How a simulator instance behaves: profile, rate limit, clock, faults, token lifetime.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use host_guard::HostSpec;

use crate::model::ClockMode;

/// Which KIS domain the simulator impersonates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// 실전투자 (`openapi.koreainvestment.com:9443`): 20 requests/s per app key.
    Real,
    /// 모의투자 (`openapivts.koreainvestment.com:29443`): 2 requests/s per app key, fewer TRs.
    Vts,
}

impl Profile {
    /// The default REST rate limit per app key in requests per second.
    pub fn default_rate(self) -> u32 {
        match self {
            Profile::Real => 20,
            Profile::Vts => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Real => "real",
            Profile::Vts => "vts",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile name that is neither `real` nor `vts`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {0:?} (expected \"real\" or \"vts\")")]
pub struct ProfileError(pub String);

impl FromStr for Profile {
    type Err = ProfileError;

    fn from_str(s: &str) -> Result<Profile, ProfileError> {
        match s {
            "real" => Ok(Profile::Real),
            "vts" => Ok(Profile::Vts),
            other => Err(ProfileError(other.to_string())),
        }
    }
}

/// Everything that configures one simulator instance.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub profile: Profile,
    /// REST requests per second per app key: `None` = the profile's default, `Some(0)` = no limit.
    pub rate: Option<u32>,
    /// Seed of the deterministic market.
    pub seed: u64,
    pub clock: ClockMode,
    /// Virtual seconds per real second.
    pub speed: f64,
    /// Injected latency before each REST request arrives, uniform in `[min, max]` milliseconds.
    pub latency_ms: Option<(u64, u64)>,
    /// Probability that an accepted REST request is answered with a gateway error (HTTP 500), drawn
    /// from a generator seeded by `seed` (see `faults`).
    pub error_rate: f64,
    /// Lifetime of an access token (KIS: 24 h for individuals).
    pub token_ttl: Duration,
    /// The shortest time between two `tokenP` calls of one app key (KIS: one a minute); a call
    /// inside it gets `EGW00133`.
    pub token_interval: Duration,
    /// Serve the `/sim/*` control API.
    pub control: bool,
    /// How often the WebSocket server sends PINGPONG; a client that answers none within the next
    /// interval is dropped.
    pub ping_interval: Duration,
    /// Names the server answers to besides `127.0.0.1`, `localhost` and `[::1]` on its port and its
    /// bound address (`--allowed-host`; see `crate::server`'s host guard).
    pub allowed_hosts: Vec<HostSpec>,
    /// Whether `intstock-multprice` (FHKST11300006) answers on the 모의투자 profile. KIS's sources
    /// disagree (the portal page says 미지원); on by default, so a client can be tested both ways.
    pub multprice_on_vts: bool,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            profile: Profile::Real,
            rate: None,
            seed: 42,
            clock: ClockMode::Open,
            speed: 1.0,
            latency_ms: None,
            error_rate: 0.0,
            token_ttl: Duration::from_secs(24 * 60 * 60),
            token_interval: crate::auth::tokens::ISSUE_INTERVAL,
            control: false,
            ping_interval: Duration::from_secs(100),
            allowed_hosts: Vec::new(),
            multprice_on_vts: true,
        }
    }
}

impl SimConfig {
    /// The effective limit in requests per second per app key, `None` when unlimited.
    pub fn rate_limit(&self) -> Option<u32> {
        match self.rate {
            None => Some(self.profile.default_rate()),
            Some(0) => None,
            Some(n) => Some(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_follows_profile_and_override() {
        let mut c = SimConfig::default();
        assert_eq!(c.rate_limit(), Some(20));
        c.profile = Profile::Vts;
        assert_eq!(c.rate_limit(), Some(2));
        c.rate = Some(7);
        assert_eq!(c.rate_limit(), Some(7));
        c.rate = Some(0);
        assert_eq!(c.rate_limit(), None);
    }

    #[test]
    fn profile_parses() {
        assert_eq!("vts".parse::<Profile>(), Ok(Profile::Vts));
        assert!("paper".parse::<Profile>().is_err());
    }
}
