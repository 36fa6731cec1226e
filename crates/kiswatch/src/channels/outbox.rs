//! The dispatcher: delivers the outbox's pending rows, one worker per channel, so a slow or
//! failing provider never holds up another.
//!
//! * **At least once.** A row is written with its event (one transaction) and settled only after
//!   the provider answered; nothing is marked before the request. A crash in between leaves it
//!   pending, and the next start sends it again with the same `delivery_id` (webhooks get it as
//!   `X-Kiswatch-Delivery`, e-mail as `Message-ID`): a duplicate is possible only for the request
//!   that was in flight.
//! * **One in flight per channel**, in the order the events happened, inside the channel's rate
//!   ([`super::limits`]).
//! * **A burst bigger than the rate** — more events due than the rate lets through within
//!   [`Timing::summary_horizon`] — goes as one [`Summary`] listing the stocks (webhooks excepted:
//!   they always get each event's JSON). Each event carried is logged `delivered`, `summarized`.
//! * **Retries**: network errors, timeouts and 5xx back off exponentially with full jitter (from
//!   [`Timing::first_retry`], at most [`Timing::longest_retry`]); a 429 waits exactly what the
//!   provider said and pauses the channel as long. A delivery is given up (`failed`) after
//!   [`Timing::attempts`] attempts or [`Timing::give_up_after`].
//! * **Permanent errors** (401/403/404, an unknown chat or webhook, a destination the policy
//!   refuses) fail the delivery, mark the channel failing and fail what else was pending for it; a
//!   message the provider refuses by itself (too long, say) fails only that delivery.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::limits::{Limiter, Limits};
use super::message::{Alert, Summary};
use super::providers::{self, Outcome, Payload};
use super::{ChannelError, Channels};
use crate::contract::{DeliveryStatus, Fired, Trigger, UnstoredTrigger};
use crate::store::unix_ms;
use crate::store::{EventKind, OutboxRow, StoreError};

/// The dispatcher's timing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub first_retry: Duration,
    pub longest_retry: Duration,
    pub attempts: u32,
    pub give_up_after: Duration,
    /// A burst that the rate cannot send within this is summarised.
    pub summary_horizon: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            first_retry: Duration::from_secs(1),
            longest_retry: Duration::from_secs(60),
            attempts: 10,
            give_up_after: Duration::from_secs(3600),
            summary_horizon: Duration::from_secs(5),
        }
    }
}

/// Rows read per round of a worker.
const BATCH: usize = 500;

/// Runs until the service stops: a worker per channel with pending deliveries (at start: every
/// delivery a previous run left pending).
pub async fn run(channels: Channels) {
    let inner = channels.inner.clone();
    let mut workers: HashMap<u64, Arc<Notify>> = HashMap::new();
    loop {
        let woken = inner.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        match inner.store.pending_channels().await {
            Ok(ids) => {
                for id in ids {
                    let notify = workers.entry(id).or_insert_with(|| {
                        let n = Arc::new(Notify::new());
                        inner.tasks.spawn(worker(channels.clone(), id, n.clone()));
                        n
                    });
                    notify.notify_one();
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "outbox: reading pending deliveries failed");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = inner.tasks.stopping() => return,
                }
                continue;
            }
        }
        tokio::select! {
            _ = woken => {}
            _ = inner.tasks.stopping() => return,
        }
    }
}

/// Backoff with full jitter: a random wait up to `first × 2^(attempt-1)`, at most `longest`, and
/// never less than a tenth of it.
fn backoff(t: &Timing, attempts: u32) -> Duration {
    let cap = t
        .first_retry
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(16))
        .min(t.longest_retry);
    cap.mul_f64(0.1 + 0.9 * rand::random::<f64>())
}

/// One channel's deliveries.
async fn worker(channels: Channels, id: u64, notify: Arc<Notify>) {
    let inner = channels.inner.clone();
    let mut limiter: Option<Limiter> = None;
    loop {
        let woken = notify.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let wait = match round(&channels, id, &mut limiter).await {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(channel = id, error = %e, "outbox: a delivery round failed");
                Some(Duration::from_secs(1))
            }
        };
        match wait {
            Some(Duration::ZERO) => continue,
            Some(w) => tokio::select! {
                _ = tokio::time::sleep(w) => {}
                _ = woken => {}
                _ = inner.tasks.stopping() => return,
            },
            None => tokio::select! {
                _ = woken => {}
                _ = inner.tasks.stopping() => return,
            },
        }
    }
}

/// Settles rows without an attempt.
async fn settle(
    channels: &Channels,
    ids: Vec<u64>,
    status: DeliveryStatus,
    error: String,
) -> Result<(), StoreError> {
    channels
        .inner
        .store
        .record_attempt(
            ids,
            false,
            crate::store::Attempted {
                status,
                next_at: unix_ms(),
                last_error: Some(error),
                summarized: false,
            },
        )
        .await
}

/// One step of a channel's worker: how long to wait before the next (`None`: until woken).
async fn round(
    channels: &Channels,
    id: u64,
    limiter: &mut Option<Limiter>,
) -> Result<Option<Duration>, StoreError> {
    let inner = &channels.inner;
    let pending = inner.store.pending_deliveries(id, BATCH).await?;
    if pending.is_empty() {
        return Ok(None);
    }
    let Some(row) = inner.store.channel(id).await? else {
        let n = pending.len() as u64;
        settle(
            channels,
            pending.iter().map(|r| r.id).collect(),
            DeliveryStatus::Failed,
            "the channel was deleted".into(),
        )
        .await?;
        channels.count(id, |c| c.failed += n);
        return Ok(Some(Duration::ZERO));
    };
    if let Some(f) = &row.failing {
        let n = pending.len() as u64;
        settle(
            channels,
            pending.iter().map(|r| r.id).collect(),
            DeliveryStatus::Failed,
            format!("the channel is failing: {}", f.error),
        )
        .await?;
        channels.count(id, |c| c.failed += n);
        return Ok(Some(Duration::ZERO));
    }
    let config = match channels.config_of(&row) {
        Ok(c) => c,
        Err(e) => {
            let error = e.to_string();
            channels.mark_failing(id, &error).await;
            return Ok(Some(Duration::ZERO));
        }
    };
    let limits = Limits::of(&config);
    let limiter = limiter.get_or_insert_with(|| Limiter::new(limits.clone()));
    if *limiter.limits() != limits {
        limiter.set_limits(limits.clone());
    }
    let now_ms = unix_ms();
    let due: Vec<&OutboxRow> = pending.iter().filter(|r| r.next_at <= now_ms).collect();
    if due.is_empty() {
        let next = pending.iter().map(|r| r.next_at).min().unwrap_or(now_ms + 1000);
        return Ok(Some(Duration::from_millis(
            (next - now_ms).clamp(1, 60_000) as u64
        )));
    }
    let now = Instant::now();
    let ready = limiter.ready_at(now);
    if ready > now {
        return Ok(Some(ready - now));
    }
    let timing = inner.timing;
    let summarize =
        limits.summarize && due.len() > 1 && due.len() > limiter.capacity(now, timing.summary_horizon);
    let carried: Vec<&OutboxRow> = if summarize { due.clone() } else { vec![due[0]] };
    // The events the rows carry.
    let mut alerts = Vec::with_capacity(carried.len());
    let mut bodies = Vec::with_capacity(carried.len());
    let mut missing = Vec::new();
    for r in &carried {
        match r.event_kind {
            EventKind::Trigger => match inner.store.trigger(r.event_id).await? {
                Some(t) => {
                    let prev = prev_close(channels, &t.fired).await;
                    alerts.push(Alert::of_trigger(&t, prev, &inner.public_url));
                    bodies.push(serde_json::to_value(&t).unwrap_or(Value::Null));
                }
                None => missing.push(r.id),
            },
            EventKind::ScanEvent => match inner.store.scan_event(r.event_id).await? {
                Some(e) => {
                    let condition = inner.store.condition(e.condition_id).await?;
                    let (name, period) = condition
                        .map(|c| {
                            let period = market::Condition::parse(&c.spec.expr)
                                .map(|x| x.period.as_str().to_string())
                                .unwrap_or_default();
                            (c.spec.name, period)
                        })
                        .unwrap_or_default();
                    alerts.push(Alert::of_scan_event(&e, &name, &period, &inner.public_url));
                    bodies
                        .push(serde_json::json!({"type": "scan_event", "condition_name": name, "event": e}));
                }
                None => missing.push(r.id),
            },
        }
    }
    if !missing.is_empty() {
        settle(
            channels,
            missing,
            DeliveryStatus::Failed,
            "the event is no longer stored".into(),
        )
        .await?;
        return Ok(Some(Duration::ZERO));
    }
    let first = carried[0];
    let summary;
    let payload = if summarize {
        summary = Summary {
            alerts,
            url: format!("{}/", inner.public_url),
        };
        Payload::Summary(&summary)
    } else {
        Payload::Alert {
            alert: &alerts[0],
            body: &bodies[0],
        }
    };
    let sent_at = Instant::now();
    limiter.note_sent(sent_at);
    let outcome = providers::send(&inner.senders, &config, &first.delivery_id, payload).await;
    let ids: Vec<u64> = carried.iter().map(|r| r.id).collect();
    let n = ids.len() as u64;
    let attempted = |status, next_at, last_error| crate::store::Attempted {
        status,
        next_at,
        last_error,
        summarized: summarize,
    };
    match outcome {
        Outcome::Delivered { pause, .. } => {
            if let Some(p) = pause {
                limiter.block_for(Instant::now(), p);
            }
            inner
                .store
                .record_attempt(ids, true, attempted(DeliveryStatus::Delivered, unix_ms(), None))
                .await?;
            channels.count(id, |c| c.delivered += n);
            if summarize {
                tracing::info!(
                    channel = id,
                    events = n,
                    "outbox: a burst delivered as one summary"
                );
            }
        }
        Outcome::RateLimited {
            retry_after, error, ..
        } => {
            tracing::info!(
                channel = id,
                wait_ms = retry_after.as_millis() as u64,
                "outbox: the provider asked to wait"
            );
            limiter.block_for(Instant::now(), retry_after);
            let next = unix_ms() + retry_after.as_millis() as i64;
            inner
                .store
                .record_attempt(ids, true, attempted(DeliveryStatus::Pending, next, Some(error)))
                .await?;
            channels.count(id, |c| c.retried += 1);
        }
        Outcome::Transient { error, .. } => {
            let attempts = carried.iter().map(|r| r.attempts).max().unwrap_or(0) + 1;
            let age = Duration::from_millis((unix_ms() - first.first_at).max(0) as u64);
            if attempts >= timing.attempts || age >= timing.give_up_after {
                tracing::warn!(channel = id, attempts, %error, "outbox: given up");
                inner
                    .store
                    .record_attempt(
                        ids,
                        true,
                        attempted(DeliveryStatus::Failed, unix_ms(), Some(error)),
                    )
                    .await?;
                channels.count(id, |c| c.failed += n);
            } else {
                let wait = backoff(&timing, attempts);
                tracing::info!(channel = id, attempts, wait_ms = wait.as_millis() as u64, %error, "outbox: will retry");
                let next = unix_ms() + wait.as_millis() as i64;
                inner
                    .store
                    .record_attempt(ids, true, attempted(DeliveryStatus::Pending, next, Some(error)))
                    .await?;
                channels.count(id, |c| c.retried += 1);
            }
        }
        Outcome::Permanent { error, channel, .. } => {
            inner
                .store
                .record_attempt(
                    ids,
                    true,
                    attempted(DeliveryStatus::Failed, unix_ms(), Some(error.clone())),
                )
                .await?;
            channels.count(id, |c| c.failed += n);
            if channel {
                channels.mark_failing(id, &error).await;
            } else {
                tracing::warn!(channel = id, %error, "outbox: the provider refused this message");
            }
        }
    }
    Ok(Some(Duration::ZERO))
}

async fn prev_close(channels: &Channels, f: &Fired) -> Option<i64> {
    let date: String = f.bar_time.chars().take(10).collect();
    channels
        .inner
        .store
        .previous_close(f.code.clone(), date)
        .await
        .ok()
        .flatten()
}

/// A trigger the store could not take, to one channel: from memory, up to four attempts.
pub(super) async fn send_unstored(channels: Channels, trigger: Arc<Fired>, id: u64) {
    let inner = channels.inner.clone();
    let result: Result<(), ChannelError> = async {
        let row = inner.store.channel(id).await?.ok_or(ChannelError::NotFound(id))?;
        let config = channels.config_of(&row)?;
        let unstored = UnstoredTrigger::new((*trigger).clone());
        let as_trigger = Trigger {
            id: 0,
            fired: (*trigger).clone(),
            acked: false,
            recorded_at: String::new(),
            persisted: false,
            key: unstored.key.clone(),
        };
        let prev = prev_close(&channels, &trigger).await;
        let mut alert = Alert::of_trigger(&as_trigger, prev, &inner.public_url);
        alert.url = format!(
            "{}/stocks/{}?period={}",
            inner.public_url, trigger.code, trigger.period
        );
        let body = serde_json::to_value(&unstored).unwrap_or(Value::Null);
        let delivery_id = format!("{:032x}", rand::random::<u128>());
        for attempt in 1..=4u32 {
            let outcome = providers::send(
                &inner.senders,
                &config,
                &delivery_id,
                Payload::Alert {
                    alert: &alert,
                    body: &body,
                },
            )
            .await;
            match outcome {
                Outcome::Delivered { .. } => {
                    channels.count(id, |c| c.delivered += 1);
                    return Ok(());
                }
                Outcome::RateLimited { retry_after, .. } if attempt < 4 => {
                    channels.count(id, |c| c.retried += 1);
                    tokio::time::sleep(retry_after).await;
                }
                Outcome::Transient { .. } if attempt < 4 => {
                    channels.count(id, |c| c.retried += 1);
                    tokio::time::sleep(backoff(&inner.timing, attempt)).await;
                }
                Outcome::Permanent {
                    error, channel: true, ..
                } => {
                    channels.mark_failing(id, &error).await;
                    break;
                }
                _ => break,
            }
        }
        channels.count(id, |c| c.failed += 1);
        Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(channel = id, error = %e, "outbox: an unstored trigger was not delivered");
    }
}
