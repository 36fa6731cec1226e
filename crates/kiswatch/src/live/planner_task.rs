//! The planner task: about once a second, and at once when the open pages, the watchlist or the
//! conditions change, it asks [`SubscriptionPlanner::plan`] which stocks hold the realtime
//! registrations, applies the round through the realtime client, tells [`LiveFeed`] who is realtime
//! and who is polled, hands the polled list to the poll task, and publishes stock statuses that
//! changed.
//!
//! ```text
//! hub open pages + watchlist + conditions ──▶ SubscriptionPlanner::plan ──▶ Round
//!      Round.subscribe / unsubscribe ──▶ upstream::RealtimeSessions (41 a key)
//!      Round.realtime ──▶ LiveFeed (who is realtime)        Round.polled ──▶ poll task
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kis::realtime::Topic;
use market::StockCode;
use tokio::sync::watch;
use tokio::time::Instant;

use super::feed::LiveFeed;
use super::planner::poll::PollConfig;
use super::planner::{Demand, PlannerConfig, Round, SubscriptionPlanner};
use crate::hub::Hub;
use crate::status::FeedState;
use crate::store::Store;
use crate::upstream::RealtimeSessions;

/// How often the planner runs a round when nothing changed.
const ROUND_EVERY: Duration = Duration::from_secs(1);
/// How often the planner looks for newly opened pages.
const PAGES_EVERY: Duration = Duration::from_millis(200);
/// The longest a subscribe/unsubscribe may take before the round moves on.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// What the planner needs to know to run its rounds.
pub struct PlannerTask {
    pub store: Store,
    pub hub: Arc<Hub>,
    pub live: Arc<LiveFeed>,
    /// `None`: no realtime session (everything is polled).
    pub realtime: Option<RealtimeSessions>,
    pub changed: watch::Receiver<u64>,
    pub polled: watch::Sender<Vec<StockCode>>,
    pub polls: PollConfig,
    pub config: PlannerConfig,
}

impl PlannerTask {
    /// Runs rounds until the service stops.
    pub async fn run(mut self) {
        let mut planner = SubscriptionPlanner::new(self.config);
        let mut published: HashMap<StockCode, FeedState> = HashMap::new();
        let mut last_pages = BTreeMap::new();
        let mut last_round = Instant::now() - ROUND_EVERY;
        let mut pending = false;
        loop {
            let pages = self.hub.open_pages();
            let due = pending || pages != last_pages || last_round.elapsed() >= ROUND_EVERY;
            if due {
                last_pages = pages.clone();
                last_round = Instant::now();
                match self.round(&mut planner, pages).await {
                    Some(round) => {
                        pending = round.pending > 0;
                        self.publish_statuses(&round, &mut published);
                    }
                    None => pending = false,
                }
            }
            // More changes to make: the next round at once (the client paces the requests).
            let pause = if pending { Duration::ZERO } else { PAGES_EVERY };
            tokio::select! {
                r = self.changed.changed() => {
                    if r.is_err() {
                        return;
                    }
                    pending = true;
                }
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn round(
        &self,
        planner: &mut SubscriptionPlanner,
        open_pages: BTreeMap<StockCode, u32>,
    ) -> Option<Round> {
        let (watchlist, conditions) = match (self.store.watchlist().await, self.store.conditions().await) {
            (Ok(w), Ok(c)) => (w, c),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "planner: reading the watchlist or conditions failed");
                return None;
            }
        };
        let watchlist: Vec<StockCode> = watchlist.into_iter().map(|w| w.code).collect();
        // Conditions apply to every watched stock.
        let with_conditions = if conditions
            .iter()
            .any(|c| c.active() && c.spec.scope == crate::contract::ConditionScope::Watchlist)
        {
            watchlist.iter().copied().collect()
        } else {
            BTreeSet::new()
        };
        let demand = Demand {
            open_pages,
            with_conditions,
            watchlist,
        };
        let Some(handle) = &self.realtime else {
            // No session: every demanded stock is polled.
            let polled: Vec<StockCode> = demand.stocks().into_iter().map(|(c, _)| c).collect();
            self.live
                .set_sources(HashSet::new(), &polled, self.polls.bound(polled.len()));
            let _ = self.polled.send(polled);
            let round = planner.plan(&demand, &BTreeSet::new(), Instant::now());
            return Some(round);
        };
        // 41 registrations per open session: fewer when a key was refused.
        planner.set_registration_limit(handle.capacity().await);
        let current: BTreeSet<Topic> = match handle.registrations().await {
            Ok(r) => r.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "planner: the realtime client is gone");
                return None;
            }
        };
        let round = planner.plan(&demand, &current, Instant::now());
        for topic in &round.unsubscribe {
            match tokio::time::timeout(REQUEST_TIMEOUT, handle.unsubscribe_topic(topic.clone())).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(?topic, error = %e, "planner: unsubscribe failed"),
                Err(_) => tracing::warn!(?topic, "planner: unsubscribe not acknowledged in time"),
            }
        }
        for topic in &round.subscribe {
            match tokio::time::timeout(REQUEST_TIMEOUT, handle.subscribe_topic(topic.clone())).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(?topic, error = %e, "planner: subscribe failed"),
                Err(_) => tracing::debug!(?topic, "planner: subscribe waits for the session"),
            }
        }
        // What the client holds now (a failed request leaves things as they were).
        let held: BTreeSet<Topic> = handle
            .registrations()
            .await
            .map(|r| r.into_iter().collect())
            .unwrap_or(round.after.clone());
        let realtime: HashSet<StockCode> = demand
            .stocks()
            .into_iter()
            .map(|(c, _)| c)
            .filter(|c| held.contains(&Topic::stock(kis::realtime::Channel::Executions, *c)))
            .collect();
        // Polled: what neither holds a registration nor is about to get one in the next rounds (a
        // stock on its way in would only spend the poll budget for a second or two). While the
        // session is down, everything is polled; while it is still starting, nothing it will take.
        let executions = |c: &StockCode| Topic::stock(kis::realtime::Channel::Executions, *c);
        let expected = self.live.session_expected(Instant::now());
        let polled: Vec<StockCode> = demand
            .stocks()
            .into_iter()
            .map(|(c, _)| c)
            .filter(|c| !expected || !(realtime.contains(c) || round.target.contains(&executions(c))))
            .collect();
        let bound = self.polls.bound(polled.len());
        self.live.set_sources(realtime, &polled, bound);
        self.polled.send_if_modified(|p| {
            let changed = *p != polled;
            *p = polled;
            changed
        });
        Some(round)
    }

    /// Publishes the status of every demanded stock whose state changed.
    fn publish_statuses(&self, round: &Round, published: &mut HashMap<StockCode, FeedState>) {
        let now = Instant::now();
        let demanded: HashSet<StockCode> = round
            .realtime
            .iter()
            .chain(&round.polled)
            .map(|(c, _)| *c)
            .collect();
        published.retain(|c, _| demanded.contains(c));
        for code in demanded {
            let status = self.live.status(code, now);
            if published.insert(code, status.state) != Some(status.state) {
                self.hub.publish_stock_status(code, status);
            }
        }
    }
}
