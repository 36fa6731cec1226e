//! Which KIS server the client talks to, and that server's request rate per app key.
//!
//! The real and VTS URLs are configuration only: tests never contact them.

use std::fmt;

/// REST base URL of the real (실전) server.
pub const REAL_REST_URL: &str = "https://openapi.koreainvestment.com:9443";
/// REST base URL of the mock-trading (모의투자, VTS) server.
pub const VTS_REST_URL: &str = "https://openapivts.koreainvestment.com:29443";
/// WebSocket base URL of the real server.
pub const REAL_WS_URL: &str = "ws://ops.koreainvestment.com:21000";
/// WebSocket base URL of the VTS server.
pub const VTS_WS_URL: &str = "ws://ops.koreainvestment.com:31000";

/// A KIS server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Environment {
    /// 실전투자: 20 requests per second per app key.
    Real,
    /// 모의투자: 2 requests per second per app key; some TRs are not offered.
    Vts,
    /// Any KIS-compatible server (e.g. the simulator) with an explicit rate.
    Custom {
        rest_url: String,
        ws_url: String,
        /// Requests per second per app key.
        rate: u32,
        /// Whether the server behaves like VTS (TRs the VTS lacks are refused locally).
        vts: bool,
    },
}

impl Environment {
    pub fn rest_url(&self) -> &str {
        match self {
            Environment::Real => REAL_REST_URL,
            Environment::Vts => VTS_REST_URL,
            Environment::Custom { rest_url, .. } => rest_url.trim_end_matches('/'),
        }
    }

    pub fn ws_url(&self) -> &str {
        match self {
            Environment::Real => REAL_WS_URL,
            Environment::Vts => VTS_WS_URL,
            Environment::Custom { ws_url, .. } => ws_url.trim_end_matches('/'),
        }
    }

    /// Requests per second per app key (KIS notice of 2025-08-07: real 20, VTS 2).
    pub fn rate(&self) -> u32 {
        match self {
            Environment::Real => 20,
            Environment::Vts => 2,
            Environment::Custom { rate, .. } => *rate,
        }
    }

    /// Whether TRs that VTS does not offer must be refused.
    pub fn is_vts(&self) -> bool {
        match self {
            Environment::Real => false,
            Environment::Vts => true,
            Environment::Custom { vts, .. } => *vts,
        }
    }

    /// A short stable name, used in token cache file names (`real`, `vts`, `custom-<host>`).
    pub fn cache_name(&self) -> String {
        match self {
            Environment::Real => "real".into(),
            Environment::Vts => "vts".into(),
            Environment::Custom { rest_url, .. } => {
                let host: String = rest_url
                    .trim_start_matches("http://")
                    .trim_start_matches("https://")
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .take(60)
                    .collect();
                format!("custom-{host}")
            }
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Environment::Real => f.write_str("real"),
            Environment::Vts => f.write_str("vts"),
            Environment::Custom { rest_url, .. } => write!(f, "custom ({rest_url})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_names() {
        assert_eq!(Environment::Real.rate(), 20);
        assert_eq!(Environment::Vts.rate(), 2);
        let sim = Environment::Custom {
            rest_url: "http://127.0.0.1:4000/".into(),
            ws_url: "ws://127.0.0.1:4000".into(),
            rate: 20,
            vts: false,
        };
        assert_eq!(sim.rest_url(), "http://127.0.0.1:4000");
        assert_eq!(sim.cache_name(), "custom-127_0_0_1_4000_");
        assert_eq!(Environment::Vts.cache_name(), "vts");
    }
}
