//! A channel's settings: checked when saved (every destination through [`Outbound`]'s policy), split
//! into public settings and secrets for the store, and masked for every answer.
//!
//! | kind | settings (secrets in bold) |
//! |---|---|
//! | telegram | **bot_token**, chat_id (a number, `-100…` for groups, or `@channel`), api_url (default the public Bot API) |
//! | discord, slack | **url** (the incoming webhook) |
//! | ntfy | server, **topic** (whoever knows it can read it), **token** (optional) |
//! | email | host, port (default by tls: 25, 587, 465), tls `none`/`starttls`/`tls`, username, **password**, from, to (one address or a list) |
//! | webhook | **url**, **secret** (optional: HMAC-SHA256 signature header) |
//! | webpush | **endpoint**, **p256dh**, **auth** (a browser's push subscription) |
//!
//! A secret is answered masked (`••••` and at most its last four characters; a URL as its scheme and
//! host and `/••••`). A `PUT` whose secret contains `••••` keeps the stored one.

use serde_json::{Map, Value};

use crate::contract::ChannelKind;
use crate::outbound::{Outbound, OutboundError};

/// The public Telegram Bot API.
pub const TELEGRAM_API: &str = "https://api.telegram.org";
/// What every masked secret contains.
pub const MASK: &str = "••••";

/// Why a channel's settings were refused: the field, in English and Korean.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {en}")]
pub struct ConfigError {
    pub field: &'static str,
    pub en: String,
    pub ko: String,
}

fn bad(field: &'static str, en: impl Into<String>, ko: impl Into<String>) -> ConfigError {
    ConfigError {
        field,
        en: en.into(),
        ko: ko.into(),
    }
}

fn refused(field: &'static str, e: OutboundError) -> ConfigError {
    bad(
        field,
        format!("refused: {e}"),
        format!("저장할 수 없습니다: {}", e.message_ko()),
    )
}

/// The secret fields of a kind.
pub fn secret_fields(kind: ChannelKind) -> &'static [&'static str] {
    match kind {
        ChannelKind::Telegram => &["bot_token"],
        ChannelKind::Discord | ChannelKind::Slack => &["url"],
        ChannelKind::Ntfy => &["topic", "token"],
        ChannelKind::Email => &["password"],
        ChannelKind::Webhook => &["url", "secret"],
        ChannelKind::Webpush => &["endpoint", "p256dh", "auth"],
    }
}

/// A channel's full settings (secrets in the clear: only in memory, never logged).
#[derive(Clone, PartialEq)]
pub struct Config {
    pub kind: ChannelKind,
    pub map: Map<String, Value>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("kind", &self.kind)
            .field("config", &self.masked())
            .finish()
    }
}

impl Config {
    /// A string setting ("" when absent).
    pub fn text(&self, key: &str) -> &str {
        self.map.get(key).and_then(Value::as_str).unwrap_or("")
    }

    /// An optional string setting.
    pub fn opt(&self, key: &str) -> Option<&str> {
        self.map
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn number(&self, key: &str) -> Option<u64> {
        self.map.get(key).and_then(Value::as_u64)
    }

    pub fn list(&self, key: &str) -> Vec<String> {
        match self.map.get(key) {
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// The public settings and the secrets, apart.
    pub fn split(&self) -> (Map<String, Value>, Map<String, Value>) {
        let secret = secret_fields(self.kind);
        let mut public = Map::new();
        let mut secrets = Map::new();
        for (k, v) in &self.map {
            if secret.contains(&k.as_str()) {
                secrets.insert(k.clone(), v.clone());
            } else {
                public.insert(k.clone(), v.clone());
            }
        }
        (public, secrets)
    }

    /// The settings with every secret masked.
    pub fn masked(&self) -> Value {
        let secret = secret_fields(self.kind);
        let mut out = Map::new();
        for (k, v) in &self.map {
            let v = match v {
                Value::String(s) if secret.contains(&k.as_str()) && !s.is_empty() => Value::String(mask(s)),
                other => other.clone(),
            };
            out.insert(k.clone(), v);
        }
        Value::Object(out)
    }

    /// Every secret value, for scrubbing them out of provider answers and errors.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = secret_fields(self.kind)
            .iter()
            .filter_map(|k| self.opt(k).map(str::to_owned))
            .filter(|s| s.len() >= 4)
            .collect();
        // A bot token also appears URL-encoded in paths; its numeric half alone is not secret.
        out.sort_by_key(|s| std::cmp::Reverse(s.len()));
        out
    }
}

/// `••••` and the last four characters (none of a short secret); a URL as its origin and `/••••`.
pub fn mask(secret: &str) -> String {
    if let Ok(url) = reqwest::Url::parse(secret)
        && matches!(url.scheme(), "http" | "https")
    {
        return format!("{}/{MASK}", crate::outbound::shown(&url));
    }
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return MASK.to_string();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{MASK}{tail}")
}

/// Whether a value is a masked secret sent back.
pub fn is_masked(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.contains(MASK))
}

/// Checks `raw` (a JSON object) as the settings of `kind`; `stored`: the channel's current settings
/// (a `PUT`), whose secrets replace masked ones sent back. The normalised settings.
pub fn validate(
    kind: ChannelKind,
    raw: &Value,
    stored: Option<&Config>,
    outbound: &Outbound,
) -> Result<Config, ConfigError> {
    let Value::Object(obj) = raw else {
        return Err(bad("config", "must be a JSON object", "JSON 객체여야 합니다"));
    };
    let mut obj = obj.clone();
    if let Some(stored) = stored.filter(|s| s.kind == kind) {
        for key in secret_fields(kind) {
            if obj.get(*key).is_some_and(is_masked)
                && let Some(v) = stored.map.get(*key)
            {
                obj.insert((*key).to_string(), v.clone());
            }
        }
    }
    for key in secret_fields(kind) {
        if obj.get(*key).is_some_and(is_masked) {
            return Err(bad(
                field(key),
                "is a masked value: send the secret itself",
                "가려진 값입니다: 실제 값을 입력하세요",
            ));
        }
    }
    let allowed: &[&str] = match kind {
        ChannelKind::Telegram => &["bot_token", "chat_id", "api_url"],
        ChannelKind::Discord | ChannelKind::Slack => &["url"],
        ChannelKind::Ntfy => &["server", "topic", "token"],
        ChannelKind::Email => &["host", "port", "tls", "username", "password", "from", "to"],
        ChannelKind::Webhook => &["url", "secret"],
        ChannelKind::Webpush => &["endpoint", "p256dh", "auth"],
    };
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(
            "config",
            format!(
                "unknown setting {k:?} for {} (known: {})",
                kind.as_str(),
                allowed.join(", ")
            ),
            format!(
                "{}에 없는 설정입니다: {k:?} (가능: {})",
                kind.as_str(),
                allowed.join(", ")
            ),
        ));
    }
    let get = |key: &'static str| -> Result<Option<String>, ConfigError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(bad(field(key), "must be a string", "문자열이어야 합니다")),
        }
    };
    let need = |key: &'static str| -> Result<String, ConfigError> {
        get(key)?.ok_or_else(|| bad(field(key), "is required", "필수 항목입니다"))
    };
    let url = |key: &'static str, value: &str| -> Result<String, ConfigError> {
        outbound.check(value).map_err(|e| refused(field(key), e))?;
        Ok(value.trim_end_matches('/').to_string())
    };
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    match kind {
        ChannelKind::Telegram => {
            let token = need("bot_token")?;
            let ok = token.split_once(':').is_some_and(|(id, rest)| {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && rest.len() >= 20
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
            if !ok {
                return Err(bad(
                    "bot_token",
                    "is not a Telegram bot token (123456789:AA…, from @BotFather)",
                    "텔레그램 봇 토큰 형식이 아닙니다 (@BotFather가 준 123456789:AA… 형태)",
                ));
            }
            let chat = need("chat_id")?;
            let numeric = chat.strip_prefix('-').unwrap_or(&chat);
            let ok = (!numeric.is_empty() && numeric.bytes().all(|b| b.is_ascii_digit()))
                || (chat.starts_with('@')
                    && chat.len() > 5
                    && chat[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
            if !ok {
                return Err(bad(
                    "chat_id",
                    "must be a chat id (a number, -100… for a group or channel) or @channelname",
                    "chat_id는 숫자(그룹·채널은 -100…) 또는 @채널이름이어야 합니다",
                ));
            }
            let api = get("api_url")?.unwrap_or_else(|| TELEGRAM_API.to_string());
            put("bot_token", Value::String(token));
            put("chat_id", Value::String(chat));
            put("api_url", Value::String(url("api_url", &api)?));
        }
        ChannelKind::Discord | ChannelKind::Slack => {
            let u = need("url")?;
            put("url", Value::String(url("url", &u)?));
        }
        ChannelKind::Ntfy => {
            let server = need("server")?;
            put("server", Value::String(url("server", &server)?));
            let topic = need("topic")?;
            if topic.len() > 64
                || !topic
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(bad(
                    "topic",
                    "must be 1-64 letters, digits, - or _",
                    "토픽은 영문자·숫자·-·_ 1~64자여야 합니다",
                ));
            }
            put("topic", Value::String(topic));
            put("token", get("token")?.map(Value::String).unwrap_or(Value::Null));
        }
        ChannelKind::Email => {
            let host = need("host")?;
            crate::outbound::check_host(&host, outbound.policy()).map_err(|e| refused("host", e))?;
            let tls = get("tls")?.unwrap_or_else(|| "starttls".into());
            let default_port = match tls.as_str() {
                "none" => 25,
                "starttls" => 587,
                "tls" => 465,
                _ => {
                    return Err(bad(
                        "tls",
                        "must be \"none\", \"starttls\" or \"tls\"",
                        "tls는 \"none\", \"starttls\", \"tls\" 중 하나여야 합니다",
                    ));
                }
            };
            let port = match get("port")? {
                None => default_port,
                Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    bad(
                        "port",
                        "must be a port number (1-65535)",
                        "포트 번호(1~65535)여야 합니다",
                    )
                })?,
            };
            let username = get("username")?;
            let password = get("password")?;
            if username.is_some() != password.is_some() {
                return Err(bad(
                    "password",
                    "username and password go together",
                    "사용자 이름과 비밀번호는 함께 입력해야 합니다",
                ));
            }
            let from = need("from")?;
            mailbox("from", &from)?;
            let to: Vec<String> = match obj.get("to") {
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| v.as_str().map(|s| s.trim().to_string()))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| bad("to", "must be addresses", "주소 목록이어야 합니다"))?,
                _ => need("to")?
                    .split([',', ';'])
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            };
            if to.is_empty() || to.len() > 20 {
                return Err(bad(
                    "to",
                    "needs 1 to 20 addresses",
                    "받는 주소가 1~20개 필요합니다",
                ));
            }
            for t in &to {
                mailbox("to", t)?;
            }
            put("host", Value::String(host));
            put("port", Value::from(port));
            put("tls", Value::String(tls));
            put("username", username.map(Value::String).unwrap_or(Value::Null));
            put("password", password.map(Value::String).unwrap_or(Value::Null));
            put("from", Value::String(from));
            put("to", Value::Array(to.into_iter().map(Value::String).collect()));
        }
        ChannelKind::Webhook => {
            let u = need("url")?;
            put("url", Value::String(url("url", &u)?));
            put("secret", get("secret")?.map(Value::String).unwrap_or(Value::Null));
        }
        ChannelKind::Webpush => {
            let e = need("endpoint")?;
            put("endpoint", Value::String(url("endpoint", &e)?));
            for key in ["p256dh", "auth"] {
                let v = need(if key == "auth" { "auth" } else { "p256dh" })?;
                if crate::channels::push::decode_b64url(&v).is_none() {
                    return Err(bad(field(key), "must be base64url", "base64url이어야 합니다"));
                }
                put(key, Value::String(v));
            }
        }
    }
    Ok(Config { kind, map: out })
}

/// The field name as a `'static` (for errors).
fn field(key: &str) -> &'static str {
    [
        "bot_token",
        "chat_id",
        "api_url",
        "url",
        "server",
        "topic",
        "token",
        "host",
        "port",
        "tls",
        "username",
        "password",
        "from",
        "to",
        "secret",
        "endpoint",
        "p256dh",
        "auth",
    ]
    .into_iter()
    .find(|k| *k == key)
    .unwrap_or("config")
}

/// An e-mail address (`name@host`, or `Name <name@host>`), as lettre parses it.
fn mailbox(field: &'static str, s: &str) -> Result<(), ConfigError> {
    s.parse::<lettre::message::Mailbox>().map(|_| ()).map_err(|e| {
        bad(
            field,
            format!("{s:?} is not an e-mail address ({e})"),
            format!("{s:?}은(는) 이메일 주소가 아닙니다"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::OutboundPolicy;
    use serde_json::json;

    fn outbound() -> Outbound {
        Outbound::new(OutboundPolicy::default())
    }

    #[test]
    fn secrets_are_masked_and_a_masked_value_sent_back_keeps_the_stored_one() {
        let raw = json!({"bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "chat_id": -1001234567890i64});
        let c = validate(ChannelKind::Telegram, &raw, None, &outbound()).unwrap();
        assert_eq!(c.text("chat_id"), "-1001234567890");
        assert_eq!(c.text("api_url"), TELEGRAM_API);
        let masked = c.masked();
        assert_eq!(masked["bot_token"], "••••Dsaw");
        assert!(!masked.to_string().contains("AAHdq"));
        let again = validate(ChannelKind::Telegram, &masked, Some(&c), &outbound()).unwrap();
        assert_eq!(again.text("bot_token"), c.text("bot_token"));
        let e = validate(ChannelKind::Telegram, &masked, None, &outbound()).unwrap_err();
        assert_eq!(e.field, "bot_token");
        let url = json!({"url": "https://discord.com/api/webhooks/123/abcdefSECRET"});
        let d = validate(ChannelKind::Discord, &url, None, &outbound()).unwrap();
        assert_eq!(d.masked()["url"], "https://discord.com/••••");
        assert!(!format!("{d:?}").contains("SECRET"));
    }

    #[test]
    fn destinations_go_through_the_outgoing_url_policy() {
        let e = validate(
            ChannelKind::Slack,
            &json!({"url": "http://169.254.169.254/x"}),
            None,
            &outbound(),
        )
        .unwrap_err();
        assert!(e.en.contains("cloud metadata"), "{e}");
        let e = validate(
            ChannelKind::Email,
            &json!({"host": "127.0.0.1", "from": "a@b.kr", "to": "c@d.kr"}),
            None,
            &outbound(),
        )
        .unwrap_err();
        assert!(e.en.contains("loopback"), "{e}");
        let ok = Outbound::new(OutboundPolicy { allow_private: true });
        let c = validate(
            ChannelKind::Email,
            &json!({"host": "127.0.0.1", "tls": "none", "from": "kiswatch <a@b.kr>", "to": "c@d.kr, e@f.kr"}),
            None,
            &ok,
        )
        .unwrap();
        assert_eq!(c.number("port"), Some(25));
        assert_eq!(c.list("to"), ["c@d.kr", "e@f.kr"]);
    }
}
