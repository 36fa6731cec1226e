//! Gap repair: which 1-minute bars to fetch over REST after the feed missed a stretch.
//!
//! After `RealtimeEvent::Reconnected { gap }` (or when a polled stock missed its interval) trades are
//! missing, so bars built from the feed are wrong and a trigger that should have fired did not. The
//! fix is to fetch the 1-minute bars of the missed stretch over REST, merge them over the stored
//! ones, and re-run the trigger engine over them (a trigger found there fires once, marked late).
//! [`gap_repair_plan`] says *which minutes* (pure); [`GapRepair`] fetches them in the background
//! once they are closed and hands them to the ingest task as [`Feed::Gap`], which merges them and
//! replays them through the trigger engine.
//!
//! The stretch starts at the earlier of two market times — the last data received before the drop
//! (a dead session can go unnoticed until its idle timeout, so data may have stopped well before the
//! drop was detected) and `resumed_at − gap` — and ends at `resumed_at` (market time, from the
//! upstream, never the wall clock). Both end minutes are included: the bar of the drop's minute is
//! incomplete and the current one is forming. Only minutes that make regular candles count, day by
//! day with each day's session hours from the calendar (late openings, the 수능 day, holidays): a
//! trade during the opening auction belongs to the first minute and the closing auction's to the
//! last, as `market::candle` buckets them.

use std::sync::Arc;
use std::time::Duration;

use jiff::civil::{Date, DateTime, Time};
use jiff::{SignedDuration, ToSpan};
use kis::Priority;
use market::StockCode;
use market::krx::{Calendar, SessionHours};
use tokio::sync::mpsc;

use super::feed::Feed;
use crate::tasks::Tasks;
use crate::upstream::{Gateway, GatewayError};

/// Consecutive minutes of one day, by the minute's start, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapSpan {
    pub date: Date,
    pub first: Time,
    pub last: Time,
}

impl GapSpan {
    pub fn minutes(&self) -> usize {
        let span = self.last.duration_since(self.first).as_secs() / 60 + 1;
        usize::try_from(span).unwrap_or(0)
    }

    /// The minute starts of the span, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = DateTime> + '_ {
        (0..self.minutes()).map(move |i| {
            let t = self.first.saturating_add(SignedDuration::from_mins(i as i64));
            self.date.to_datetime(t)
        })
    }
}

/// The minutes to fetch for each of a set of stocks (the same stretch for all of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapPlan {
    pub codes: Vec<StockCode>,
    /// Oldest first; empty when the stretch had no regular session.
    pub spans: Vec<GapSpan>,
}

impl GapPlan {
    pub fn minutes(&self) -> usize {
        self.spans.iter().map(GapSpan::minutes).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// The plan after a feed gap. `last_received`: the market time of the last data received before
/// the drop, if any; `resumed_at`: the market time now; `gap`: the drop's length as the realtime
/// client measured it.
pub fn gap_repair_plan(
    codes: &[StockCode],
    last_received: Option<DateTime>,
    resumed_at: DateTime,
    gap: Duration,
    calendar: &Calendar,
) -> GapPlan {
    let gap = SignedDuration::try_from(gap).unwrap_or(SignedDuration::MAX);
    let by_gap = resumed_at.checked_sub(gap).unwrap_or(DateTime::MIN);
    let start = last_received.map_or(by_gap, |t| t.min(by_gap));
    GapPlan {
        codes: codes.to_vec(),
        spans: session_minutes(start, resumed_at, calendar),
    }
}

/// The regular-session minutes between two market times, as one span per trading day.
pub fn session_minutes(start: DateTime, end: DateTime, calendar: &Calendar) -> Vec<GapSpan> {
    if start > end {
        return Vec::new();
    }
    // A stretch longer than a few weeks is a backfill, not a gap; cap the walk.
    let start = start.max(end.checked_sub(40.days()).unwrap_or(DateTime::MIN));
    let mut spans = Vec::new();
    for date in calendar.trading_days(start.date(), end.date()) {
        let Some(hours) = calendar.hours(date) else {
            continue;
        };
        let lo = if date == start.date() {
            start.time()
        } else {
            Time::MIN
        };
        let hi = if date == end.date() { end.time() } else { Time::MAX };
        if let Some(span) = day_span(date, &hours, lo, hi) {
            spans.push(span);
        }
    }
    spans
}

/// The minutes of `[lo, hi]` on `date` that make regular candles.
fn day_span(date: Date, hours: &SessionHours, lo: Time, hi: Time) -> Option<GapSpan> {
    // Trades in [opening auction, after-hours) make candles, clamped into [open, close − 1 min].
    let window = (hours.opening_auction, hours.after_hours_close.0);
    if hi < window.0 || lo >= window.1 {
        return None;
    }
    let last_minute = hours.close.saturating_sub(SignedDuration::from_mins(1));
    let clamp = |t: Time| floor_minute(t.clamp(hours.open, last_minute));
    let (first, last) = (clamp(lo), clamp(hi));
    (first <= last).then_some(GapSpan { date, first, last })
}

fn floor_minute(t: Time) -> Time {
    Time::new(t.hour(), t.minute(), 0, 0).unwrap_or(t)
}

/// Refetches the minutes a feed gap covered, in the background, and sends them to the ingest task.
#[derive(Clone)]
pub struct GapRepair {
    gateway: Arc<Gateway>,
    feed: mpsc::Sender<Feed>,
    tasks: Tasks,
}

impl GapRepair {
    pub fn new(gateway: Arc<Gateway>, feed: mpsc::Sender<Feed>, tasks: Tasks) -> GapRepair {
        GapRepair { gateway, feed, tasks }
    }

    /// Starts the repair of `codes` for the minutes between `last_received` (the market time of the
    /// last data before the gap) and `resumed_at` (when data flowed again); `gap`: the drop's length.
    pub fn repair(
        &self,
        codes: Vec<StockCode>,
        last_received: Option<DateTime>,
        resumed_at: DateTime,
        gap: Duration,
    ) {
        let plan = gap_repair_plan(&codes, last_received, resumed_at, gap, Calendar::krx());
        if plan.is_empty() || plan.codes.is_empty() {
            return;
        }
        tracing::info!(spans = ?plan.spans, ?last_received, %resumed_at, "gap: refetching minutes");
        let this = self.clone();
        self.tasks.spawn(async move { this.fetch(plan).await });
    }

    /// Waits until the plan's last minute is closed upstream, then fetches and sends each stock's
    /// bars of the plan.
    async fn fetch(&self, plan: GapPlan) {
        let Some(last) = plan.spans.last().map(|s| s.date.to_datetime(s.last)) else {
            return;
        };
        // The resumption's minute was only partly missed: wait until it is closed upstream, so the
        // refetched bar is final (market time, which runs with the feed).
        let closed_at = last.saturating_add(jiff::SignedDuration::from_mins(1));
        while self.gateway.clock.now().is_none_or(|now| now < closed_at) {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        for code in plan.codes.iter().copied() {
            let mut bars = Vec::new();
            for span in &plan.spans {
                let fetched = if Some(span.date) == self.gateway.clock.today() {
                    self.gateway.invalidate_today(code).await;
                    match self.gateway.today_minutes(code, Priority::Background).await {
                        // The closed minutes are in the store now; the newest one upstream (which
                        // the gateway keeps as forming) is closed too when it lies in the span.
                        Ok(today) => self
                            .gateway
                            .store()
                            .minutes(
                                code,
                                Some(
                                    span.date
                                        .to_datetime(span.last)
                                        .saturating_add(jiff::SignedDuration::from_mins(1)),
                                ),
                                span.minutes() + 1,
                            )
                            .await
                            .map(|mut bars| {
                                if let Some(f) = today.forming
                                    && bars.last().is_none_or(|l| l.time < f.time)
                                {
                                    bars.push(f);
                                }
                                bars
                            })
                            .map_err(GatewayError::from),
                        Err(e) => Err(e),
                    }
                } else {
                    self.gateway.past_minutes(code, span.date).await
                };
                match fetched {
                    Ok(got) => bars.extend(got.into_iter().filter(|b| {
                        b.time.date() == span.date
                            && b.time.time() >= span.first
                            && b.time.time() <= span.last
                    })),
                    Err(e) => tracing::warn!(%code, error = %e, "gap: refetching minutes failed"),
                }
            }
            if !bars.is_empty() && self.feed.send(Feed::Gap { code, bars }).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::{date, time};
    use proptest::prelude::*;

    use super::*;

    fn codes() -> Vec<StockCode> {
        vec![StockCode::parse("005930").unwrap()]
    }

    fn plan(last: Option<DateTime>, resumed: DateTime, gap_secs: u64) -> Vec<GapSpan> {
        gap_repair_plan(
            &codes(),
            last,
            resumed,
            Duration::from_secs(gap_secs),
            Calendar::krx(),
        )
        .spans
    }

    fn span(d: Date, first: Time, last: Time) -> GapSpan {
        GapSpan { date: d, first, last }
    }

    const FRIDAY: Date = date(2026, 11, 20);
    const MONDAY: Date = date(2026, 11, 23);

    #[test]
    fn a_short_drop_refetches_its_minutes_both_ends_included() {
        let spans = plan(None, FRIDAY.at(10, 17, 10, 0), 100);
        assert_eq!(spans, [span(FRIDAY, time(10, 15, 0, 0), time(10, 17, 0, 0))]);
        assert_eq!(spans[0].minutes(), 3);
        assert_eq!(
            spans[0].iter().map(|t| t.time()).collect::<Vec<_>>(),
            [time(10, 15, 0, 0), time(10, 16, 0, 0), time(10, 17, 0, 0)]
        );
    }

    #[test]
    fn data_that_stopped_before_the_drop_was_noticed_counts() {
        // The session went silent at 10:10:05 and was declared dead at 10:14; back at 10:15.
        let spans = plan(Some(FRIDAY.at(10, 10, 5, 0)), FRIDAY.at(10, 15, 0, 0), 60);
        assert_eq!(spans, [span(FRIDAY, time(10, 10, 0, 0), time(10, 15, 0, 0))]);
    }

    #[test]
    fn auctions_fold_into_the_first_and_last_minutes() {
        assert_eq!(
            plan(None, FRIDAY.at(9, 2, 0, 0), 12 * 60),
            [span(FRIDAY, time(9, 0, 0, 0), time(9, 2, 0, 0))]
        );
        assert_eq!(
            plan(None, FRIDAY.at(15, 35, 0, 0), 15 * 60),
            [span(FRIDAY, time(15, 20, 0, 0), time(15, 29, 0, 0))]
        );
        // Entirely outside the session: nothing to fetch.
        assert!(plan(None, FRIDAY.at(8, 20, 0, 0), 600).is_empty());
        assert!(plan(None, FRIDAY.at(17, 0, 0, 0), 1800).is_empty());
    }

    #[test]
    fn over_a_weekend_each_trading_day_gets_its_span() {
        let spans = plan(Some(FRIDAY.at(15, 25, 0, 0)), MONDAY.at(9, 1, 30, 0), 60);
        assert_eq!(
            spans,
            [
                span(FRIDAY, time(15, 25, 0, 0), time(15, 29, 0, 0)),
                span(MONDAY, time(9, 0, 0, 0), time(9, 1, 0, 0)),
            ]
        );
    }

    #[test]
    fn special_days_use_their_hours() {
        // 2026-01-02, the first trading day of the year, opens at 10:00.
        let d = date(2026, 1, 2);
        assert_eq!(
            plan(None, d.at(10, 1, 0, 0), 3600),
            [span(d, time(10, 0, 0, 0), time(10, 1, 0, 0))]
        );
        // Across 추석 2026 (09-24..09-26 closed; 09-25 is a Friday): Wednesday to Monday.
        let spans = plan(
            Some(date(2026, 9, 23).at(15, 29, 0, 0)),
            date(2026, 9, 28).at(9, 0, 30, 0),
            1,
        );
        assert_eq!(
            spans,
            [
                span(date(2026, 9, 23), time(15, 29, 0, 0), time(15, 29, 0, 0)),
                span(date(2026, 9, 28), time(9, 0, 0, 0), time(9, 0, 0, 0)),
            ]
        );
    }

    proptest! {
        /// Every regular-session minute in the stretch is covered, nothing else is, spans are in
        /// order and each lies inside its day's session.
        #[test]
        fn spans_cover_exactly_the_session_minutes(
            start_min in 0i64..(60 * 24 * 6),
            len_min in 0i64..(60 * 24 * 4),
        ) {
            let origin = date(2026, 11, 18).at(0, 0, 0, 0);
            let start = origin.checked_add(SignedDuration::from_mins(start_min)).unwrap();
            let end = start.checked_add(SignedDuration::from_mins(len_min)).unwrap();
            let cal = Calendar::krx();
            let spans = session_minutes(start, end, cal);
            let covered: Vec<DateTime> = spans.iter().flat_map(|s| s.iter().collect::<Vec<_>>()).collect();
            prop_assert!(covered.windows(2).all(|w| w[0] < w[1]));
            // The model: walk every minute; a minute in [open, close) of a trading day must be covered
            // when the stretch touches it (with the auctions folded in at the ends).
            let mut t = start.date().to_datetime(floor_minute(start.time()));
            let mut expected = Vec::new();
            while t <= end {
                if let Some(h) = cal.hours(t.date()) {
                    let tt = t.time();
                    if tt >= h.open && tt < h.close {
                        expected.push(t);
                    }
                }
                t = t.checked_add(SignedDuration::from_mins(1)).unwrap();
            }
            for e in &expected {
                prop_assert!(covered.contains(e), "{} not covered", e);
            }
            for c in &covered {
                let h = cal.hours(c.date()).unwrap();
                prop_assert!(c.time() >= h.open && c.time() < h.close);
            }
        }
    }
}
