//! Outgoing requests to destinations saved through the API — a condition's webhook today, alert
//! channels (Telegram, Discord, Slack, ntfy, SMTP hosts) next — and the policy they obey, so that
//! whoever can save a URL cannot make kiswatch reach what only kiswatch's machine can reach (a
//! cloud's metadata service, a database on loopback, the home router): server-side request forgery.
//!
//! * **When a URL is saved** ([`Outbound::check`]): `http` or `https` only, no user name or password
//!   (it would be stored and sent in the clear), a host, at most [`MAX_URL`] characters; a host that
//!   is an IP address must be public ([`classify`]: private, loopback, link-local, unique-local,
//!   shared (CGNAT), multicast, unspecified, broadcast, reserved and cloud-metadata addresses are
//!   refused, IPv4 inside IPv6 included), and `localhost` names are refused without asking DNS.
//! * **When it is sent** ([`Outbound::post_json`]): the same check again (the policy may have
//!   changed since, and the URL may come from an older database), and every name is resolved
//!   through [`PolicyResolver`] (reqwest's `dns_resolver`), which applies the same rule to every
//!   address the name resolves to: a name that resolves to 127.0.0.1 is refused as surely as
//!   `http://127.0.0.1/` is. A name with one refused address among good ones is refused whole (a
//!   rebinding name gets no chance to pick). The connection goes to the addresses checked, not to a
//!   second lookup; no proxy from the environment is used (a proxy would resolve the name itself).
//! * **Redirects are not followed** at all: a webhook is a POST, which a 301/302/303 would turn into
//!   a GET without its body, so following buys nothing for a webhook and would let a destination
//!   bounce the request to an address the check refused. A 3xx answer is reported as
//!   [`OutboundError::Redirect`] (save the final address instead). Re-checking each hop would be
//!   the alternative if a destination ever needs one.
//! * **Bounded**: connecting gives up after [`CONNECT_TIMEOUT`], the whole exchange after
//!   [`TOTAL_TIMEOUT`], and at most [`MAX_BODY`] bytes of the answer are read.
//!
//! `kiswatch serve --allow-private-webhooks` lifts the address rules (not the others) for a machine
//! whose webhooks live on the local network or loopback; the operator's own flags (`--kis-rest-url`
//! …) are not destinations saved through the API and never pass through here.
//!
//! Errors name what was refused and why; each has a stable [`OutboundError::code`] and a Korean
//! message ([`OutboundError::message_ko`]) beside the English one. They never contain a URL's path
//! or query (webhook URLs often carry a token there): only its scheme, host and port.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use serde::Serialize;

/// The longest URL accepted.
pub const MAX_URL: usize = 2048;
/// Connecting to a destination gives up after this.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole exchange (connect, send, the answer's head and body) gives up after this.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this much of an answer's body is read.
pub const MAX_BODY: usize = 64 * 1024;

/// Which addresses destinations saved through the API may reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// `--allow-private-webhooks`: private, loopback, link-local … addresses allowed too.
    pub allow_private: bool,
}

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Loopback,
    Private,
    LinkLocal,
    UniqueLocal,
    /// 100.64.0.0/10, carrier-grade NAT.
    Shared,
    Multicast,
    Unspecified,
    Broadcast,
    /// Documentation, benchmarking, IETF-reserved and future-use ranges.
    Reserved,
    /// A cloud's instance metadata service (credentials live there).
    CloudMetadata,
}

impl Refusal {
    pub fn en(self) -> &'static str {
        match self {
            Refusal::Loopback => "a loopback address",
            Refusal::Private => "a private-network address",
            Refusal::LinkLocal => "a link-local address",
            Refusal::UniqueLocal => "a unique-local (private IPv6) address",
            Refusal::Shared => "a shared (carrier-grade NAT) address",
            Refusal::Multicast => "a multicast address",
            Refusal::Unspecified => "the unspecified address",
            Refusal::Broadcast => "the broadcast address",
            Refusal::Reserved => "a reserved address",
            Refusal::CloudMetadata => "a cloud metadata service address",
        }
    }

    pub fn ko(self) -> &'static str {
        match self {
            Refusal::Loopback => "루프백 주소",
            Refusal::Private => "사설망 주소",
            Refusal::LinkLocal => "링크 로컬 주소",
            Refusal::UniqueLocal => "고유 로컬(사설 IPv6) 주소",
            Refusal::Shared => "공유(CGNAT) 주소",
            Refusal::Multicast => "멀티캐스트 주소",
            Refusal::Unspecified => "미지정 주소",
            Refusal::Broadcast => "브로드캐스트 주소",
            Refusal::Reserved => "예약된 주소",
            Refusal::CloudMetadata => "클라우드 메타데이터 서비스 주소",
        }
    }
}

/// `None` for a public address; else why it is refused.
pub fn classify(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, c, _] = ip.octets();
    let metadata = [
        Ipv4Addr::new(169, 254, 169, 254), // AWS, GCP, Azure, OpenStack …
        Ipv4Addr::new(169, 254, 170, 2),   // AWS ECS task metadata
        Ipv4Addr::new(100, 100, 100, 200), // Alibaba Cloud
        Ipv4Addr::new(168, 63, 129, 16),   // Azure host services (public range, reachable from VMs only)
    ];
    Some(if metadata.contains(&ip) {
        Refusal::CloudMetadata
    } else if ip.is_broadcast() {
        Refusal::Broadcast
    } else if a == 0 {
        Refusal::Unspecified
    } else if ip.is_loopback() {
        Refusal::Loopback
    } else if ip.is_private() {
        Refusal::Private
    } else if ip.is_link_local() {
        Refusal::LinkLocal
    } else if a == 100 && (64..128).contains(&b) {
        Refusal::Shared
    } else if ip.is_multicast() {
        Refusal::Multicast
    } else if (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 240
    {
        Refusal::Reserved
    } else {
        return None;
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<Refusal> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some(Refusal::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Refusal::Loopback);
    }
    // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and
    // 6to4 (2002:AABB:CCDD::/48) all reach the IPv4 address they carry.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let low_v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0; 6] || (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4]) {
        return classify_v4(low_v4);
    }
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return classify_v4(v4);
    }
    Some(if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254) {
        Refusal::CloudMetadata // AWS's IPv6 metadata endpoint
    } else if s[0] & 0xfe00 == 0xfc00 {
        Refusal::UniqueLocal
    } else if s[0] & 0xffc0 == 0xfe80 {
        Refusal::LinkLocal
    } else if s[0] & 0xffc0 == 0xfec0 {
        Refusal::Private // deprecated site-local
    } else if s[0] & 0xff00 == 0xff00 {
        Refusal::Multicast
    } else if (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64
        || (s[0] == 0x0100 && s[1..4] == [0; 3]) // discard-only
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] & 0xfff0 == 0x3ff0)
    // documentation (3fff::/20)
    {
        Refusal::Reserved
    } else {
        return None;
    })
}

/// Why a destination was refused or could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("the address is not a URL ({detail})")]
    NotAUrl { detail: String },
    #[error("the address is longer than {MAX_URL} characters")]
    TooLong,
    #[error("{shown}: only http and https destinations are allowed, not {scheme}")]
    Scheme { shown: String, scheme: String },
    #[error(
        "{shown}: a user name or password in the address is not allowed (it would be stored and sent in the clear)"
    )]
    Userinfo { shown: String },
    #[error("{shown}: the address has no host")]
    NoHost { shown: String },
    #[error(
        "{}: destinations saved through the API may not reach it \
         (`kiswatch serve --allow-private-webhooks` allows private and local addresses)",
        refused_en(.host, .ip, .kind)
    )]
    Refused { host: String, ip: IpAddr, kind: Refusal },
    #[error(
        "{host} is a local name (loopback): destinations saved through the API may not reach it \
         (`kiswatch serve --allow-private-webhooks` allows private and local addresses)"
    )]
    LocalName { host: String },
    #[error("{host} could not be resolved ({detail})")]
    Resolve { host: String, detail: String },
    #[error("{host} resolves to no address")]
    NoAddress { host: String },
    #[error(
        "{shown} answered with a redirect ({status}) to {to}; redirects are not followed: save the \
         final address instead"
    )]
    Redirect { shown: String, status: u16, to: String },
    #[error("{shown}: no answer within {} s", TOTAL_TIMEOUT.as_secs())]
    Timeout { shown: String },
    #[error("{shown}: {detail}")]
    Failed { shown: String, detail: String },
}

/// `10.0.0.7 is a private-network address`, or `hooks.example.test is a loopback address
/// (127.0.0.1)` for a name.
fn refused_en(host: &str, ip: &IpAddr, kind: &Refusal) -> String {
    if *host == ip.to_string() {
        format!("{host} is {}", kind.en())
    } else {
        format!("{host} is {} ({ip})", kind.en())
    }
}

impl OutboundError {
    /// A stable code for the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            OutboundError::NotAUrl { .. } | OutboundError::TooLong | OutboundError::NoHost { .. } => {
                "invalid_url"
            }
            OutboundError::Scheme { .. } => "url_scheme_refused",
            OutboundError::Userinfo { .. } => "url_userinfo_refused",
            OutboundError::Refused { .. } | OutboundError::LocalName { .. } => "destination_refused",
            OutboundError::Resolve { .. } | OutboundError::NoAddress { .. } => "destination_unresolved",
            OutboundError::Redirect { .. } => "redirect_not_followed",
            OutboundError::Timeout { .. } => "destination_timeout",
            OutboundError::Failed { .. } => "destination_failed",
        }
    }

    /// The same message in Korean.
    pub fn message_ko(&self) -> String {
        const FLAG: &str =
            "(`kiswatch serve --allow-private-webhooks`로 사설·로컬 주소를 허용할 수 있습니다)";
        match self {
            OutboundError::NotAUrl { detail } => format!("주소가 URL이 아닙니다 ({detail})"),
            OutboundError::TooLong => format!("주소가 {MAX_URL}자를 넘습니다"),
            OutboundError::Scheme { shown, scheme } => {
                format!("{shown}: http와 https 주소만 허용됩니다 ({scheme}는 허용되지 않음)")
            }
            OutboundError::Userinfo { shown } => format!(
                "{shown}: 주소에 사용자 이름이나 비밀번호를 넣을 수 없습니다 (평문으로 저장·전송됩니다)"
            ),
            OutboundError::NoHost { shown } => format!("{shown}: 주소에 호스트가 없습니다"),
            OutboundError::Refused { host, ip, kind } => {
                let via = if *host == ip.to_string() {
                    String::new()
                } else {
                    format!("({ip})")
                };
                format!(
                    "{host}은(는) {}{via}입니다: API로 저장한 주소는 여기에 접근할 수 없습니다 {FLAG}",
                    kind.ko()
                )
            }
            OutboundError::LocalName { host } => {
                format!(
                    "{host}은(는) 로컬 이름(루프백)입니다: API로 저장한 주소는 여기에 접근할 수 없습니다 {FLAG}"
                )
            }
            OutboundError::Resolve { host, detail } => format!("{host}의 주소를 찾을 수 없습니다 ({detail})"),
            OutboundError::NoAddress { host } => format!("{host}에 해당하는 주소가 없습니다"),
            OutboundError::Redirect { shown, status, to } => format!(
                "{shown}이(가) {to}(으)로 리디렉션({status})했습니다: 리디렉션은 따라가지 않으니 최종 주소를 저장하세요"
            ),
            OutboundError::Timeout { shown } => {
                format!("{shown}: {}초 안에 응답이 없습니다", TOTAL_TIMEOUT.as_secs())
            }
            OutboundError::Failed { shown, detail } => format!("{shown}: 요청 실패 ({detail})"),
        }
    }

    /// Whether trying again later may succeed (a refusal never does).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            OutboundError::Resolve { .. }
                | OutboundError::NoAddress { .. }
                | OutboundError::Timeout { .. }
                | OutboundError::Failed { .. }
        )
    }
}

/// A URL as errors and logs show it: scheme, host and port, never the path or query (tokens live
/// there) nor user info.
pub fn shown(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{}://{h}:{p}", url.scheme()),
        (Some(h), None) => format!("{}://{h}", url.scheme()),
        _ => format!("{}:", url.scheme()),
    }
}

/// Looks a name's addresses up (the system resolver; tests put their own names in).
pub trait Lookup: Send + Sync {
    fn lookup(&self, host: &str) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;
}

/// The system's resolver (`getaddrinfo` on the blocking pool, through tokio).
#[derive(Debug, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        let host = host.to_string();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    }
}

/// reqwest's resolver for outgoing requests: every address a name resolves to must pass the
/// policy, or the name is refused.
pub struct PolicyResolver {
    lookup: Arc<dyn Lookup>,
    policy: OutboundPolicy,
}

impl PolicyResolver {
    pub fn new(policy: OutboundPolicy, lookup: Arc<dyn Lookup>) -> PolicyResolver {
        PolicyResolver { lookup, policy }
    }

    /// The addresses of `host`, every one allowed by the policy.
    pub async fn resolve_checked(&self, host: &str) -> Result<Vec<IpAddr>, OutboundError> {
        let host = host.trim_end_matches('.').to_string();
        let ips = self
            .lookup
            .lookup(&host)
            .await
            .map_err(|e| OutboundError::Resolve {
                host: host.clone(),
                detail: e.to_string(),
            })?;
        if ips.is_empty() {
            return Err(OutboundError::NoAddress { host });
        }
        if !self.policy.allow_private
            && let Some((ip, kind)) = ips.iter().find_map(|ip| classify(*ip).map(|k| (*ip, k)))
        {
            return Err(OutboundError::Refused { host, ip, kind });
        }
        Ok(ips)
    }
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = PolicyResolver {
            lookup: self.lookup.clone(),
            policy: self.policy,
        };
        Box::pin(async move {
            let ips = this.resolve_checked(name.as_str()).await?;
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// An answer from a destination (any status but a redirect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// At most [`MAX_BODY`] bytes.
    pub body: Vec<u8>,
    /// Whether the body was longer and cut.
    pub truncated: bool,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The client for destinations saved through the API. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    http: reqwest::Client,
    policy: OutboundPolicy,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").field("policy", &self.policy).finish()
    }
}

impl Outbound {
    /// Through the system's resolver.
    pub fn new(policy: OutboundPolicy) -> Outbound {
        Outbound::with_lookup(policy, Arc::new(SystemLookup))
    }

    /// Through `lookup` (tests give names addresses of their choosing).
    pub fn with_lookup(policy: OutboundPolicy, lookup: Arc<dyn Lookup>) -> Outbound {
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(PolicyResolver::new(policy, lookup)))
            .redirect(Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .user_agent(concat!("kiswatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the outbound HTTP client builds (rustls, no system configuration read)");
        Outbound { http, policy }
    }

    pub fn policy(&self) -> OutboundPolicy {
        self.policy
    }

    /// Whether `url` may be saved as a destination (see the module docs); the parsed URL.
    pub fn check(&self, url: &str) -> Result<Url, OutboundError> {
        check(url, self.policy)
    }

    /// POSTs `body` as JSON to `url` after [`Outbound::check`], through the checking resolver,
    /// without following redirects; the answer (status and at most [`MAX_BODY`] bytes of body).
    pub async fn post_json<T: Serialize + ?Sized>(
        &self,
        url: &str,
        body: &T,
    ) -> Result<Answer, OutboundError> {
        let url = self.check(url)?;
        let shown = shown(&url);
        let response = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|e| request_error(&shown, &e))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(|l| match Url::parse(l) {
                    Ok(u) => self::shown(&u),
                    Err(_) => "a relative address".to_string(),
                })
                .unwrap_or_else(|| "nowhere".into());
            return Err(OutboundError::Redirect { shown, status, to });
        }
        let mut response = response;
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await.map_err(|e| request_error(&shown, &e))? {
            let room = MAX_BODY - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            body,
            truncated,
        })
    }
}

/// The save-time rules of the module docs.
pub fn check(url: &str, policy: OutboundPolicy) -> Result<Url, OutboundError> {
    let url = url.trim();
    if url.len() > MAX_URL {
        return Err(OutboundError::TooLong);
    }
    let parsed = Url::parse(url).map_err(|e| OutboundError::NotAUrl {
        detail: e.to_string(),
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Shown without the user info, which is the secret.
        let mut bare = parsed.clone();
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        return Err(OutboundError::Userinfo { shown: shown(&bare) });
    }
    let shown = shown(&parsed);
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(OutboundError::Scheme {
            shown,
            scheme: parsed.scheme().to_string(),
        });
    }
    let host = parsed.host_str().unwrap_or("");
    // The URL parser writes every IPv4 form (`2130706433`, `0x7f.1`) as dotted decimal and IPv6 in
    // brackets, so an address host parses here whatever way it was written.
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => refuse_ip(ip, policy)?,
        Err(_) => {
            let d = host.trim_end_matches('.').to_ascii_lowercase();
            if d.is_empty() {
                return Err(OutboundError::NoHost { shown });
            }
            if !policy.allow_private && (d == "localhost" || d.ends_with(".localhost")) {
                return Err(OutboundError::LocalName { host: d });
            }
        }
    }
    Ok(parsed)
}

fn refuse_ip(ip: IpAddr, policy: OutboundPolicy) -> Result<(), OutboundError> {
    match classify(ip) {
        Some(kind) if !policy.allow_private => Err(OutboundError::Refused {
            host: ip.to_string(),
            ip,
            kind,
        }),
        _ => Ok(()),
    }
}

/// A reqwest failure as an [`OutboundError`]: the resolver's refusal when that is what stopped it
/// (found in the error's sources), else a timeout or a failure, without the URL.
fn request_error(shown: &str, e: &reqwest::Error) -> OutboundError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<OutboundError>() {
            return refused.clone();
        }
        source = s.source();
    }
    if e.is_timeout() {
        return OutboundError::Timeout { shown: shown.into() };
    }
    // reqwest's own text names the URL; the innermost cause is the useful part.
    let mut innermost: &(dyn std::error::Error + 'static) = e;
    while let Some(s) = innermost.source() {
        innermost = s;
    }
    let what = if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "reading the answer failed"
    } else {
        "the request failed"
    };
    let detail = if std::ptr::addr_eq(innermost, e as &(dyn std::error::Error + 'static)) {
        what.to_string()
    } else {
        format!("{what}: {innermost}")
    };
    OutboundError::Failed {
        shown: shown.into(),
        detail,
    }
}

#[cfg(test)]
mod tests;
