//! `/api/v1/channels`: where alerts go besides the browser (Telegram, Discord, Slack, ntfy, e-mail,
//! webhooks, Web Push), and the delivery log of an event (`/api/v1/triggers/{id}/deliveries`).

use serde::Serialize;
use utoipa::ToSchema;

/// The kind of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Telegram,
    Discord,
    Slack,
    Ntfy,
    Email,
    Webhook,
    /// A browser's Web Push subscription (made by the web UI's settings, not typed by hand).
    Webpush,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 7] = [
        ChannelKind::Telegram,
        ChannelKind::Discord,
        ChannelKind::Slack,
        ChannelKind::Ntfy,
        ChannelKind::Email,
        ChannelKind::Webhook,
        ChannelKind::Webpush,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "telegram",
            ChannelKind::Discord => "discord",
            ChannelKind::Slack => "slack",
            ChannelKind::Ntfy => "ntfy",
            ChannelKind::Email => "email",
            ChannelKind::Webhook => "webhook",
            ChannelKind::Webpush => "webpush",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Why a channel stopped: a permanent error from its provider (a revoked token, an unknown chat or
/// webhook). No delivery is tried while it is set; saving the channel again or a test that succeeds
/// clears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelFailing {
    pub error: String,
    /// RFC 3339.
    pub since: String,
}

/// Deliveries to a channel since the service started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelCounts {
    /// Deliveries that reached the provider (a summary counts each event it carried).
    pub delivered: u64,
    /// Attempts that failed and were tried again (network errors, 5xx, 429).
    pub retried: u64,
    /// Deliveries given up on.
    pub failed: u64,
    /// Events waiting to be delivered (stored in the outbox).
    pub pending: u64,
}

/// A channel as the API answers it: every secret (bot token, webhook URL, password, HMAC secret,
/// ntfy token and topic) masked, e.g. `••••abcd`. Sending the masked value back in a `PUT` keeps the
/// stored one.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Channel {
    pub id: u64,
    pub kind: ChannelKind,
    pub name: String,
    /// The kind's settings, secrets masked: telegram `{bot_token, chat_id, api_url}`, discord and
    /// slack `{url}`, ntfy `{server, topic, token}`, email `{host, port, tls, username, password,
    /// from, to}`, webhook `{url, secret}`, webpush `{endpoint, p256dh, auth}`.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub config: serde_json::Value,
    /// New conditions route to it unless they name their channels.
    pub default: bool,
    #[schema(required = true)]
    pub failing: Option<ChannelFailing>,
    pub counts: ChannelCounts,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /api/v1/channels/{id}/test`: what the provider answered to a test message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelTest {
    /// Whether the provider accepted it.
    pub ok: bool,
    /// The HTTP status (or SMTP reply code) the provider answered with; `null` when none came.
    #[schema(required = true)]
    pub status: Option<u16>,
    /// The provider's answer (its body or reply text, at most 1,000 characters, secrets removed).
    pub answer: String,
    /// Why it failed, in English and Korean; `null` when `ok`.
    #[schema(required = true)]
    pub error: Option<String>,
    #[schema(required = true)]
    pub error_ko: Option<String>,
}

/// Where one delivery of an event to one channel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its turn or its next attempt (kept in the store across restarts).
    Pending,
    Delivered,
    /// Given up on: a permanent error, too many attempts, or the channel failing or deleted.
    Failed,
    /// Not sent: the condition's quiet hours.
    Skipped,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
            DeliveryStatus::Skipped,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One line of an event's delivery log (`GET /api/v1/triggers/{id}/deliveries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeliveryEntry {
    pub channel_id: u64,
    pub kind: ChannelKind,
    /// The channel's name (`null` once it is deleted).
    #[schema(required = true)]
    pub channel_name: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// Sent to webhooks as `X-Kiswatch-Delivery`: the same for every attempt of this delivery.
    pub delivery_id: String,
    /// Delivered inside one message summarising a burst bigger than the channel's rate.
    pub summarized: bool,
    /// RFC 3339: when it last changed.
    pub updated_at: String,
}

/// A condition's quiet hours: no alert leaves through its channels between `start` and `end`
/// (`HH:MM`, Korean time, by the service's clock; `start` after `end` spans midnight). The browser
/// still gets every trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct QuietHours {
    pub start: String,
    pub end: String,
}

/// `GET /api/v1/push/key`: the service's VAPID public key, for `pushManager.subscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PushKey {
    /// The uncompressed P-256 public key, base64url without padding.
    pub public_key: String,
}
