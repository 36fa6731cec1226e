//! The service's configuration: flags, environment and the optional credentials file, resolved into
//! one [`ServeConfig`] before anything starts, so that every mistake is reported at startup.
//!
//! * Credentials come from `KIS_APP_KEY` / `KIS_APP_SECRET`, or from a credentials file
//!   (`--credentials FILE`, default `<data-dir>/credentials`, lines `KIS_APP_KEY=...`). The file is
//!   refused unless its mode is 0600 (or stricter): a key readable by others is a leaked key. They are
//!   never taken from flags (flags show up in `ps` and shell history).
//! * Binding to anything but a loopback address requires `KISWATCH_TOKEN`: the API and the WebSocket
//!   then demand `Authorization: Bearer <token>`. Without it the service refuses to start.
//! * Destinations saved through the API (webhooks) may not reach private, loopback, link-local …
//!   addresses unless `--allow-private-webhooks` ([`crate::outbound`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kis::Credentials;

use crate::outbound::OutboundPolicy;

/// Environment variable holding the bearer token of the API.
pub const TOKEN_VAR: &str = "KISWATCH_TOKEN";

/// Which KIS the service talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KisMode {
    /// The embedded simulator (no credentials needed).
    Demo,
    /// 실전투자 server.
    Real,
    /// 모의투자 server.
    Vts,
    /// Any KIS-compatible server at --kis-rest-url.
    Custom,
}

impl KisMode {
    pub fn as_str(self) -> &'static str {
        match self {
            KisMode::Demo => "demo",
            KisMode::Real => "real",
            KisMode::Vts => "vts",
            KisMode::Custom => "custom",
        }
    }
}

/// How a `custom` server behaves: its rate and which TRs it offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KisProfile {
    /// 20 requests/s, every TR.
    Real,
    /// 2 requests/s, no real-only TRs (past days' minutes, 주식기본조회).
    Vts,
}

/// The default data directory: `$XDG_DATA_HOME/kiswatch`, else `~/.local/share/kiswatch`, else `./data`.
pub fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = flag {
        return dir;
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("kiswatch");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home).join(".local/share/kiswatch");
    }
    PathBuf::from("./data")
}

/// Everything wrong with a configuration, found before the service starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "binding to {0} (not a loopback address) requires {TOKEN_VAR}: set it to a long random string; \
         clients then send `Authorization: Bearer <token>`"
    )]
    TokenRequired(SocketAddr),
    #[error("{TOKEN_VAR} must be at least 16 characters")]
    TokenTooShort,
    #[error("--kis {0} needs KIS_APP_KEY and KIS_APP_SECRET (environment or credentials file)")]
    CredentialsRequired(&'static str),
    #[error("--kis custom needs --kis-rest-url")]
    RestUrlRequired,
    #[error("credentials file {path} is readable by others (mode {mode:o}); run `chmod 600 {path}` first")]
    FileTooOpen { path: String, mode: u32 },
    #[error("credentials file {path}: {detail}")]
    File { path: String, detail: String },
    #[error(transparent)]
    Kis(#[from] kis::KisError),
    #[error("{0}")]
    Invalid(String),
}

/// Where the upstream is.
#[derive(Debug, Clone)]
pub enum UpstreamConfig {
    /// The embedded simulator: seed, virtual seconds per real second.
    Demo {
        seed: u64,
        speed: f64,
    },
    Real(Credentials),
    Vts(Credentials),
    Custom {
        rest_url: String,
        ws_url: String,
        profile: KisProfile,
        /// Requests per second per app key, when the server allows other than the profile's.
        rate: Option<u32>,
        credentials: Credentials,
    },
}

/// What the demo does on its own (see [`crate::demo`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoContent {
    /// Seed the watchlist and conditions on the first start of the namespace.
    pub seed_watchlist: bool,
    /// Steer the simulator so that a condition forms within minutes.
    pub steer: bool,
}

/// Background work: how much of the upstream budget polling may use, and how often.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveConfig {
    /// Share of the request rate that polling may use (0..1).
    pub poll_share: f64,
    /// The shortest interval between two polls of one stock.
    pub min_interval: Duration,
}

impl Default for LiveConfig {
    fn default() -> LiveConfig {
        LiveConfig {
            poll_share: 0.25,
            min_interval: Duration::from_secs(1),
        }
    }
}

/// The resolved configuration of `kiswatch serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub upstream: UpstreamConfig,
    /// Bearer token for the API (required off loopback).
    pub token: Option<String>,
    pub demo: DemoContent,
    pub live: LiveConfig,
    /// Run backfill and live polling (tests of the bare API turn them off).
    pub background: bool,
    /// What destinations saved through the API (webhooks) may reach.
    pub outbound: OutboundPolicy,
}

/// The flags that choose and reach the upstream KIS, shared by every subcommand that talks to it
/// (`serve`, `quote`, `backtest`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct UpstreamArgs {
    /// Where the database and token cache live (default $XDG_DATA_HOME/kiswatch, else
    /// ~/.local/share/kiswatch).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Which KIS: default `demo` (the embedded simulator) when KIS_APP_KEY is unset, else `real`.
    #[arg(long, value_enum)]
    pub kis: Option<KisMode>,
    /// REST base URL for `--kis custom`.
    #[arg(long)]
    pub kis_rest_url: Option<String>,
    /// WebSocket base URL for `--kis custom` (default: the REST URL with ws://).
    #[arg(long)]
    pub kis_ws_url: Option<String>,
    /// How a `custom` server behaves: `real` (20/s, every TR) or `vts` (2/s, no real-only TRs).
    #[arg(long, value_enum)]
    pub kis_profile: Option<KisProfile>,
    /// Requests per second per app key for `--kis custom` (default: the profile's, 20 or 2).
    #[arg(long)]
    pub kis_rate: Option<u32>,
    /// A file with KIS_APP_KEY=... and KIS_APP_SECRET=... lines, mode 0600 (default
    /// <data-dir>/credentials when it exists).
    #[arg(long)]
    pub credentials: Option<PathBuf>,
}

impl UpstreamArgs {
    /// These flags as raw configuration; the caller fills in the rest.
    pub fn raw(self) -> RawConfig {
        RawConfig {
            data_dir: self.data_dir,
            kis: self.kis,
            kis_rest_url: self.kis_rest_url,
            kis_ws_url: self.kis_ws_url,
            kis_profile: self.kis_profile,
            kis_rate: self.kis_rate,
            credentials_file: self.credentials,
            ..RawConfig::default()
        }
    }
}

/// Raw inputs, as the CLI collected them.
#[derive(Debug, Clone, Default)]
pub struct RawConfig {
    pub bind: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub kis: Option<KisMode>,
    pub kis_rest_url: Option<String>,
    pub kis_ws_url: Option<String>,
    pub kis_profile: Option<KisProfile>,
    pub kis_rate: Option<u32>,
    pub credentials_file: Option<PathBuf>,
    pub seed: Option<u64>,
    pub speed: Option<f64>,
    pub token: Option<String>,
    pub no_demo_content: bool,
    pub allow_private_webhooks: bool,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl RawConfig {
    /// Resolves flags, environment (`KIS_APP_KEY`, `KIS_APP_SECRET`, `KISWATCH_TOKEN` are read by the
    /// caller into `self`/the environment) and the credentials file.
    pub fn resolve(self) -> Result<ServeConfig, ConfigError> {
        let bind = self
            .bind
            .unwrap_or_else(|| DEFAULT_BIND.parse().expect("the default bind address parses"));
        let token = self.token.filter(|t| !t.is_empty());
        if let Some(t) = &token
            && t.len() < 16
        {
            return Err(ConfigError::TokenTooShort);
        }
        if !bind.ip().is_loopback() && token.is_none() {
            return Err(ConfigError::TokenRequired(bind));
        }
        let data_dir = data_dir(self.data_dir);
        let file = self
            .credentials_file
            .clone()
            .unwrap_or_else(|| data_dir.join("credentials"));
        let explicit_file = self.credentials_file.is_some();
        let credentials = match Credentials::from_env()? {
            Some(c) => Some(c),
            None if explicit_file || file.exists() => Some(read_credentials_file(&file)?),
            None => None,
        };
        let mode = self.kis.unwrap_or(if credentials.is_some() {
            KisMode::Real
        } else {
            KisMode::Demo
        });
        let need = |c: Option<Credentials>| c.ok_or(ConfigError::CredentialsRequired(mode.as_str()));
        let upstream = match mode {
            KisMode::Demo => {
                let speed = self.speed.unwrap_or(DEMO_SPEED);
                if !(speed.is_finite() && speed > 0.0 && speed <= 10_000.0) {
                    return Err(ConfigError::Invalid(format!(
                        "--speed must be within (0, 10000], got {speed}"
                    )));
                }
                UpstreamConfig::Demo {
                    seed: self.seed.unwrap_or(42),
                    speed,
                }
            }
            KisMode::Real => UpstreamConfig::Real(need(credentials)?),
            KisMode::Vts => UpstreamConfig::Vts(need(credentials)?),
            KisMode::Custom => {
                let rest_url = self.kis_rest_url.ok_or(ConfigError::RestUrlRequired)?;
                let ws_url = self
                    .kis_ws_url
                    .unwrap_or_else(|| rest_url.replacen("http", "ws", 1));
                UpstreamConfig::Custom {
                    rest_url,
                    ws_url,
                    profile: self.kis_profile.unwrap_or(KisProfile::Real),
                    rate: self.kis_rate,
                    credentials: need(credentials)?,
                }
            }
        };
        Ok(ServeConfig {
            bind,
            data_dir,
            upstream,
            token,
            demo: DemoContent {
                seed_watchlist: !self.no_demo_content,
                steer: !self.no_demo_content,
            },
            live: LiveConfig::default(),
            background: true,
            outbound: OutboundPolicy {
                allow_private: self.allow_private_webhooks,
            },
        })
    }
}

/// The demo's virtual seconds per real second: fast enough that 1-minute bars visibly form and a
/// steered condition fires within two minutes, slow enough that a person can follow the tape.
pub const DEMO_SPEED: f64 = 10.0;

/// Reads `KIS_APP_KEY=...` / `KIS_APP_SECRET=...` lines (`#` comments, blank lines and `export `
/// prefixes allowed) from a file that only its owner can read.
pub fn read_credentials_file(path: &Path) -> Result<Credentials, ConfigError> {
    let shown = path.display().to_string();
    let file_error = |detail: String| ConfigError::File {
        path: shown.clone(),
        detail,
    };
    let meta = std::fs::metadata(path).map_err(|e| file_error(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::FileTooOpen { path: shown, mode });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let (mut key, mut secret) = (None, None);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(file_error(format!("line {}: expected NAME=VALUE", n + 1)));
        };
        let value = value.trim().trim_matches('"').trim_matches('\'').to_string();
        match name.trim() {
            kis::credentials::APP_KEY_VAR => key = Some(value),
            kis::credentials::APP_SECRET_VAR => secret = Some(value),
            other => {
                return Err(file_error(format!(
                    "line {}: unknown name {other:?} (expected KIS_APP_KEY or KIS_APP_SECRET)",
                    n + 1
                )));
            }
        }
    }
    match (key, secret) {
        (Some(k), Some(s)) => Ok(Credentials::new(k, s)?),
        _ => Err(file_error("needs both KIS_APP_KEY and KIS_APP_SECRET".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawConfig {
        RawConfig {
            kis: Some(KisMode::Demo),
            data_dir: Some(std::env::temp_dir().join("kiswatch-config-test-none")),
            ..RawConfig::default()
        }
    }

    #[test]
    fn loopback_needs_no_token_but_other_addresses_do() {
        let c = raw().resolve().unwrap();
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        let open = RawConfig {
            bind: Some("0.0.0.0:8080".parse().unwrap()),
            ..raw()
        };
        let err = open.clone().resolve().unwrap_err();
        assert!(matches!(err, ConfigError::TokenRequired(_)), "{err}");
        assert!(err.to_string().contains(TOKEN_VAR));
        let with_token = RawConfig {
            token: Some("a-long-enough-random-token".into()),
            ..open.clone()
        };
        assert!(with_token.resolve().is_ok());
        let short = RawConfig {
            token: Some("short".into()),
            ..open
        };
        assert!(matches!(short.resolve(), Err(ConfigError::TokenTooShort)));
    }

    #[test]
    fn custom_needs_a_url() {
        let c = RawConfig {
            kis: Some(KisMode::Custom),
            ..raw()
        };
        // Credentials are checked too, but the URL is missing first or the credentials are: both are
        // refused before anything starts.
        assert!(c.resolve().is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_credentials_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        let key = "PS".to_string() + &"a".repeat(34);
        std::fs::write(
            &path,
            format!(
                "# kis\nexport KIS_APP_KEY={key}\nKIS_APP_SECRET=\"{}\"\n",
                "s".repeat(180)
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_credentials_file(&path).unwrap_err();
        assert!(
            matches!(err, ConfigError::FileTooOpen { mode: 0o644, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = read_credentials_file(&path).unwrap();
        assert_eq!(c.app_key(), key);
        std::fs::write(&path, "KIS_APP_KEY=x\nOTHER=y\n").unwrap();
        let err = read_credentials_file(&path).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("OTHER"), "{err}");
    }
}
