//! Each provider's rate, respected before it is signalled: sliding windows and a shortest gap per
//! channel, plus a block set by the provider itself (a 429's `retry_after`, Discord's
//! `X-RateLimit-Remaining: 0`).
//!
//! | kind | rate kept |
//! |---|---|
//! | telegram | 1 message a second per chat; 20 a minute in a group (`chat_id` starting with `-`) |
//! | discord | 5 requests per 2 s per webhook, 30 a minute per channel |
//! | slack | 1 message a second per webhook |
//! | ntfy | 1 a second, 12 a minute (ntfy.sh's sustained visitor rate: 60 burst, one per 5 s) |
//! | email | 1 every 2 s, 10 a minute |
//! | webpush | 1 a second, 20 a minute |
//! | webhook | 20 a second (the receiver is yours; never summarised) |

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::config::Config;
use crate::contract::ChannelKind;

/// A channel's rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub min_gap: Duration,
    /// At most `n` sends inside any `d`.
    pub windows: Vec<(usize, Duration)>,
    /// Whether a burst beyond the rate becomes one summary message.
    pub summarize: bool,
}

impl Limits {
    pub fn of(config: &Config) -> Limits {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        let (min_gap, windows, summarize) = match config.kind {
            ChannelKind::Telegram if config.text("chat_id").starts_with('-') => {
                (s(1), vec![(20, s(60))], true)
            }
            ChannelKind::Telegram => (s(1), vec![], true),
            ChannelKind::Discord => (ms(0), vec![(5, s(2)), (30, s(60))], true),
            ChannelKind::Slack => (s(1), vec![], true),
            ChannelKind::Ntfy => (s(1), vec![(12, s(60))], true),
            ChannelKind::Email => (s(2), vec![(10, s(60))], true),
            ChannelKind::Webpush => (s(1), vec![(20, s(60))], true),
            ChannelKind::Webhook => (ms(0), vec![(20, s(1))], false),
        };
        Limits {
            min_gap,
            windows,
            summarize,
        }
    }
}

/// The sends of one channel and the provider's block.
#[derive(Debug, Clone)]
pub struct Limiter {
    limits: Limits,
    sent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl Limiter {
    pub fn new(limits: Limits) -> Limiter {
        Limiter {
            limits,
            sent: VecDeque::new(),
            blocked_until: None,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Replaces the rate (the channel's settings changed), keeping what was sent.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The earliest moment the next send keeps the rate.
    pub fn ready_at(&self, now: Instant) -> Instant {
        let mut at = now;
        if let Some(b) = self.blocked_until {
            at = at.max(b);
        }
        if let Some(last) = self.sent.back() {
            at = at.max(*last + self.limits.min_gap);
        }
        for (n, d) in &self.limits.windows {
            if self.sent.len() >= *n {
                at = at.max(self.sent[self.sent.len() - n] + *d);
            }
        }
        at
    }

    /// How many sends the rate allows from `now` until `now + horizon`.
    pub fn capacity(&self, now: Instant, horizon: Duration) -> usize {
        let mut probe = self.clone();
        let end = now + horizon;
        let mut n = 0;
        while n < 100 {
            let at = probe.ready_at(now);
            if at > end {
                break;
            }
            probe.note_sent(at);
            n += 1;
        }
        n
    }

    pub fn note_sent(&mut self, at: Instant) {
        self.sent.push_back(at);
        let keep = self
            .limits
            .windows
            .iter()
            .map(|(n, _)| *n)
            .max()
            .unwrap_or(1)
            .max(1);
        while self.sent.len() > keep {
            self.sent.pop_front();
        }
    }

    /// The provider asked for a pause.
    pub fn block_for(&mut self, now: Instant, pause: Duration) {
        let until = now + pause;
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_gaps_and_blocks_decide_the_next_send() {
        let now = Instant::now();
        let s = Duration::from_secs;
        let mut l = Limiter::new(Limits {
            min_gap: Duration::ZERO,
            windows: vec![(5, s(2))],
            summarize: true,
        });
        assert_eq!(l.capacity(now, s(5)), 15);
        for _ in 0..5 {
            assert_eq!(l.ready_at(now), now);
            l.note_sent(now);
        }
        assert_eq!(l.ready_at(now), now + s(2));
        l.block_for(now, s(3));
        assert_eq!(l.ready_at(now), now + s(3));
        let mut t = Limiter::new(Limits {
            min_gap: s(1),
            windows: vec![(20, s(60))],
            summarize: true,
        });
        assert_eq!(t.capacity(now, s(5)), 6);
        t.note_sent(now);
        assert_eq!(t.ready_at(now), now + s(1));
    }
}
