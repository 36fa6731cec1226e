//! Which requests may drive a server that listens on the user's own machine: kiswatch's service and
//! its KIS simulator. Two attacks come from the web pages the user visits:
//!
//! * **DNS rebinding.** A page at `http://evil.example:8080` whose name the attacker re-points at
//!   `127.0.0.1` is, to the browser, same-origin with itself: it can read and write everything the
//!   local server answers. Its requests still say `Host: evil.example:8080`. So a server answers
//!   only to the names it is known by ([`HostGuard::new`]): `127.0.0.1`, `localhost` and `[::1]`
//!   with its own port, the address it is bound to when that is a specific one, and the names the
//!   operator allows (`--allowed-host NAME[:PORT]`, [`HostSpec`]). Anything else is refused with
//!   **421 Misdirected Request**: the request was addressed to a name this server does not serve
//!   (RFC 9110 §15.5.20), which is not a question of who the client is (that would be 403) and
//!   which the operator can change with a flag.
//! * **Cross-site requests.** Any page can send a "simple" request (a POST with `text/plain`, no
//!   custom header) to `http://127.0.0.1:8080`, and open a WebSocket to it; the browser sends both
//!   with the page's `Origin`. A request that may change something (any method but GET, HEAD and
//!   OPTIONS) or that upgrades to a WebSocket is refused with **403** when it carries an `Origin`
//!   whose host and port are not an accepted host. Requests without an `Origin` (curl, scripts, KIS
//!   clients: not browsers) pass, as they always did.
//!
//! A GET with a foreign `Origin` passes: it changes nothing, and without CORS headers (these servers
//! send none) the browser does not let the foreign page read the answer.
//!
//! The crate is pure: [`HostGuard::check`] looks at a request's method, URI and headers and says yes
//! or why not ([`Refusal`], with its status, a stable code and messages in English and Korean); each
//! server renders a refusal in its own error format.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use http::{HeaderMap, Method, StatusCode, Uri, header};

/// The port a `Host` header without one means: these servers speak plain HTTP.
const HTTP_PORT: u16 = 80;

/// The names every local server answers to, with its own port.
pub const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// A name a server answers to: `NAME` (any port) or `NAME:PORT`. Names compare without regard to
/// case; an IPv6 address is written in brackets (`[::1]:8080`) and compares in its canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostSpec {
    name: String,
    port: Option<u16>,
}

/// Why a `--allowed-host` value is not a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostSpecError {
    #[error(
        "{0:?} is not a host name or address: expected NAME or NAME:PORT (letters, digits, '-', '.', '_'; an IPv6 address in brackets, e.g. [fe80::1]:8080), without a scheme or path"
    )]
    BadName(String),
    #[error("{0:?}: the port must be a whole number from 1 to 65535")]
    BadPort(String),
}

impl HostSpec {
    /// `name` (a host name, an IPv4 address or a bracketed IPv6 address) on `port`, or on any port.
    pub fn new(name: &str, port: Option<u16>) -> Result<HostSpec, HostSpecError> {
        let name = normal_name(name).ok_or_else(|| HostSpecError::BadName(name.to_owned()))?;
        Ok(HostSpec { name, port })
    }

    /// The address a server is bound to, on its port.
    pub fn of_addr(addr: SocketAddr) -> HostSpec {
        let name = match addr.ip() {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => format!("[{a}]"),
        };
        HostSpec {
            name,
            port: Some(addr.port()),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `None`: any port.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    fn matches(&self, name: &str, port: u16) -> bool {
        self.name == name && self.port.is_none_or(|p| p == port)
    }
}

impl FromStr for HostSpec {
    type Err = HostSpecError;

    fn from_str(s: &str) -> Result<HostSpec, HostSpecError> {
        let s = s.trim();
        // A URL (`http://name/`) or userinfo is not a host: say so, not that its "port" is wrong.
        if s.contains(['/', '@', '?', '#']) {
            return Err(HostSpecError::BadName(s.to_owned()));
        }
        let (name, port) = split_authority(s).ok_or_else(|| HostSpecError::BadName(s.to_owned()))?;
        let port = port
            .map(|p| parse_port(p).ok_or_else(|| HostSpecError::BadPort(s.to_owned())))
            .transpose()?;
        HostSpec::new(name, port)
    }
}

impl fmt::Display for HostSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// `name[:port]` → (`name`, `port`), an IPv6 address keeping its brackets; `None` when the shape
/// is wrong (an unbracketed IPv6 address, text after the closing bracket).
fn split_authority(s: &str) -> Option<(&str, Option<&str>)> {
    if s.starts_with('[') {
        let close = s.find(']')?;
        let (name, after) = s.split_at(close + 1);
        return match after {
            "" => Some((name, None)),
            _ => Some((name, Some(after.strip_prefix(':')?))),
        };
    }
    match s.split_once(':') {
        None => Some((s, None)),
        Some((name, port)) => Some((name, Some(port))),
    }
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|p| *p != 0)
}

/// A name in the form it is compared in (lower case; an IPv6 address canonical, in brackets), or
/// `None` when it is not a host name or address.
fn normal_name(name: &str) -> Option<String> {
    if let Some(inside) = name.strip_prefix('[') {
        let addr: Ipv6Addr = inside.strip_suffix(']')?.parse().ok()?;
        return Some(format!("[{addr}]"));
    }
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    ok.then(|| name.to_ascii_lowercase())
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Addressed to a name the server does not answer to (or to none): 421.
    Host { host: Option<String> },
    /// A state-changing request or a WebSocket upgrade from a foreign page: 403.
    Origin { origin: String },
}

/// At most this much of a refused header is repeated in a message.
const SHOWN: usize = 100;

fn shown(value: &str) -> String {
    let cut: String = value.chars().take(SHOWN).collect();
    format!("{cut:?}")
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Host { .. } => StatusCode::MISDIRECTED_REQUEST,
            Refusal::Origin { .. } => StatusCode::FORBIDDEN,
        }
    }

    /// A stable machine-readable code: `misdirected_host` or `foreign_origin`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Host { .. } => "misdirected_host",
            Refusal::Origin { .. } => "foreign_origin",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Refusal::Host { host: Some(h) } => format!(
                "this server answers only to its own names (127.0.0.1, localhost or [::1] with its port, \
                 its bound address, and each --allowed-host); this request was addressed to {}",
                shown(h)
            ),
            Refusal::Host { host: None } => "a request must name its host (the Host header)".to_owned(),
            Refusal::Origin { origin } => format!(
                "the page at {} may not change anything here or open the WebSocket: only pages this server \
                 serves may (requests without an Origin header, e.g. from scripts, are not affected)",
                shown(origin)
            ),
        }
    }

    pub fn message_ko(&self) -> String {
        match self {
            Refusal::Host { host: Some(h) } => format!(
                "이 서버는 자신의 주소(포트를 포함한 127.0.0.1, localhost, [::1], 바인드한 주소, --allowed-host로 \
                 허용한 이름)로 온 요청에만 응답합니다. 이 요청의 Host: {}",
                shown(h)
            ),
            Refusal::Host { host: None } => "요청에 Host 헤더가 없습니다".to_owned(),
            Refusal::Origin { origin } => format!(
                "{} 페이지에서 온 요청은 이 서버의 상태를 바꾸거나 WebSocket을 열 수 없습니다. 이 서버가 \
                 제공한 페이지만 가능합니다 (Origin 헤더가 없는 스크립트 요청은 해당 없음)",
                shown(origin)
            ),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for Refusal {}

/// The hosts a server answers to, and the check of each request (see the crate docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostGuard {
    accepted: Vec<HostSpec>,
}

impl HostGuard {
    /// A server bound to `bound` answers to [`LOOPBACK_NAMES`] on its port, to `bound` itself when
    /// it is a specific address (not `0.0.0.0` or `[::]`), and to each of `allowed`.
    pub fn new(bound: SocketAddr, allowed: &[HostSpec]) -> HostGuard {
        let port = bound.port();
        let mut accepted: Vec<HostSpec> = LOOPBACK_NAMES
            .iter()
            .map(|n| HostSpec {
                name: (*n).to_owned(),
                port: Some(port),
            })
            .collect();
        if !bound.ip().is_unspecified() {
            let own = HostSpec::of_addr(bound);
            if !accepted.contains(&own) {
                accepted.push(own);
            }
        }
        for a in allowed {
            if !accepted.contains(a) {
                accepted.push(a.clone());
            }
        }
        HostGuard { accepted }
    }

    /// Every accepted host.
    pub fn accepted(&self) -> &[HostSpec] {
        &self.accepted
    }

    fn accepts(&self, name: &str, port: u16) -> bool {
        self.accepted.iter().any(|s| s.matches(name, port))
    }

    /// Whether a `Host` header (or a URI's authority) names this server. No port means port 80.
    pub fn accepts_host(&self, authority: &str) -> bool {
        let Some((name, port)) = split_authority(authority) else {
            return false;
        };
        let port = match port {
            None => HTTP_PORT,
            Some(p) => match parse_port(p) {
                Some(p) => p,
                None => return false,
            },
        };
        normal_name(name).is_some_and(|n| self.accepts(&n, port))
    }

    /// Whether an `Origin` header is a page of this server: `http(s)://HOST[:PORT]` with an
    /// accepted host (the scheme's port when none is written). `null` and other schemes are not.
    pub fn accepts_origin(&self, origin: &str) -> bool {
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false;
        };
        let default = match scheme.to_ascii_lowercase().as_str() {
            "http" => 80,
            "https" => 443,
            _ => return false,
        };
        if authority.contains(['/', '@', '?', '#']) {
            return false;
        }
        let Some((name, port)) = split_authority(authority) else {
            return false;
        };
        let port = match port {
            None => default,
            Some(p) => match parse_port(p) {
                Some(p) => p,
                None => return false,
            },
        };
        normal_name(name).is_some_and(|n| self.accepts(&n, port))
    }

    /// Checks one request: every host it names (the URI's authority and each `Host` header; at
    /// least one) must be accepted, and a state-changing request or a WebSocket upgrade that
    /// carries an `Origin` must come from an accepted host.
    pub fn check(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        let mut named = false;
        if let Some(authority) = uri.authority() {
            named = true;
            if !self.accepts_host(authority.as_str()) {
                return Err(Refusal::Host {
                    host: Some(authority.as_str().to_owned()),
                });
            }
        }
        for host in headers.get_all(header::HOST) {
            named = true;
            let text = String::from_utf8_lossy(host.as_bytes());
            if !self.accepts_host(&text) {
                return Err(Refusal::Host {
                    host: Some(text.into_owned()),
                });
            }
        }
        if !named {
            return Err(Refusal::Host { host: None });
        }
        let changes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
            || headers.contains_key(header::UPGRADE);
        if changes {
            for origin in headers.get_all(header::ORIGIN) {
                let text = String::from_utf8_lossy(origin.as_bytes());
                if !self.accepts_origin(&text) {
                    return Err(Refusal::Origin {
                        origin: text.into_owned(),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn guard(bind: &str, allowed: &[&str]) -> HostGuard {
        let allowed: Vec<HostSpec> = allowed.iter().map(|a| a.parse().unwrap()).collect();
        HostGuard::new(bind.parse().unwrap(), &allowed)
    }

    fn request(
        method: Method,
        host: Option<&str>,
        origin: Option<&str>,
        upgrade: bool,
    ) -> (Method, Uri, HeaderMap) {
        let mut headers = HeaderMap::new();
        if let Some(h) = host {
            headers.insert(header::HOST, HeaderValue::from_str(h).unwrap());
        }
        if let Some(o) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        if upgrade {
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        (method, Uri::from_static("/api/v1/triggers/1/ack"), headers)
    }

    fn check(
        g: &HostGuard,
        method: Method,
        host: Option<&str>,
        origin: Option<&str>,
        upgrade: bool,
    ) -> Result<(), Refusal> {
        let (m, u, h) = request(method, host, origin, upgrade);
        g.check(&m, &u, &h)
    }

    #[test]
    fn loopback_names_with_the_bound_port_and_nothing_else() {
        let g = guard("127.0.0.1:8080", &[]);
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
            "[0:0:0:0:0:0:0:1]:8080",
        ] {
            assert!(g.accepts_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1:8081",
            "127.0.0.1",
            "localhost",
            "localhost.:8080",
            "user@127.0.0.1:8080",
            "127.0.0.1:8080:1",
            "::1:8080",
            "[::1]8080",
            "127.0.0.1:08080x",
            "",
            "127.0.0.1:0",
        ] {
            assert!(!g.accepts_host(bad), "{bad}");
        }
    }

    #[test]
    fn a_specific_bound_address_is_a_name_too_but_not_the_unspecified_one() {
        let g = guard("192.168.0.5:8080", &[]);
        assert!(g.accepts_host("192.168.0.5:8080"));
        assert!(!g.accepts_host("192.168.0.5:9000"));
        assert!(!g.accepts_host("192.168.0.6:8080"));
        let any = guard("0.0.0.0:8080", &[]);
        assert!(!any.accepts_host("0.0.0.0:8080"));
        assert!(!any.accepts_host("192.168.0.5:8080"));
        assert!(any.accepts_host("localhost:8080"));
        let v6 = guard("[fe80::1]:8080", &[]);
        assert!(v6.accepts_host("[FE80::1]:8080"));
    }

    #[test]
    fn allowed_hosts_with_and_without_a_port() {
        let g = guard(
            "0.0.0.0:8080",
            &["kiswatch.lan", "box.example:9000", "192.168.0.5:8080"],
        );
        assert!(g.accepts_host("kiswatch.lan"), "no port: any port, none too");
        assert!(g.accepts_host("KISWATCH.lan:8443"));
        assert!(g.accepts_host("box.example:9000"));
        assert!(!g.accepts_host("box.example:8080"));
        assert!(!g.accepts_host("box.example"), "no port means 80");
        assert!(g.accepts_host("192.168.0.5:8080"));
        assert!(!g.accepts_host("evil.kiswatch.lan"));
        assert!(g.accepts_origin("https://kiswatch.lan"));
        assert!(g.accepts_origin("http://box.example:9000"));
        assert!(!g.accepts_origin("http://box.example"));
    }

    #[test]
    fn origins_compare_by_host_and_port_with_the_schemes_default() {
        let g = guard("127.0.0.1:8080", &[]);
        assert!(g.accepts_origin("http://127.0.0.1:8080"));
        assert!(g.accepts_origin("http://localhost:8080"));
        assert!(g.accepts_origin("HTTP://[::1]:8080"));
        for bad in [
            "http://evil.example:8080",
            "http://127.0.0.1:8081",
            "http://127.0.0.1",
            "null",
            "file://",
            "chrome-extension://abc",
            "http://127.0.0.1:8080/path",
            "http://a@127.0.0.1:8080",
            "127.0.0.1:8080",
        ] {
            assert!(!g.accepts_origin(bad), "{bad}");
        }
        let on_80 = guard("127.0.0.1:80", &[]);
        assert!(on_80.accepts_origin("http://localhost"));
        assert!(on_80.accepts_host("localhost"));
        assert!(!on_80.accepts_origin("https://localhost"));
    }

    #[test]
    fn state_changes_and_upgrades_need_a_local_origin_or_none() {
        let g = guard("127.0.0.1:8080", &[]);
        let local = Some("127.0.0.1:8080");
        assert_eq!(
            check(&g, Method::POST, local, None, false),
            Ok(()),
            "curl and scripts"
        );
        assert_eq!(
            check(&g, Method::POST, local, Some("http://localhost:8080"), false),
            Ok(())
        );
        let refused = check(&g, Method::POST, local, Some("http://evil.example"), false).unwrap_err();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(refused.code(), "foreign_origin");
        assert!(refused.message_en().contains("evil.example"), "{refused}");
        for m in [Method::PUT, Method::DELETE, Method::PATCH] {
            assert!(check(&g, m, local, Some("null"), false).is_err());
        }
        assert_eq!(
            check(&g, Method::GET, local, Some("http://evil.example"), false),
            Ok(()),
            "reads stay unreadable to it"
        );
        assert_eq!(
            check(&g, Method::OPTIONS, local, Some("http://evil.example"), false),
            Ok(())
        );
        assert!(
            check(&g, Method::GET, local, Some("http://evil.example"), true).is_err(),
            "a WebSocket"
        );
        assert_eq!(
            check(&g, Method::GET, local, Some("http://127.0.0.1:8080"), true),
            Ok(())
        );
        assert_eq!(check(&g, Method::GET, local, None, true), Ok(()));
    }

    #[test]
    fn a_foreign_or_missing_host_is_refused_before_anything_else() {
        let g = guard("127.0.0.1:8080", &[]);
        let r = check(&g, Method::GET, Some("evil.example:8080"), None, false).unwrap_err();
        assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
        assert_eq!(r.code(), "misdirected_host");
        assert!(r.message_ko().contains("evil.example"));
        let r = check(&g, Method::GET, None, None, false).unwrap_err();
        assert_eq!(r, Refusal::Host { host: None });
        let absolute = Uri::from_static("http://evil.example:8080/api/v1/health");
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(
            g.check(&Method::GET, &absolute, &headers).is_err(),
            "the URI's authority counts too"
        );
        headers.append(header::HOST, HeaderValue::from_static("evil.example:8080"));
        assert!(
            g.check(&Method::GET, &Uri::from_static("/"), &headers).is_err(),
            "every Host header"
        );
    }

    #[test]
    fn a_long_header_is_shown_cut() {
        let long = "a".repeat(10_000);
        let r = Refusal::Host { host: Some(long) };
        assert!(r.message_en().len() < 600);
    }

    #[test]
    fn host_specs_parse_and_print() {
        let s: HostSpec = "Box.Example:9000".parse().unwrap();
        assert_eq!((s.name(), s.port()), ("box.example", Some(9000)));
        assert_eq!(s.to_string(), "box.example:9000");
        assert_eq!("[::1]".parse::<HostSpec>().unwrap().to_string(), "[::1]");
        for bad in [
            "", "http://x", "x/y", "x:0", "x:65536", "x:", "::1", "[::1", "a b", "x:80:80",
        ] {
            assert!(bad.parse::<HostSpec>().is_err(), "{bad}");
        }
        assert!(matches!(
            "x:y".parse::<HostSpec>(),
            Err(HostSpecError::BadPort(_))
        ));
    }

    proptest::proptest! {
        /// A name is accepted only if it is one of the accepted hosts, on a matching port; a
        /// spec's text parses back to itself.
        #[test]
        fn only_accepted_hosts_pass(name in "[a-z0-9.-]{1,20}", port in 1u16.., bound in 1u16..) {
            let g = HostGuard::new(SocketAddr::from(([127, 0, 0, 1], bound)), &[]);
            let host = format!("{name}:{port}");
            let expected = port == bound && ["127.0.0.1", "localhost"].contains(&name.as_str());
            proptest::prop_assert_eq!(g.accepts_host(&host), expected);
            proptest::prop_assert_eq!(g.accepts_origin(&format!("http://{host}")), expected);
            let spec: HostSpec = host.parse().unwrap();
            proptest::prop_assert_eq!(spec.to_string().parse::<HostSpec>().unwrap(), spec);
        }

        /// Whatever the headers say, the check answers (never panics).
        #[test]
        fn any_header_is_answered(host in "\\PC{0,40}", origin in "\\PC{0,40}") {
            let g = HostGuard::new(SocketAddr::from(([127, 0, 0, 1], 8080)), &[]);
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&host) { headers.insert(header::HOST, v); }
            if let Ok(v) = HeaderValue::from_str(&origin) { headers.insert(header::ORIGIN, v); }
            let _ = g.check(&Method::POST, &Uri::from_static("/"), &headers);
        }
    }
}
