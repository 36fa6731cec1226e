//! Alert channels: where a trigger goes besides the browser — Telegram, Discord, Slack, ntfy,
//! e-mail, webhooks and Web Push — and the outbox that delivers it there.
//!
//! ```text
//! Evaluator ── Recorder::record ── Channels::route (the condition's channels, quiet hours)
//!     ──▶ store: the trigger and one outbox row per channel, one transaction
//!     ──▶ Channels::enqueued ──▶ outbox worker of each channel (rate, summary, retries) ──▶ providers ──▶ Outbound
//! ```
//!
//! * [`config`]: each kind's settings, validated (every destination through [`Outbound`]'s
//!   policy), split into public settings and secrets, masked in answers.
//! * [`seal`]: secrets sealed at rest (AES-256-GCM, `<data-dir>/secrets.key`, mode 0600).
//! * [`message`]: the Korean lock-screen text and each provider's formatting.
//! * [`providers`]: one request per kind and what the provider's answer means.
//! * [`limits`]: each provider's rate, and the pauses providers ask for.
//! * [`outbox`]: the dispatcher: at least once, pending deliveries survive restarts, retries with
//!   backoff and jitter, 429s honoured, bursts summarised, permanent errors mark the channel
//!   failing.
//! * [`push`]: Web Push (VAPID key, encryption).
//!
//! [`Channels`] is the handle the API and the trigger side share.

pub mod config;
pub mod limits;
pub mod message;
pub mod outbox;
pub mod providers;
pub mod push;
pub mod seal;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;
use tokio::sync::Notify;

use crate::contract::{
    Channel, ChannelCounts, ChannelKind, ChannelTest, DeliveryEntry, DeliveryStatus, Fired, HealthChannel,
    QuietHours,
};
use crate::outbound::Outbound;
use crate::store::{ChannelRow, EventKind, NewChannel, NewCondition, OutboxRow, Routed, Store, StoreError};
use crate::tasks::Tasks;
use config::{Config, ConfigError};
use providers::{Outcome, Payload, Senders};
use push::Vapid;
use seal::Sealer;

/// Errors of the channel service.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no channel {0}")]
    NotFound(u64),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Seal(#[from] seal::SealError),
}

/// A channel as the trigger path routes to it (kept in memory, refreshed on every change).
#[derive(Debug, Clone)]
struct Known {
    kind: ChannelKind,
    failing: Option<String>,
    /// The masked URL of a webhook channel (a condition's legacy `webhook` field).
    masked_url: Option<String>,
}

/// What a channel save asks for.
#[derive(Debug, Clone)]
pub struct ChannelSpec {
    pub kind: ChannelKind,
    pub name: String,
    pub config: Value,
    pub default: bool,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) sealer: Sealer,
    pub(crate) senders: Senders,
    /// The web UI's public base URL, for links in messages.
    pub(crate) public_url: String,
    known: RwLock<HashMap<u64, Known>>,
    pub(crate) counts: Mutex<HashMap<u64, ChannelCounts>>,
    /// Wakes the dispatcher: new deliveries, a channel saved.
    pub(crate) wake: Notify,
    pub(crate) tasks: Tasks,
    pub(crate) timing: outbox::Timing,
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Channels {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels").finish()
    }
}

impl Channels {
    /// The service for `store`: opens (or makes) the Web Push key, moves legacy webhooks into
    /// channels, and starts the dispatcher.
    pub async fn start(
        store: Store,
        outbound: Outbound,
        sealer: Sealer,
        public_url: String,
        tasks: Tasks,
    ) -> Result<Channels, ChannelError> {
        Channels::start_with(
            store,
            outbound,
            sealer,
            public_url,
            tasks,
            outbox::Timing::default(),
        )
        .await
    }

    /// With the dispatcher's timing (tests shorten the backoff).
    pub async fn start_with(
        store: Store,
        outbound: Outbound,
        sealer: Sealer,
        public_url: String,
        tasks: Tasks,
        timing: outbox::Timing,
    ) -> Result<Channels, ChannelError> {
        let vapid = match Vapid::load_or_create(&store, &sealer).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %e, "channels: no Web Push key (the store cannot write); Web Push is off");
                None
            }
        };
        let channels = Channels {
            inner: Arc::new(Inner {
                store,
                sealer,
                senders: Senders { outbound, vapid },
                public_url: public_url.trim_end_matches('/').to_string(),
                known: RwLock::new(HashMap::new()),
                counts: Mutex::new(HashMap::new()),
                wake: Notify::new(),
                tasks: tasks.clone(),
                timing,
            }),
        };
        channels.refresh().await?;
        if let Err(e) = channels.adopt_legacy_webhooks().await {
            tracing::error!(error = %e, "channels: moving legacy webhooks into channels failed");
        }
        tasks.spawn(outbox::run(channels.clone()));
        Ok(channels)
    }

    /// The Web Push public key, when Web Push is on.
    pub fn push_key(&self) -> Option<String> {
        self.inner
            .senders
            .vapid
            .as_ref()
            .map(|v| v.public_key().to_string())
    }

    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// Re-reads the channels the trigger path routes to.
    async fn refresh(&self) -> Result<(), StoreError> {
        let rows = self.inner.store.channels().await?;
        let mut known = HashMap::new();
        for r in rows {
            let masked_url = (r.spec.kind == ChannelKind::Webhook)
                .then(|| {
                    self.config_of(&r)
                        .ok()
                        .map(|c| c.masked()["url"].as_str().unwrap_or("").to_string())
                })
                .flatten();
            known.insert(
                r.id,
                Known {
                    kind: r.spec.kind,
                    failing: r.failing.as_ref().map(|f| f.error.clone()),
                    masked_url,
                },
            );
        }
        *self.inner.known.write().unwrap_or_else(|p| p.into_inner()) = known;
        self.inner.wake.notify_one();
        Ok(())
    }

    /// A stored channel's full settings (secrets opened).
    pub(crate) fn config_of(&self, r: &ChannelRow) -> Result<Config, ChannelError> {
        let public: serde_json::Map<String, Value> = serde_json::from_str(&r.spec.config).unwrap_or_default();
        let secrets: serde_json::Map<String, Value> =
            serde_json::from_str(&self.inner.sealer.open_text(&r.spec.secrets)?).unwrap_or_default();
        let mut map = public;
        map.extend(secrets);
        Ok(Config {
            kind: r.spec.kind,
            map,
        })
    }

    fn to_contract(&self, r: &ChannelRow, pending: u64) -> Channel {
        let config = match self.config_of(r) {
            Ok(c) => c.masked(),
            Err(e) => serde_json::json!({"error": e.to_string()}),
        };
        let mut counts = self.counts(r.id);
        counts.pending = pending;
        Channel {
            id: r.id,
            kind: r.spec.kind,
            name: r.spec.name.clone(),
            config,
            default: r.spec.default,
            failing: r.failing.clone(),
            counts,
            created_at: r.created_at.clone(),
            updated_at: r.updated_at.clone(),
        }
    }

    fn counts(&self, id: u64) -> ChannelCounts {
        self.inner
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }

    pub async fn list(&self) -> Result<Vec<Channel>, ChannelError> {
        let pending: HashMap<u64, u64> = self.inner.store.pending_counts().await?.into_iter().collect();
        let rows = self.inner.store.channels().await?;
        Ok(rows
            .iter()
            .map(|r| self.to_contract(r, pending.get(&r.id).copied().unwrap_or(0)))
            .collect())
    }

    /// The stored row of channel `id`, or `NotFound`.
    async fn stored(&self, id: u64) -> Result<ChannelRow, ChannelError> {
        self.inner
            .store
            .channel(id)
            .await?
            .ok_or(ChannelError::NotFound(id))
    }

    pub async fn get(&self, id: u64) -> Result<Channel, ChannelError> {
        let row = self.stored(id).await?;
        let pending = self
            .inner
            .store
            .pending_counts()
            .await?
            .into_iter()
            .find(|(c, _)| *c == id)
            .map_or(0, |(_, n)| n);
        Ok(self.to_contract(&row, pending))
    }

    fn seal(&self, spec: &ChannelSpec, config: &Config) -> NewChannel {
        let (public, secrets) = config.split();
        NewChannel {
            kind: spec.kind,
            name: spec.name.clone(),
            config: Value::Object(public).to_string(),
            secrets: self.inner.sealer.seal(&Value::Object(secrets).to_string()),
            default: spec.default,
        }
    }

    fn check_name(spec: &mut ChannelSpec) -> Result<(), ChannelError> {
        spec.name = spec.name.trim().to_string();
        if spec.name.is_empty() {
            spec.name = match spec.kind {
                ChannelKind::Telegram => "텔레그램",
                ChannelKind::Discord => "디스코드",
                ChannelKind::Slack => "슬랙",
                ChannelKind::Ntfy => "ntfy",
                ChannelKind::Email => "이메일",
                ChannelKind::Webhook => "웹훅",
                ChannelKind::Webpush => "웹 푸시",
            }
            .to_string();
        }
        if spec.name.chars().count() > 100 {
            return Err(ChannelError::Invalid("name is longer than 100 characters".into()));
        }
        Ok(())
    }

    pub async fn create(&self, mut spec: ChannelSpec) -> Result<Channel, ChannelError> {
        Self::check_name(&mut spec)?;
        let config = config::validate(spec.kind, &spec.config, None, &self.inner.senders.outbound)?;
        let row = self.inner.store.add_channel(self.seal(&spec, &config)).await?;
        self.refresh().await?;
        tracing::info!(
            id = row.id,
            kind = spec.kind.as_str(),
            "channels: saved a new channel"
        );
        Ok(self.to_contract(&row, 0))
    }

    /// Replaces a channel's settings; masked secrets sent back keep the stored ones. Clears its
    /// failing mark.
    pub async fn update(&self, id: u64, mut spec: ChannelSpec) -> Result<Channel, ChannelError> {
        Self::check_name(&mut spec)?;
        let row = self.stored(id).await?;
        let stored = self.config_of(&row).ok();
        let config = config::validate(
            spec.kind,
            &spec.config,
            stored.as_ref(),
            &self.inner.senders.outbound,
        )?;
        let row = self
            .inner
            .store
            .update_channel(id, self.seal(&spec, &config))
            .await?
            .ok_or(ChannelError::NotFound(id))?;
        self.refresh().await?;
        self.get(row.id).await
    }

    pub async fn delete(&self, id: u64) -> Result<(), ChannelError> {
        if !self.inner.store.delete_channel(id).await? {
            return Err(ChannelError::NotFound(id));
        }
        self.refresh().await?;
        Ok(())
    }

    /// Sends a test message now (outside the outbox and its rate) and says what the provider
    /// answered; a success clears the channel's failing mark.
    pub async fn test(&self, id: u64) -> Result<ChannelTest, ChannelError> {
        let row = self.stored(id).await?;
        let config = self.config_of(&row)?;
        let delivery_id = format!("test-{:016x}", rand::random::<u64>());
        let outcome = providers::send(&self.inner.senders, &config, &delivery_id, Payload::Test).await;
        let result = match outcome {
            Outcome::Delivered { status, answer, .. } => ChannelTest {
                ok: true,
                status,
                answer,
                error: None,
                error_ko: None,
            },
            Outcome::RateLimited {
                status,
                error,
                retry_after,
            } => ChannelTest {
                ok: false,
                status: Some(status),
                answer: error.clone(),
                error: Some(format!(
                    "rate limited: try again in {:.1} s ({error})",
                    retry_after.as_secs_f64()
                )),
                error_ko: Some(format!(
                    "전송 한도 초과: {:.1}초 뒤 다시 시도하세요 ({error})",
                    retry_after.as_secs_f64()
                )),
            },
            Outcome::Transient { status, error } => ChannelTest {
                ok: false,
                status,
                answer: error.clone(),
                error: Some(format!("not delivered, may pass: {error}")),
                error_ko: Some(format!("전송 실패(일시적일 수 있음): {error}")),
            },
            Outcome::Permanent { status, error, .. } => ChannelTest {
                ok: false,
                status,
                answer: error.clone(),
                error: Some(format!("refused by the provider: {error}")),
                error_ko: Some(format!("제공자가 거절했습니다: {error}")),
            },
        };
        if result.ok && row.failing.is_some() {
            self.inner.store.set_channel_failing(id, None).await?;
            self.refresh().await?;
        }
        tracing::info!(id, ok = result.ok, status = ?result.status, "channels: test message");
        Ok(result)
    }

    /// Where a trigger of `condition` goes: each of its channels, pending — or skipped inside its
    /// quiet hours (by the service's clock, Korean time), failed at once for a channel that is
    /// failing or gone.
    pub fn route(&self, condition: &NewCondition) -> Vec<Routed> {
        let known = self.inner.known.read().unwrap_or_else(|p| p.into_inner());
        let quiet = condition
            .quiet_hours
            .as_ref()
            .is_some_and(|q| in_quiet_hours(q, now_minutes()));
        let mut out = Vec::new();
        for id in &condition.channels {
            let Some(k) = known.get(id) else {
                continue;
            };
            let (status, last_error) = if let Some(f) = &k.failing {
                (
                    DeliveryStatus::Failed,
                    Some(format!("the channel is failing: {f}")),
                )
            } else if quiet {
                (
                    DeliveryStatus::Skipped,
                    Some("quiet hours (방해 금지 시간)".to_string()),
                )
            } else {
                (DeliveryStatus::Pending, None)
            };
            out.push(Routed {
                channel_id: *id,
                kind: k.kind,
                status,
                last_error,
            });
        }
        out
    }

    /// Deliveries just stored with their event: the dispatcher takes them.
    pub fn enqueued(&self, rows: &[OutboxRow]) {
        let mut failed = HashMap::<u64, u64>::new();
        for r in rows {
            if r.status == DeliveryStatus::Failed {
                *failed.entry(r.channel_id).or_default() += 1;
            }
        }
        if !failed.is_empty() {
            let mut counts = self.inner.counts.lock().unwrap_or_else(|p| p.into_inner());
            for (id, n) in failed {
                counts.entry(id).or_default().failed += n;
            }
        }
        if rows.iter().any(|r| r.status == DeliveryStatus::Pending) {
            self.inner.wake.notify_one();
        }
    }

    /// A trigger the store could not take: delivered from memory, a few attempts, no log.
    pub fn deliver_unstored(&self, trigger: Arc<Fired>, routes: Vec<Routed>) {
        for r in routes.into_iter().filter(|r| r.status == DeliveryStatus::Pending) {
            let this = self.clone();
            let trigger = trigger.clone();
            self.inner
                .tasks
                .spawn(async move { outbox::send_unstored(this, trigger, r.channel_id).await });
        }
    }

    /// An event's delivery log.
    pub async fn deliveries(&self, trigger_id: u64) -> Result<Vec<DeliveryEntry>, StoreError> {
        self.inner.store.deliveries(EventKind::Trigger, trigger_id).await
    }

    /// Every channel's counts and failing state, for health and metrics.
    pub async fn health(&self) -> Vec<HealthChannel> {
        let pending: HashMap<u64, u64> = self
            .inner
            .store
            .pending_counts()
            .await
            .unwrap_or_default()
            .into_iter()
            .collect();
        let known = self.inner.known.read().unwrap_or_else(|p| p.into_inner()).clone();
        let rows = self.inner.store.channels().await.unwrap_or_default();
        let mut out: Vec<HealthChannel> = rows
            .into_iter()
            .filter(|r| known.contains_key(&r.id))
            .map(|r| {
                let mut counts = self.counts(r.id);
                counts.pending = pending.get(&r.id).copied().unwrap_or(0);
                HealthChannel {
                    id: r.id,
                    kind: r.spec.kind,
                    name: r.spec.name,
                    failing: r.failing,
                    counts,
                }
            })
            .collect();
        out.sort_by_key(|c| c.id);
        out
    }

    /// The masked URL of the first webhook among `ids` (a condition's legacy `webhook` field).
    pub fn webhook_of(&self, ids: &[u64]) -> Option<String> {
        let known = self.inner.known.read().unwrap_or_else(|p| p.into_inner());
        ids.iter()
            .filter_map(|id| known.get(id))
            .find(|k| k.kind == ChannelKind::Webhook)
            .and_then(|k| k.masked_url.clone())
    }

    /// Whether every id names a channel; the first that does not.
    pub fn unknown_channel(&self, ids: &[u64]) -> Option<u64> {
        let known = self.inner.known.read().unwrap_or_else(|p| p.into_inner());
        ids.iter().copied().find(|id| !known.contains_key(id))
    }

    pub async fn default_channels(&self) -> Result<Vec<u64>, StoreError> {
        self.inner.store.default_channels().await
    }

    /// The webhook channel for `url` (a condition's legacy `webhook` field): an existing one with
    /// the same URL, or a new one.
    pub async fn webhook_channel(&self, url: &str) -> Result<u64, ChannelError> {
        for r in self.inner.store.channels().await? {
            if r.spec.kind == ChannelKind::Webhook
                && let Ok(c) = self.config_of(&r)
                && c.text("url") == url.trim().trim_end_matches('/')
            {
                return Ok(r.id);
            }
        }
        let host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let created = self
            .create(ChannelSpec {
                kind: ChannelKind::Webhook,
                name: format!("웹훅 {host}").trim().to_string(),
                config: serde_json::json!({"url": url}),
                default: false,
            })
            .await?;
        Ok(created.id)
    }

    /// Conditions saved before channels existed carry a `webhook`: each becomes a webhook channel
    /// listed in the condition's channels (once; the column is cleared).
    async fn adopt_legacy_webhooks(&self) -> Result<(), ChannelError> {
        for (condition, url, mut channels) in self.inner.store.legacy_webhooks().await? {
            // Saved under an older policy, the URL may no longer be accepted: kept as it was
            // saved (the send re-checks it), as the condition's webhook was.
            let id = match self.webhook_channel(&url).await {
                Ok(id) => id,
                Err(ChannelError::Config(e)) => {
                    let spec = ChannelSpec {
                        kind: ChannelKind::Webhook,
                        name: "웹훅".into(),
                        config: serde_json::json!({"url": url}),
                        default: false,
                    };
                    tracing::warn!(condition, error = %e, "channels: a legacy webhook the policy refuses now is kept as saved");
                    let config = Config {
                        kind: ChannelKind::Webhook,
                        map: serde_json::Map::from_iter([
                            ("url".to_string(), Value::String(url.clone())),
                            ("secret".to_string(), Value::Null),
                        ]),
                    };
                    let row = self.inner.store.add_channel(self.seal(&spec, &config)).await?;
                    row.id
                }
                Err(e) => return Err(e),
            };
            if !channels.contains(&id) {
                channels.push(id);
            }
            self.inner.store.adopt_webhook(condition, channels).await?;
            tracing::info!(
                condition,
                channel = id,
                "channels: a condition's webhook is now a webhook channel"
            );
        }
        self.refresh().await?;
        Ok(())
    }

    /// Counts a settled attempt.
    pub(crate) fn count(&self, id: u64, f: impl FnOnce(&mut ChannelCounts)) {
        f(self
            .inner
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id)
            .or_default());
    }

    /// Marks a channel failing after a permanent error.
    pub(crate) async fn mark_failing(&self, id: u64, error: &str) {
        tracing::warn!(channel = id, %error, "channels: a permanent error; the channel is marked failing");
        if let Err(e) = self
            .inner
            .store
            .set_channel_failing(id, Some(error.to_string()))
            .await
        {
            tracing::error!(error = %e, "channels: could not mark the channel failing");
        }
        if let Some(k) = self
            .inner
            .known
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&id)
        {
            k.failing = Some(error.to_string());
        }
    }
}

/// Minutes since midnight, Korean time, by this machine's clock.
fn now_minutes() -> u32 {
    let now = market::time::now_kst();
    now.hour() as u32 * 60 + now.minute() as u32
}

/// `HH:MM` as minutes since midnight.
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.len() == 5).then_some(h * 60 + m)
}

/// Whether `now` (minutes since midnight) falls inside quiet hours (`start` after `end` spans
/// midnight; equal means none).
pub fn in_quiet_hours(q: &QuietHours, now: u32) -> bool {
    let (Some(s), Some(e)) = (parse_hhmm(&q.start), parse_hhmm(&q.end)) else {
        return false;
    };
    if s <= e {
        s <= now && now < e
    } else {
        now >= s || now < e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_span_midnight_when_they_start_after_they_end() {
        let q = |s: &str, e: &str| QuietHours {
            start: s.into(),
            end: e.into(),
        };
        let night = q("15:30", "09:00");
        assert!(in_quiet_hours(&night, 20 * 60));
        assert!(in_quiet_hours(&night, 8 * 60 + 59));
        assert!(!in_quiet_hours(&night, 9 * 60));
        assert!(!in_quiet_hours(&night, 15 * 60 + 29));
        let lunch = q("12:00", "13:00");
        assert!(in_quiet_hours(&lunch, 12 * 60 + 30));
        assert!(!in_quiet_hours(&lunch, 13 * 60));
        assert_eq!(parse_hhmm("9:00"), None);
        assert_eq!(parse_hhmm("24:00"), None);
    }
}
