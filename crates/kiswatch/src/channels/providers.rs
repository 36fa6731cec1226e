//! One message to one channel, and what the provider's answer means: delivered, rate limited (and
//! for how long, as the provider said), worth another try (network errors, timeouts, 5xx), or
//! permanent (401/403/404, an unknown chat or webhook: the channel is marked failing; a message the
//! provider refuses on its own: only that delivery fails).
//!
//! | kind | request | rate limit signalled by |
//! |---|---|---|
//! | telegram | `POST {api_url}/bot{token}/sendMessage`, HTML | 429, `parameters.retry_after` (s) |
//! | discord | `POST {url}?wait=true`, an embed | 429, `retry_after` (float s) in the body, `X-RateLimit-Remaining: 0` + `X-RateLimit-Reset-After` on any answer |
//! | slack | `POST {url}`, Block Kit | 429, `Retry-After` (s) |
//! | ntfy | `POST {server}` (JSON publish), `Authorization: Bearer` | 429 (`Retry-After` when given) |
//! | webhook | `POST {url}`, the trigger's JSON, `X-Kiswatch-Delivery`, `X-Kiswatch-Signature` | 429, `Retry-After` |
//! | webpush | `POST {endpoint}`, aes128gcm + VAPID | 429, `Retry-After`; 404/410: the subscription is gone |
//! | email | SMTP through lettre (`none`/`starttls`/`tls`), `Message-ID: <delivery id@kiswatch>` | 4xx replies (transient) |
//!
//! Every destination goes through [`Outbound`] (the outgoing-URL policy, after DNS; the SMTP host
//! through [`Outbound::resolve`]); answers and errors are scrubbed of the channel's secrets.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName};
use serde_json::{Value, json};
use sha2::Sha256;

use super::config::{Config, MASK};
use super::message::{Alert, Summary};
use super::push::{self, Vapid};
use crate::contract::ChannelKind;
use crate::outbound::{Answer, Outbound, OutboundError, Post};

/// The longest wait a provider may ask for before it is taken as a failure to retry later.
const LONGEST_PAUSE: Duration = Duration::from_secs(3600);
/// The pause assumed for a 429 that names none.
const DEFAULT_PAUSE: Duration = Duration::from_secs(5);
/// How long an SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// What is sent.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// One event: the alert, and the JSON a webhook receives.
    Alert { alert: &'a Alert, body: &'a Value },
    /// A burst, in one message.
    Summary(&'a Summary),
    /// `POST /api/v1/channels/{id}/test`.
    Test,
}

/// What the provider's answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Delivered {
        status: Option<u16>,
        answer: String,
        /// The provider said to wait this long before the next request (its quota is used up).
        pause: Option<Duration>,
    },
    RateLimited {
        status: u16,
        retry_after: Duration,
        error: String,
    },
    Transient {
        status: Option<u16>,
        error: String,
    },
    Permanent {
        status: Option<u16>,
        error: String,
        /// The channel itself is broken (a token, a chat, a webhook): mark it failing.
        channel: bool,
    },
}

/// What sending needs besides the channel.
#[derive(Clone)]
pub struct Senders {
    pub outbound: Outbound,
    pub vapid: Option<Vapid>,
}

const TEST_TEXT: &str = "✅ kiswatch 알림 테스트: 이 채널로 신호가 전달됩니다.";

/// Sends `payload` to the channel `config`.
pub async fn send(s: &Senders, config: &Config, delivery_id: &str, payload: Payload<'_>) -> Outcome {
    let out = match config.kind {
        ChannelKind::Email => email(s, config, delivery_id, payload).await,
        _ => match request(s, config, delivery_id, payload) {
            Ok(post) => match s.outbound.post(post).await {
                Ok(answer) => classify(config.kind, &answer),
                Err(e) => from_outbound(e),
            },
            Err(permanent) => permanent,
        },
    };
    scrub_outcome(out, &config.secrets())
}

fn scrub_outcome(o: Outcome, secrets: &[String]) -> Outcome {
    let s = |t: String| scrub(&t, secrets);
    match o {
        Outcome::Delivered {
            status,
            answer,
            pause,
        } => Outcome::Delivered {
            status,
            answer: s(answer),
            pause,
        },
        Outcome::RateLimited {
            status,
            retry_after,
            error,
        } => Outcome::RateLimited {
            status,
            retry_after,
            error: s(error),
        },
        Outcome::Transient { status, error } => Outcome::Transient {
            status,
            error: s(error),
        },
        Outcome::Permanent {
            status,
            error,
            channel,
        } => Outcome::Permanent {
            status,
            error: s(error),
            channel,
        },
    }
}

/// `text` with every secret replaced by `••••`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if !secret.is_empty() {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

fn from_outbound(e: OutboundError) -> Outcome {
    if e.is_transient() {
        Outcome::Transient {
            status: None,
            error: e.to_string(),
        }
    } else {
        // Refused by the policy or a redirect: the saved destination itself is wrong.
        Outcome::Permanent {
            status: None,
            error: e.to_string(),
            channel: true,
        }
    }
}

fn json_post(url: String, body: &Value) -> Post {
    Post {
        url,
        headers: vec![(CONTENT_TYPE, "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

/// The HTTP request for every kind but e-mail.
fn request(s: &Senders, c: &Config, delivery_id: &str, payload: Payload<'_>) -> Result<Post, Outcome> {
    let test_alert = || (TEST_TEXT.to_string(), "kiswatch".to_string());
    Ok(match c.kind {
        ChannelKind::Telegram => {
            let text = match payload {
                Payload::Alert { alert, .. } => alert.telegram_html(),
                Payload::Summary(sum) => sum.telegram_html(),
                Payload::Test => TEST_TEXT.to_string(),
            };
            let chat = c.text("chat_id");
            let chat: Value = chat
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(chat));
            json_post(
                format!("{}/bot{}/sendMessage", c.text("api_url"), c.text("bot_token")),
                &json!({"chat_id": chat, "text": text, "parse_mode": "HTML", "link_preview_options": {"is_disabled": true}}),
            )
        }
        ChannelKind::Discord => {
            let body = match payload {
                Payload::Alert { alert, .. } => alert.discord(),
                Payload::Summary(sum) => sum.discord(),
                Payload::Test => json!({"content": TEST_TEXT, "allowed_mentions": {"parse": []}}),
            };
            let mut url = reqwest::Url::parse(c.text("url")).map_err(|e| Outcome::Permanent {
                status: None,
                error: format!("the webhook URL does not parse: {e}"),
                channel: true,
            })?;
            url.query_pairs_mut().append_pair("wait", "true");
            json_post(url.to_string(), &body)
        }
        ChannelKind::Slack => {
            let body = match payload {
                Payload::Alert { alert, .. } => alert.slack(),
                Payload::Summary(sum) => sum.slack(),
                Payload::Test => json!({"text": TEST_TEXT}),
            };
            json_post(c.text("url").to_string(), &body)
        }
        ChannelKind::Ntfy => {
            let (title, message, click) = match payload {
                Payload::Alert { alert, .. } => (
                    alert.title(),
                    format!("{}\n{}", alert.headline(), alert.plain()),
                    alert.url.clone(),
                ),
                Payload::Summary(sum) => (sum.title(), sum.plain(), sum.url.clone()),
                Payload::Test => {
                    let (m, t) = test_alert();
                    (t, m, String::new())
                }
            };
            let mut body = json!({"topic": c.text("topic"), "title": title, "message": message, "tags": ["bell"], "priority": 4});
            if !click.is_empty() {
                body["click"] = Value::String(click);
            }
            let mut post = json_post(c.text("server").to_string(), &body);
            if let Some(token) = c.opt("token") {
                post.headers.push((AUTHORIZATION, format!("Bearer {token}")));
            }
            post
        }
        ChannelKind::Webhook => {
            let (event, body) = match payload {
                Payload::Alert { body, .. } => ("trigger", body.to_string()),
                Payload::Summary(_) => {
                    return Err(Outcome::Permanent {
                        status: None,
                        error: "webhooks are never summarised".into(),
                        channel: false,
                    });
                }
                Payload::Test => ("test", json!({"type": "test", "message": TEST_TEXT}).to_string()),
            };
            let ts = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let mut headers = vec![
                (CONTENT_TYPE, "application/json".to_string()),
                (
                    HeaderName::from_static("x-kiswatch-delivery"),
                    delivery_id.to_string(),
                ),
                (HeaderName::from_static("x-kiswatch-event"), event.to_string()),
                (HeaderName::from_static("x-kiswatch-timestamp"), ts.to_string()),
            ];
            if let Some(secret) = c.opt("secret") {
                headers.push((
                    HeaderName::from_static("x-kiswatch-signature"),
                    signature(secret, ts, body.as_bytes()),
                ));
            }
            Post {
                url: c.text("url").to_string(),
                headers,
                body: body.into_bytes(),
            }
        }
        ChannelKind::Webpush => {
            let Some(vapid) = &s.vapid else {
                return Err(Outcome::Transient {
                    status: None,
                    error: "the service's VAPID key is not available".into(),
                });
            };
            let (title, body, url) = match payload {
                Payload::Alert { alert, .. } => (alert.title(), alert.headline(), alert.url.clone()),
                Payload::Summary(sum) => (sum.title(), sum.plain(), sum.url.clone()),
                Payload::Test => ("kiswatch".to_string(), TEST_TEXT.to_string(), "/".to_string()),
            };
            let msg = json!({"title": title, "body": body, "url": url, "tag": delivery_id});
            push::request(
                c.text("endpoint"),
                c.text("p256dh"),
                c.text("auth"),
                msg.to_string().as_bytes(),
                vapid,
            )
            .map_err(|error| Outcome::Permanent {
                status: None,
                error,
                channel: true,
            })?
        }
        ChannelKind::Email => unreachable!("e-mail goes through SMTP"),
    })
}

/// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: what a webhook receiver recomputes.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn body_text(a: &Answer) -> String {
    let text = String::from_utf8_lossy(&a.body);
    let text: String = text.chars().take(1000).collect();
    text
}

fn seconds_header(a: &Answer, name: &str) -> Option<Duration> {
    a.header(name)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(LONGEST_PAUSE.as_secs_f64())))
}

/// Reads a provider's answer.
pub fn classify(kind: ChannelKind, a: &Answer) -> Outcome {
    let text = body_text(a);
    let json: Option<Value> = serde_json::from_slice(&a.body).ok();
    let status = a.status;
    let what = |detail: &str| format!("HTTP {status}: {detail}");
    if a.is_success() {
        // Telegram says `ok: false` only with an error status, but be sure.
        if kind == ChannelKind::Telegram && json.as_ref().is_some_and(|j| j["ok"] == false) {
            return Outcome::Transient {
                status: Some(status),
                error: what(&text),
            };
        }
        let pause = (kind == ChannelKind::Discord
            && a.header("x-ratelimit-remaining").map(str::trim) == Some("0"))
        .then(|| seconds_header(a, "x-ratelimit-reset-after"))
        .flatten();
        return Outcome::Delivered {
            status: Some(status),
            answer: text,
            pause,
        };
    }
    let description = json
        .as_ref()
        .and_then(|j| {
            j.get("description")
                .or_else(|| j.get("message"))
                .or_else(|| j.get("error"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| text.trim().to_string());
    if status == 429 {
        let from_body = json.as_ref().and_then(|j| match kind {
            ChannelKind::Telegram => j["parameters"]["retry_after"].as_f64(),
            _ => j["retry_after"].as_f64(),
        });
        let retry_after = from_body
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(LONGEST_PAUSE.as_secs_f64())))
            .or_else(|| seconds_header(a, "retry-after"))
            .or_else(|| seconds_header(a, "x-ratelimit-reset-after"))
            .unwrap_or(DEFAULT_PAUSE);
        return Outcome::RateLimited {
            status,
            retry_after,
            error: what(&description),
        };
    }
    if status >= 500 || status == 408 {
        return Outcome::Transient {
            status: Some(status),
            error: what(&description),
        };
    }
    let lower = description.to_ascii_lowercase();
    let channel = match status {
        401 | 403 | 404 | 410 => true,
        400 if kind == ChannelKind::Telegram => [
            "chat not found",
            "chat_id_invalid",
            "peer_id_invalid",
            "bot was kicked",
            "not enough rights",
            "group chat was upgraded",
            "user not found",
        ]
        .iter()
        .any(|p| lower.contains(p)),
        _ => false,
    };
    let mut error = what(&description);
    if let Some(to) = json
        .as_ref()
        .and_then(|j| j["parameters"]["migrate_to_chat_id"].as_i64())
    {
        error.push_str(&format!(" (the group is now chat {to}: save that chat_id)"));
    }
    Outcome::Permanent {
        status: Some(status),
        error,
        channel,
    }
}

async fn email(s: &Senders, c: &Config, delivery_id: &str, payload: Payload<'_>) -> Outcome {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let (subject, body) = match payload {
        Payload::Alert { alert, .. } => (
            format!("[kiswatch] {} · {}", alert.title(), alert.headline()),
            format!("{}\n{}\n\n{}", alert.title(), alert.headline(), alert.plain()),
        ),
        Payload::Summary(sum) => (format!("[kiswatch] {}", sum.title()), sum.plain()),
        Payload::Test => ("[kiswatch] 알림 테스트".to_string(), TEST_TEXT.to_string()),
    };
    let permanent = |error: String| Outcome::Permanent {
        status: None,
        error,
        channel: true,
    };
    let mut builder = Message::builder()
        .subject(subject)
        .message_id(Some(format!("<{delivery_id}@kiswatch>")))
        .header(ContentType::TEXT_PLAIN);
    match c.text("from").parse() {
        Ok(m) => builder = builder.from(m),
        Err(e) => return permanent(format!("from: {e}")),
    }
    for to in c.list("to") {
        match to.parse() {
            Ok(m) => builder = builder.to(m),
            Err(e) => return permanent(format!("to: {e}")),
        }
    }
    let message = match builder.body(body) {
        Ok(m) => m,
        Err(e) => return permanent(format!("the message: {e}")),
    };
    let host = c.text("host").to_string();
    // The policy after DNS, as for HTTP: connect to an address it allowed.
    let ip = match s.outbound.resolve(&host).await {
        Ok(ips) => ips[0],
        Err(e) => return from_outbound(e),
    };
    let port = c.number("port").unwrap_or(587) as u16;
    let tls = match c.text("tls") {
        "none" => Tls::None,
        mode => match TlsParameters::new(host.clone()) {
            Ok(p) if mode == "tls" => Tls::Wrapper(p),
            Ok(p) => Tls::Required(p),
            Err(e) => return permanent(format!("TLS for {host}: {e}")),
        },
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(ip.to_string())
        .port(port)
        .tls(tls)
        .timeout(Some(SMTP_TIMEOUT));
    if let (Some(u), Some(p)) = (c.opt("username"), c.opt("password")) {
        transport = transport.credentials(Credentials::new(u.to_string(), p.to_string()));
    }
    let transport = transport.build();
    let shown = format!("smtp://{host}:{port}");
    match tokio::time::timeout(SMTP_TIMEOUT * 2, transport.send(message)).await {
        Err(_) => Outcome::Transient {
            status: None,
            error: format!("{shown}: no answer within {} s", (SMTP_TIMEOUT * 2).as_secs()),
        },
        Ok(Ok(response)) => Outcome::Delivered {
            status: response.code().to_string().parse().ok(),
            answer: response.message().collect::<Vec<_>>().join(" "),
            pause: None,
        },
        Ok(Err(e)) => {
            let status = e.status().and_then(|c| c.to_string().parse().ok());
            let error = format!("{shown}: {e}");
            if e.is_permanent() {
                Outcome::Permanent {
                    status,
                    error,
                    channel: true,
                }
            } else {
                Outcome::Transient { status, error }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str, headers: &[(&'static str, &str)]) -> Answer {
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().unwrap());
        }
        Answer {
            status,
            headers: map,
            body: body.as_bytes().to_vec(),
            truncated: false,
        }
    }

    #[test]
    fn providers_answers_mean_what_their_documentation_says() {
        let tg = answer(
            429,
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#,
            &[],
        );
        assert!(
            matches!(classify(ChannelKind::Telegram, &tg), Outcome::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(7))
        );
        let dc = answer(
            429,
            r#"{"message":"You are being rate limited.","retry_after":0.529,"global":false}"#,
            &[("retry-after", "1")],
        );
        assert!(
            matches!(classify(ChannelKind::Discord, &dc), Outcome::RateLimited { retry_after, .. } if retry_after == Duration::from_secs_f64(0.529))
        );
        let slack = answer(429, "rate_limited", &[("retry-after", "3")]);
        assert!(
            matches!(classify(ChannelKind::Slack, &slack), Outcome::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(3))
        );
        let full = answer(
            204,
            "",
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset-after", "1.5")],
        );
        assert!(
            matches!(classify(ChannelKind::Discord, &full), Outcome::Delivered { pause: Some(p), .. } if p == Duration::from_millis(1500))
        );
        let chat = answer(
            400,
            r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
            &[],
        );
        assert!(matches!(
            classify(ChannelKind::Telegram, &chat),
            Outcome::Permanent { channel: true, .. }
        ));
        let parse = answer(
            400,
            r#"{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities"}"#,
            &[],
        );
        assert!(matches!(
            classify(ChannelKind::Telegram, &parse),
            Outcome::Permanent { channel: false, .. }
        ));
        assert!(matches!(
            classify(ChannelKind::Slack, &answer(404, "no_service", &[])),
            Outcome::Permanent { channel: true, .. }
        ));
        assert!(matches!(
            classify(ChannelKind::Ntfy, &answer(502, "bad gateway", &[])),
            Outcome::Transient { .. }
        ));
        assert!(matches!(
            classify(ChannelKind::Webpush, &answer(410, "", &[])),
            Outcome::Permanent { channel: true, .. }
        ));
    }

    #[test]
    fn a_webhook_signature_is_hmac_sha256_of_timestamp_and_body() {
        // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
        assert_eq!(
            signature("s3cret", 1_700_000_000, br#"{"a":1}"#),
            "sha256=".to_string()
                + &{
                    let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
                    mac.update(br#"1700000000.{"a":1}"#);
                    mac.finalize()
                        .into_bytes()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                }
        );
        assert_eq!(scrub("bot123:ABC failed", &["123:ABC".into()]), "bot•••• failed");
    }
}
