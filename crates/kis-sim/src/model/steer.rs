//! How a [`Scenario`] acts on the future: a controller that watches the moving averages of the
//! scenario's period and adds a drift to the stock's trades until the pattern has *formed*.
//!
//! * The averages are the simple moving averages of bar closes (MA5/20/60/120/240) on the scenario's
//!   period, intraday bars anchored at 09:00 KST, the forming bar included — what a chart shows.
//! * Alignments (정배열/역배열) and crosses fire on a change, so if the pattern already holds the controller
//!   first pushes the other way until it no longer does (for a golden cross: until MA5 < MA20 < MA60,
//!   each 0.5% apart), then pushes towards it until it holds, then stops. An average with fewer bars than its
//!   length (e.g. MA240 on 60-minute bars, which needs more than the kept 22 days) is left out.
//! * Leaving can be impossible within the daily limits (a stock deep in 역배열 on daily bars would need
//!   weeks of limit-up days to leave it): after two sessions of trying the controller gives up
//!   and the scenario ends with the pattern still holding. Building gives up likewise after three
//!   sessions (five for D), so a hopeless scenario never multiplies the price day after day.
//! * The push is a drift of 0.12% (1m) to 0.5% (D) per minute, growing the longer a stage lasts (up to
//!   4×), on top of the normal noise; it is bounded by the ±30% daily limit.
//! * "Soon" therefore means, in virtual session minutes (390 a session; measured over 4 seeds for each
//!   pattern): 1m 10–50 min; 5m 25–130 min; 30m and 60m crosses 35 min–5 h, alignments 2.5–12 h
//!   (MA240 of 30-minute bars spans 18 sessions, so an alignment against the trend needs a few sessions
//!   of rally); D crosses 1–5 sessions and D alignments only when the long averages allow (MA240 on
//!   daily bars is a year; a stock deep in the opposite state makes the scenario give up). At speed 1 virtual time is real time: raise the speed or `advance` the clock to see
//!   it sooner.
//! * A path scenario makes the next trades walk through the given prices, then the stock moves on
//!   randomly from the last one.

use jiff::civil::{Date, time};

use super::scenario::{Scenario, ScenarioPeriod};
use super::tape::secs_of;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    Bullish,
    Bearish,
    GoldenCross,
    DeadCross,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The pattern holds already: push away until it does not.
    Leave,
    /// Push towards the pattern until it holds.
    Build,
    Done,
}

/// The state of one stock's active scenario.
#[derive(Debug, Clone)]
pub(crate) struct Steer {
    goal: Option<Goal>,
    period: ScenarioPeriod,
    /// Closes of finished bars of the period, oldest first (at most the last 240 are used).
    closes: Vec<i64>,
    /// The forming bar: its key and last price.
    forming: Option<((Date, u32), i64)>,
    stage: Stage,
    minutes_in_stage: u32,
    path: Option<Vec<i64>>,
}

/// Before a cross is built, the averages are pushed this far apart (0.5%), so that the cross that follows
/// is a clear one and not noise around two nearly equal averages.
const LEAVE_MARGIN: f64 = 0.005;

/// Keeps this many closes; older ones are dropped in batches.
const KEEP: usize = 240;

impl Steer {
    pub fn new(scenario: &Scenario) -> Steer {
        let (goal, period, path) = match scenario {
            Scenario::BullishAlignment { period } => (Some(Goal::Bullish), *period, None),
            Scenario::BearishAlignment { period } => (Some(Goal::Bearish), *period, None),
            Scenario::GoldenCross { period } => (Some(Goal::GoldenCross), *period, None),
            Scenario::DeadCross { period } => (Some(Goal::DeadCross), *period, None),
            Scenario::Path { prices } => (None, ScenarioPeriod::Day, Some(prices.clone())),
        };
        Steer {
            goal,
            period,
            closes: Vec::new(),
            forming: None,
            stage: Stage::Build,
            minutes_in_stage: 0,
            path,
        }
    }

    pub fn period(&self) -> ScenarioPeriod {
        self.period
    }

    /// Whether it has nothing more to do.
    pub fn is_done(&self) -> bool {
        match self.goal {
            Some(_) => self.stage == Stage::Done,
            None => self.path.is_none(),
        }
    }

    /// The path prices still to trade, handed over once.
    pub fn take_path(&mut self) -> Option<Vec<i64>> {
        self.path.take()
    }

    pub fn put_back_path(&mut self, rest: Vec<i64>) {
        if !rest.is_empty() {
            self.path = Some(rest);
        }
    }

    /// Records a trade (or a bar close) at `sec` seconds after midnight of `date`.
    pub fn observe(&mut self, date: Date, sec: u32, price: i64) {
        let key = match self.period {
            ScenarioPeriod::Day => (date, 0),
            ScenarioPeriod::Minutes(m) => {
                let since = sec.saturating_sub(secs_of(time(9, 0, 0, 0))) / 60;
                (date, since / m.max(1))
            }
        };
        match self.forming {
            Some((k, _)) if k == key => self.forming = Some((key, price)),
            Some((_, close)) => {
                self.closes.push(close);
                if self.closes.len() > 2 * KEEP {
                    self.closes.drain(..self.closes.len() - KEEP);
                }
                self.forming = Some((key, price));
            }
            None => self.forming = Some((key, price)),
        }
    }

    /// Called once per minute: the extra log drift per minute to apply now.
    pub fn push(&mut self) -> f64 {
        let Some(goal) = self.goal else { return 0.0 };
        if self.minutes_in_stage == 0 && self.stage == Stage::Build && self.holds(goal) {
            // First call: the pattern holds already, so it has to be left before it can form.
            self.stage = Stage::Leave;
        }
        self.minutes_in_stage += 1;
        let up = matches!(goal, Goal::Bullish | Goal::GoldenCross);
        let direction = match self.stage {
            Stage::Leave => {
                if self.left(goal) {
                    self.stage = Stage::Build;
                    self.minutes_in_stage = 1;
                } else if self.minutes_in_stage > self.leave_budget() {
                    // Too far in: the pattern has held all along; leave it be.
                    self.stage = Stage::Done;
                    return 0.0;
                }
                if up { -1.0 } else { 1.0 }
            }
            Stage::Build => {
                if self.holds(goal) || self.minutes_in_stage > self.build_budget() {
                    self.stage = Stage::Done;
                    return 0.0;
                }
                if up { 1.0 } else { -1.0 }
            }
            Stage::Done => return 0.0,
        };
        let ramp = (1.0 + f64::from(self.minutes_in_stage) / 60.0).min(4.0);
        direction * self.strength() * ramp
    }

    /// Minutes the controller tries to leave a pattern that already holds before it gives up.
    fn leave_budget(&self) -> u32 {
        match self.period {
            ScenarioPeriod::Day | ScenarioPeriod::Minutes(_) => 2 * 390,
        }
    }

    /// Minutes the controller pushes towards the pattern before it gives up (so a hopeless scenario
    /// does not multiply the price day after day).
    fn build_budget(&self) -> u32 {
        match self.period {
            ScenarioPeriod::Day => 5 * 390,
            ScenarioPeriod::Minutes(_) => 3 * 390,
        }
    }

    fn strength(&self) -> f64 {
        match self.period {
            ScenarioPeriod::Minutes(1) => 0.0012,
            ScenarioPeriod::Minutes(3) => 0.0015,
            ScenarioPeriod::Minutes(5) => 0.0018,
            ScenarioPeriod::Minutes(10) => 0.002,
            ScenarioPeriod::Minutes(15) => 0.0022,
            ScenarioPeriod::Minutes(30) => 0.003,
            ScenarioPeriod::Minutes(_) => 0.0035,
            ScenarioPeriod::Day => 0.005,
        }
    }

    /// The simple average of the last `n` closes (forming bar included), if there are `n`.
    fn ma(&self, n: usize) -> Option<f64> {
        let forming = self.forming.map(|(_, p)| p);
        let total = self.closes.len() + usize::from(forming.is_some());
        if n == 0 || total < n {
            return None;
        }
        let from_closes = n - usize::from(forming.is_some());
        let sum: i128 = self.closes[self.closes.len() - from_closes..]
            .iter()
            .map(|&c| c as i128)
            .sum::<i128>()
            + forming.map_or(0, |p| p as i128);
        Some(sum as f64 / n as f64)
    }

    /// Whether the averages `periods` (those with enough bars) are strictly ordered.
    fn ordered(&self, periods: &[usize], descending: bool) -> bool {
        self.ordered_apart(periods, descending, 0.0)
    }

    /// Whether the averages (those with enough bars) are ordered with each at least `margin` (a
    /// fraction) beyond the next.
    fn ordered_apart(&self, periods: &[usize], descending: bool, margin: f64) -> bool {
        let known: Vec<f64> = periods.iter().filter_map(|&n| self.ma(n)).collect();
        known.len() >= 2
            && known.windows(2).all(|w| {
                if descending {
                    w[0] > w[1] * (1.0 + margin)
                } else {
                    w[0] * (1.0 + margin) < w[1]
                }
            })
    }

    fn holds(&self, goal: Goal) -> bool {
        const ALL: [usize; 4] = [20, 60, 120, 240];
        match goal {
            Goal::Bullish => self.ordered(&ALL, true),
            Goal::Bearish => self.ordered(&ALL, false),
            Goal::GoldenCross => self.ordered(&[20, 60], true),
            Goal::DeadCross => self.ordered(&[20, 60], false),
        }
    }

    /// Whether the state from which the pattern can form has been reached.
    fn left(&self, goal: Goal) -> bool {
        match goal {
            Goal::Bullish | Goal::Bearish => !self.holds(goal),
            Goal::GoldenCross => self.ordered_apart(&[5, 20, 60], false, LEAVE_MARGIN),
            Goal::DeadCross => self.ordered_apart(&[5, 20, 60], true, LEAVE_MARGIN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn feed(steer: &mut Steer, closes: &[i64]) {
        let d = date(2026, 11, 20);
        for (i, &c) in closes.iter().enumerate() {
            steer.observe(d, 9 * 3600 + 60 * i as u32, c);
        }
    }

    #[test]
    fn pushes_up_for_bullish_until_aligned() {
        let mut s = Steer::new(&Scenario::BullishAlignment {
            period: ScenarioPeriod::Minutes(1),
        });
        // A falling market: bearish, so build straight away.
        let falling: Vec<i64> = (0..300).map(|i| 20_000 - 10 * i).collect();
        feed(&mut s, &falling);
        assert!(s.push() > 0.0);
        // A rising tail long enough for every average to order itself.
        let rising: Vec<i64> = (0..300).map(|i| 17_000 + 20 * i).collect();
        let mut more = falling.clone();
        more.extend(rising);
        let mut s2 = Steer::new(&Scenario::BullishAlignment {
            period: ScenarioPeriod::Minutes(1),
        });
        s2.stage = Stage::Build;
        s2.minutes_in_stage = 5;
        feed(&mut s2, &more);
        assert_eq!(s2.push(), 0.0);
        assert!(s2.is_done());
    }

    #[test]
    fn golden_cross_first_leaves_when_already_above() {
        let mut s = Steer::new(&Scenario::GoldenCross {
            period: ScenarioPeriod::Minutes(1),
        });
        let rising: Vec<i64> = (0..100).map(|i| 10_000 + 10 * i).collect();
        feed(&mut s, &rising);
        assert!(s.push() < 0.0, "MA20 is above MA60: push down first");
        assert_eq!(s.stage, Stage::Leave);
    }

    #[test]
    fn path_is_handed_over_once() {
        let mut s = Steer::new(&Scenario::Path { prices: vec![1, 2] });
        assert!(!s.is_done());
        assert_eq!(s.take_path(), Some(vec![1, 2]));
        assert!(s.is_done());
        assert_eq!(s.push(), 0.0);
    }
}
