//! The subscription planner: which stocks hold the 41 KIS realtime registrations, and which are
//! polled over REST instead.
//!
//! KIS allows one WebSocket session per app key with at most 41 registrations (executions, order
//! books and account notices together). Watchlists are larger, so the planner ranks what is wanted:
//!
//! 1. **open detail pages** (someone is looking): executions + order book, two registrations each,
//!    the page with the most viewers first;
//! 2. **watchlist stocks with enabled conditions**: executions (every trade feeds the trigger engine);
//! 3. **other watchlist stocks**: executions, in watchlist order.
//!
//! Everything past the cap is polled ([`poll::PollScheduler`]) inside a bounded share of the REST
//! rate budget.
//!
//! **No churn.** A subscribe or unsubscribe is a request to KIS, and KIS blocks keys that thrash; a
//! user flicking through pages must not turn into a stream of them. Three rules keep changes rare:
//!
//! * *incumbents stay*: within a tier a registered topic keeps its slot over an unregistered one of
//!   the same tier (a reordered watchlist changes nothing upstream);
//! * *grace*: a registration nobody wants any more (a page closed) keeps its slot for
//!   [`PlannerConfig::grace`] unless a page or a condition stock needs it, so a page reopened soon
//!   costs nothing; a watchlist stock waiting for a slot gets it only when the grace ends (one that
//!   holds a slot keeps it);
//! * *paced rounds*: one round changes at most [`PlannerConfig::max_changes_per_round`]
//!   registrations, unsubscribes first (they free the slots), then subscribes in priority order.
//!   The service runs a round about once a second, so a newly opened page is registered within one
//!   round (well inside 2 s), evicting the lowest-ranked registrations.
//!
//! The planner does no I/O and reads no clock: the service passes the registrations the realtime
//! client holds ([`kis::realtime::RealtimeHandle::registrations`]) and a monotonic `now`, applies
//! the returned [`Round`] through the client, and polls [`Round::polled`]. Registrations that are not
//! stock executions or order books (account notices) are left alone but count against the cap.
//!
//! In `serve`, [`crate::live::PlannerTask`] calls [`SubscriptionPlanner::plan`] about once a second
//! and at once when the hub's open pages, the watchlist or the conditions change.

pub mod poll;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use kis::realtime::{Channel, MAX_REGISTRATIONS, Topic};
use market::StockCode;
use serde::Serialize;
use tokio::time::Instant;

/// Why a stock is wanted, highest priority first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// A detail page is open on it.
    Page,
    /// It is on the watchlist with an enabled condition.
    Condition,
    /// It is on the watchlist.
    Watchlist,
}

/// What the service wants watched right now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Demand {
    /// Stocks with an open detail page and how many browsers view each (from the hub's registry).
    pub open_pages: BTreeMap<StockCode, u32>,
    /// Watchlist stocks with at least one enabled condition.
    pub with_conditions: BTreeSet<StockCode>,
    /// The watchlist, in its order (it may repeat stocks of the sets above).
    pub watchlist: Vec<StockCode>,
}

impl Demand {
    /// Every demanded stock once, with its highest tier, in priority order: pages by viewers (most
    /// first, then code), condition stocks in watchlist order (others by code), then the rest of the
    /// watchlist in order.
    pub fn stocks(&self) -> Vec<(StockCode, Tier)> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut pages: Vec<(&StockCode, &u32)> = self.open_pages.iter().filter(|(_, v)| **v > 0).collect();
        pages.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (code, _) in pages {
            if seen.insert(*code) {
                out.push((*code, Tier::Page));
            }
        }
        let conditions_in_order = self
            .watchlist
            .iter()
            .filter(|c| self.with_conditions.contains(c))
            .chain(self.with_conditions.iter());
        for code in conditions_in_order {
            if seen.insert(*code) {
                out.push((*code, Tier::Condition));
            }
        }
        for code in &self.watchlist {
            if seen.insert(*code) {
                out.push((*code, Tier::Watchlist));
            }
        }
        out
    }
}

/// The planner's knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannerConfig {
    /// Registrations the planner may use (never above KIS's 41).
    pub registration_limit: usize,
    /// How long a registration nobody wants keeps its slot against other watchlist stocks.
    pub grace: Duration,
    /// The most subscribes + unsubscribes in one round (at least 2: one swap).
    pub max_changes_per_round: usize,
}

impl Default for PlannerConfig {
    /// 41 registrations, 30 s grace, 8 changes a round.
    fn default() -> PlannerConfig {
        PlannerConfig {
            registration_limit: MAX_REGISTRATIONS,
            grace: Duration::from_secs(30),
            max_changes_per_round: 8,
        }
    }
}

/// One round's work and the picture after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// Send these first, in this order (lowest priority first).
    pub unsubscribe: Vec<Topic>,
    /// Then these, in this order (highest priority first).
    pub subscribe: Vec<Topic>,
    /// Where the planner is heading (what a round with an unlimited budget would reach).
    pub target: BTreeSet<Topic>,
    /// The registrations once this round's changes are applied.
    pub after: BTreeSet<Topic>,
    /// Changes still needed after this round to reach `target` (run another round soon when > 0).
    pub pending: usize,
    /// Demanded stocks whose executions are registered after this round, in priority order.
    pub realtime: Vec<(StockCode, Tier)>,
    /// Demanded stocks left to polling, in priority order. Disjoint from `realtime`.
    pub polled: Vec<(StockCode, Tier)>,
}

impl Round {
    pub fn is_noop(&self) -> bool {
        self.unsubscribe.is_empty() && self.subscribe.is_empty()
    }
}

/// The rank of a candidate topic: effective tier, then incumbency, then order inside the tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    /// 0 page, 1 condition, 2 registered watchlist, 3 grace (registered but no longer wanted),
    /// 4 unregistered watchlist.
    tier: u8,
    /// `false` sorts first: registered topics keep their slots within a tier.
    newcomer: bool,
    order: usize,
}

/// Plans the realtime registrations round by round. Holds only the time each unwanted registration
/// was first seen unwanted (for the grace).
#[derive(Debug, Clone)]
pub struct SubscriptionPlanner {
    config: PlannerConfig,
    unwanted_since: HashMap<Topic, Instant>,
}

/// Whether a topic is one the planner manages (a stock's executions or order book).
pub fn is_stock_topic(topic: &Topic) -> bool {
    matches!(topic.channel, Channel::Executions | Channel::OrderBook)
}

impl SubscriptionPlanner {
    pub fn new(config: PlannerConfig) -> SubscriptionPlanner {
        SubscriptionPlanner {
            config: PlannerConfig {
                registration_limit: config.registration_limit.min(MAX_REGISTRATIONS),
                max_changes_per_round: config.max_changes_per_round.max(2),
                ..config
            },
            unwanted_since: HashMap::new(),
        }
    }

    pub fn config(&self) -> &PlannerConfig {
        &self.config
    }

    /// One round: given what is wanted and what is registered now, the changes to make (at most
    /// `max_changes_per_round`), and who is realtime and who is polled afterwards.
    pub fn plan(&mut self, demand: &Demand, current: &BTreeSet<Topic>, now: Instant) -> Round {
        let reserved = current.iter().filter(|t| !is_stock_topic(t)).count();
        let capacity = self.config.registration_limit.saturating_sub(reserved);
        let stocks = demand.stocks();

        // Every wanted topic with its rank.
        let mut ranks: HashMap<Topic, Rank> = HashMap::new();
        for (order, (code, tier)) in stocks.iter().enumerate() {
            let channels: &[Channel] = match tier {
                Tier::Page => &[Channel::Executions, Channel::OrderBook],
                Tier::Condition | Tier::Watchlist => &[Channel::Executions],
            };
            for (i, channel) in channels.iter().enumerate() {
                let topic = Topic::stock(*channel, *code);
                let newcomer = !current.contains(&topic);
                let tier_rank = match (tier, newcomer) {
                    (Tier::Page, _) => 0,
                    (Tier::Condition, _) => 1,
                    (Tier::Watchlist, false) => 2,
                    (Tier::Watchlist, true) => 4,
                };
                ranks.insert(
                    topic,
                    Rank {
                        tier: tier_rank,
                        newcomer,
                        order: order * 2 + i,
                    },
                );
            }
        }

        // Registered topics nobody wants: in grace, or due to go.
        self.unwanted_since
            .retain(|t, _| current.contains(t) && !ranks.contains_key(t));
        for topic in current.iter().filter(|t| is_stock_topic(t)) {
            if ranks.contains_key(topic) {
                continue;
            }
            let since = *self.unwanted_since.entry(topic.clone()).or_insert(now);
            if now.saturating_duration_since(since) < self.config.grace {
                ranks.insert(
                    topic.clone(),
                    Rank {
                        tier: 3,
                        newcomer: false,
                        // The most recently dropped is kept longest.
                        order: since_key(since, now),
                    },
                );
            }
        }

        let mut ranked: Vec<(Rank, Topic)> = ranks.into_iter().map(|(t, r)| (r, t)).collect();
        ranked.sort();
        let target: BTreeSet<Topic> = ranked.iter().take(capacity).map(|(_, t)| t.clone()).collect();
        let rank_of: HashMap<&Topic, Rank> = ranked.iter().map(|(r, t)| (t, *r)).collect();

        // Adds in priority order; removes lowest priority first (unranked topics are the lowest).
        let adds: Vec<Topic> = ranked
            .iter()
            .take(capacity)
            .filter(|(_, t)| !current.contains(t))
            .map(|(_, t)| t.clone())
            .collect();
        let mut removes: Vec<Topic> = current
            .iter()
            .filter(|t| is_stock_topic(t) && !target.contains(*t))
            .cloned()
            .collect();
        removes.sort_by_key(|t| std::cmp::Reverse(rank_of.get(t).map_or((1, None), |r| (0, Some(*r)))));

        let managed = current.iter().filter(|t| is_stock_topic(t)).count();
        let mut free = capacity as isize - managed as isize;
        let mut budget = self.config.max_changes_per_round;
        let mut unsubscribe = Vec::new();
        let mut subscribe = Vec::new();
        let mut removes = removes.into_iter().peekable();
        // Over the cap (the limit was lowered): make room before anything else.
        while free < 0 && budget > 0 {
            let Some(t) = removes.next() else { break };
            unsubscribe.push(t);
            free += 1;
            budget -= 1;
        }
        for add in &adds {
            if free <= 0 {
                if budget < 2 || removes.peek().is_none() {
                    break;
                }
                unsubscribe.extend(removes.next());
                free += 1;
                budget -= 1;
            }
            if budget == 0 {
                break;
            }
            subscribe.push(add.clone());
            free -= 1;
            budget -= 1;
        }
        // Leftover budget clears registrations past their grace.
        while budget > 0 {
            let Some(t) = removes.next() else { break };
            unsubscribe.push(t);
            budget -= 1;
        }

        let mut after = current.clone();
        for t in &unsubscribe {
            after.remove(t);
        }
        after.extend(subscribe.iter().cloned());
        let pending = target.symmetric_difference(&after).count();
        let (realtime, polled) = stocks
            .into_iter()
            .partition(|(code, _)| after.contains(&Topic::stock(Channel::Executions, *code)));
        Round {
            unsubscribe,
            subscribe,
            target,
            after,
            pending,
            realtime,
            polled,
        }
    }
}

/// Orders grace topics by how long they have been unwanted (milliseconds, saturating).
fn since_key(since: Instant, now: Instant) -> usize {
    usize::try_from(now.saturating_duration_since(since).as_millis()).unwrap_or(usize::MAX)
}
