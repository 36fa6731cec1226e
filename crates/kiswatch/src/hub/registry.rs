//! Who watches what: browser subscriptions by client, and by (stock, channel) for fan-out.
//!
//! Upstream interest is reference-counted per stock: a thousand browsers on one stock are one
//! interest, and the planner sees only how many viewers each stock's detail page has
//! ([`Registry::open_pages`]). A stock counts as an open page while some client subscribes to its
//! `orderbook` or `executions` (what a detail page shows); `tick` and `candle` alone (a watchlist
//! row, a chart) count as [`Registry::watched`] interest only.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use market::StockCode;

use super::protocol::BrowserChannel;

/// A browser connection's id, unique for the hub's lifetime.
pub type ClientId = u64;

/// The changes of upstream interest a registry update caused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterestChange {
    /// Stocks that gained their first viewer of a detail channel.
    pub pages_opened: Vec<StockCode>,
    /// Stocks that lost their last viewer of a detail channel.
    pub pages_closed: Vec<StockCode>,
}

impl InterestChange {
    pub fn is_empty(&self) -> bool {
        self.pages_opened.is_empty() && self.pages_closed.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Registry {
    by_client: HashMap<ClientId, BTreeSet<(StockCode, BrowserChannel)>>,
    by_topic: HashMap<(StockCode, BrowserChannel), BTreeSet<ClientId>>,
    /// Per stock: clients with at least one detail channel on it.
    page_viewers: BTreeMap<StockCode, u32>,
    /// Per stock: clients with any channel on it.
    viewers: BTreeMap<StockCode, u32>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds `client`'s subscriptions (repeats are no-ops).
    pub fn subscribe(
        &mut self,
        client: ClientId,
        codes: &[StockCode],
        channels: &[BrowserChannel],
    ) -> InterestChange {
        let mut change = InterestChange::default();
        for &code in codes {
            let (had_any, had_page) = self.holds(client, code);
            let mine = self.by_client.entry(client).or_default();
            for &channel in channels {
                if mine.insert((code, channel)) {
                    self.by_topic.entry((code, channel)).or_default().insert(client);
                }
            }
            let (has_any, has_page) = self.holds(client, code);
            if has_any && !had_any {
                *self.viewers.entry(code).or_default() += 1;
            }
            if has_page && !had_page {
                let n = self.page_viewers.entry(code).or_default();
                *n += 1;
                if *n == 1 {
                    change.pages_opened.push(code);
                }
            }
        }
        change
    }

    /// Removes `client`'s subscriptions to `codes` on `channels` (all channels when `None`).
    pub fn unsubscribe(
        &mut self,
        client: ClientId,
        codes: &[StockCode],
        channels: Option<&[BrowserChannel]>,
    ) -> InterestChange {
        let mut change = InterestChange::default();
        for &code in codes {
            let (had_any, had_page) = self.holds(client, code);
            let Some(mine) = self.by_client.get_mut(&client) else {
                return change;
            };
            let gone: Vec<(StockCode, BrowserChannel)> = mine
                .iter()
                .filter(|(c, ch)| *c == code && channels.is_none_or(|chs| chs.contains(ch)))
                .copied()
                .collect();
            for topic in gone {
                mine.remove(&topic);
                if let Some(set) = self.by_topic.get_mut(&topic) {
                    set.remove(&client);
                    if set.is_empty() {
                        self.by_topic.remove(&topic);
                    }
                }
            }
            let (has_any, has_page) = self.holds(client, code);
            if had_any && !has_any {
                decrement(&mut self.viewers, code);
            }
            if had_page && !has_page && decrement(&mut self.page_viewers, code) {
                change.pages_closed.push(code);
            }
        }
        change
    }

    /// Forgets a client (its connection ended).
    pub fn remove_client(&mut self, client: ClientId) -> InterestChange {
        let codes: Vec<StockCode> = match self.by_client.get(&client) {
            Some(set) => set
                .iter()
                .map(|(c, _)| *c)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            None => return InterestChange::default(),
        };
        let change = self.unsubscribe(client, &codes, None);
        self.by_client.remove(&client);
        change
    }

    /// The clients subscribed to a stock's channel.
    pub fn subscribers(
        &self,
        code: StockCode,
        channel: BrowserChannel,
    ) -> impl Iterator<Item = ClientId> + '_ {
        self.by_topic.get(&(code, channel)).into_iter().flatten().copied()
    }

    /// Stocks with an open detail page and how many clients view each: the planner's input.
    pub fn open_pages(&self) -> BTreeMap<StockCode, u32> {
        self.page_viewers.clone()
    }

    /// Every stock some client watches on any channel, with its number of clients.
    pub fn watched(&self) -> &BTreeMap<StockCode, u32> {
        &self.viewers
    }

    pub fn clients(&self) -> usize {
        self.by_client.len()
    }

    /// Whether `client` holds any channel, and any detail channel, of `code`.
    fn holds(&self, client: ClientId, code: StockCode) -> (bool, bool) {
        let Some(mine) = self.by_client.get(&client) else {
            return (false, false);
        };
        let mut any = false;
        for (_, ch) in mine
            .range((code, BrowserChannel::Tick)..)
            .take_while(|(c, _)| *c == code)
        {
            any = true;
            if ch.is_detail() {
                return (true, true);
            }
        }
        (any, false)
    }
}

/// Decrements a count, removing it at zero; `true` when it reached zero.
fn decrement(counts: &mut BTreeMap<StockCode, u32>, code: StockCode) -> bool {
    match counts.get_mut(&code) {
        Some(n) if *n > 1 => {
            *n -= 1;
            false
        }
        Some(_) => {
            counts.remove(&code);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use market::Period;
    use proptest::prelude::*;

    fn code(i: usize) -> StockCode {
        StockCode::parse(&format!("{:06}", 10 + i)).unwrap()
    }

    const DETAIL: [BrowserChannel; 3] = [
        BrowserChannel::Tick,
        BrowserChannel::OrderBook,
        BrowserChannel::Executions,
    ];

    #[test]
    fn one_interest_however_many_viewers() {
        let mut r = Registry::new();
        let opened = r.subscribe(1, &[code(0)], &DETAIL);
        assert_eq!(opened.pages_opened, vec![code(0)]);
        assert!(r.subscribe(2, &[code(0)], &DETAIL).is_empty());
        assert!(r.subscribe(2, &[code(0)], &DETAIL).is_empty());
        assert_eq!(r.open_pages(), BTreeMap::from([(code(0), 2)]));
        assert_eq!(
            r.subscribers(code(0), BrowserChannel::Tick).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(r.unsubscribe(1, &[code(0)], None).is_empty());
        let closed = r.remove_client(2);
        assert_eq!(closed.pages_closed, vec![code(0)]);
        assert!(r.open_pages().is_empty());
        assert!(r.watched().is_empty());
        assert_eq!(r.subscribers(code(0), BrowserChannel::Tick).count(), 0);
    }

    #[test]
    fn ticks_and_candles_alone_are_not_a_page() {
        let mut r = Registry::new();
        let change = r.subscribe(
            1,
            &[code(0), code(1)],
            &[BrowserChannel::Tick, BrowserChannel::Candle(Period::M30)],
        );
        assert!(change.is_empty());
        assert!(r.open_pages().is_empty());
        assert_eq!(r.watched().len(), 2);
        // Adding the order book opens the page; removing it alone closes it, ticks stay.
        let change = r.subscribe(1, &[code(0)], &[BrowserChannel::OrderBook]);
        assert_eq!(change.pages_opened, vec![code(0)]);
        let change = r.unsubscribe(1, &[code(0)], Some(&[BrowserChannel::OrderBook]));
        assert_eq!(change.pages_closed, vec![code(0)]);
        assert_eq!(r.watched().get(&code(0)), Some(&1));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Sub(u64, Vec<usize>, Vec<usize>),
        Unsub(u64, Vec<usize>, Option<Vec<usize>>),
        Leave(u64),
    }

    fn channel(i: usize) -> BrowserChannel {
        [
            BrowserChannel::Tick,
            BrowserChannel::OrderBook,
            BrowserChannel::Executions,
            BrowserChannel::Candle(Period::M1),
            BrowserChannel::Candle(Period::M30),
        ][i % 5]
    }

    proptest! {
        /// The counts always equal a recount from the clients' sets, and every open/close reported
        /// is a real 0↔1 transition.
        #[test]
        fn counts_match_a_recount(ops in proptest::collection::vec(prop_oneof![
            (0u64..6, proptest::collection::vec(0usize..6, 1..4), proptest::collection::vec(0usize..5, 1..4)).prop_map(|(c, k, ch)| Op::Sub(c, k, ch)),
            (0u64..6, proptest::collection::vec(0usize..6, 1..4), proptest::option::of(proptest::collection::vec(0usize..5, 1..4))).prop_map(|(c, k, ch)| Op::Unsub(c, k, ch)),
            (0u64..6).prop_map(Op::Leave),
        ], 1..200)) {
            let mut r = Registry::new();
            let mut model: HashMap<u64, BTreeSet<(StockCode, BrowserChannel)>> = HashMap::new();
            let mut pages_before: BTreeSet<StockCode> = BTreeSet::new();
            for op in ops {
                let change = match op {
                    Op::Sub(c, k, ch) => {
                        let codes: Vec<_> = k.iter().map(|i| code(*i)).collect();
                        let chans: Vec<_> = ch.iter().map(|i| channel(*i)).collect();
                        for cd in &codes { for chn in &chans { model.entry(c).or_default().insert((*cd, *chn)); } }
                        r.subscribe(c, &codes, &chans)
                    }
                    Op::Unsub(c, k, ch) => {
                        let codes: Vec<_> = k.iter().map(|i| code(*i)).collect();
                        let chans: Option<Vec<_>> = ch.map(|v| v.iter().map(|i| channel(*i)).collect());
                        if let Some(set) = model.get_mut(&c) {
                            set.retain(|(cd, chn)| !(codes.contains(cd) && chans.as_ref().is_none_or(|x| x.contains(chn))));
                        }
                        r.unsubscribe(c, &codes, chans.as_deref())
                    }
                    Op::Leave(c) => { model.remove(&c); r.remove_client(c) }
                };
                let mut pages: BTreeMap<StockCode, u32> = BTreeMap::new();
                let mut watched: BTreeMap<StockCode, u32> = BTreeMap::new();
                for set in model.values() {
                    let codes: BTreeSet<StockCode> = set.iter().map(|(c, _)| *c).collect();
                    for c in codes {
                        *watched.entry(c).or_default() += 1;
                        if set.iter().any(|(cd, ch)| *cd == c && ch.is_detail()) { *pages.entry(c).or_default() += 1; }
                    }
                }
                prop_assert_eq!(&r.open_pages(), &pages);
                prop_assert_eq!(r.watched(), &watched);
                let now: BTreeSet<StockCode> = pages.keys().copied().collect();
                let opened: BTreeSet<StockCode> = now.difference(&pages_before).copied().collect();
                let closed: BTreeSet<StockCode> = pages_before.difference(&now).copied().collect();
                prop_assert_eq!(change.pages_opened.iter().copied().collect::<BTreeSet<_>>(), opened);
                prop_assert_eq!(change.pages_closed.iter().copied().collect::<BTreeSet<_>>(), closed);
                pages_before = now;
                for (c, set) in &model {
                    for (cd, ch) in set {
                        prop_assert!(r.subscribers(*cd, *ch).any(|x| x == *c));
                    }
                }
            }
        }
    }
}
