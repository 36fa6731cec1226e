//! How a [`Scenario`] acts on the future: a controller that watches the moving averages of the
//! scenario's period and adds a drift to the stock's trades until the pattern has *formed*.
//!
//! * The averages are the simple moving averages of bar closes (MA20/60/120/240) on the scenario's
//!   period, intraday bars anchored at 09:00 KST, the forming bar included — what a chart shows —
//!   kept by `market`'s own [`MovingAverages`], the implementation the trigger engine uses. A golden
//!   (dead) cross is MA20 crossing above (below) MA60, the pair of the condition language's
//!   골든크로스/데드크로스 presets ([`CROSS_PERIODS`]), so a steered cross fires that preset.
//! * The past is fixed and known, and every average is linear in the price of the bars still to come: if
//!   the forming bar and the next `k - 1` bars all close at `p`, each pair of averages is ordered as the
//!   pattern needs exactly when `p` is beyond a bound computed from the finished closes. A *plan* takes
//!   the fewest bars `k` (at most 12) whose bound is within reach — a move of at most 25% (8% to leave a
//!   pattern), and at most 0.5% per minute of those bars — walks the price there (at most 1% per minute,
//!   on top of the noise) and holds it beyond the bound, with a 0.2% margin. A flat past needs a small
//!   move held for a bar or two; averages ordered the other way (a long trend) need a bigger move or
//!   more bars. Prices stay on the tick grid and inside the ±30% daily limits: a bound beyond the limit
//!   is simply not reached, and the next plan takes more bars.
//! * Alignments (정배열/역배열) and crosses fire on a change, so if the pattern already holds the controller
//!   first leaves it (an alignment: the cheapest pair of averages out of order; a cross: MA20 0.2% on the
//!   other side of MA60), and only once a bar has *closed* with the pattern left does it build the
//!   pattern; it stops once a bar has closed with the pattern holding, so both changes show on the
//!   chart. An average with fewer bars than its length (e.g. MA240 on 60-minute bars, which needs more
//!   than the kept 22 days) is left out.
//! * It gives up — the scenario ends, documented, with the pattern not formed — when three plans in a
//!   row have missed their bar, or after two sessions of a stage (thirteen for daily bars), so a hopeless
//!   scenario never walks the price day after day.
//! * "Soon" therefore means, in virtual time from the request (measured over 5 stocks and seeds for
//!   each pattern): 1m 3–30 min; 5m 1–80 min; 30m 15 min–2 h when the long averages allow, up to the
//!   next session against a long trend; 60m 30 min–12 h; daily bars 1–3 days, or (9 of 20 measured)
//!   a give-up when the stock is deep in the opposite state (MA240 on daily bars is a year). At speed 1 virtual time is
//!   real time: raise the speed or `advance` the clock to see it sooner.
//! * A path scenario makes the next trades walk through the given prices, then the stock moves on
//!   randomly from the last one.

use jiff::civil::{Date, time};
use market::ma::{MovingAverages, WindowId};
use market::preset::CROSS_PERIODS;

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

/// A bar's key: its date and, for intraday bars, its index since 09:00.
type BarKey = (Date, u32);

/// The state of one stock's active scenario.
#[derive(Debug, Clone)]
pub(crate) struct Steer {
    goal: Option<Goal>,
    period: ScenarioPeriod,
    /// Closes of finished bars of the period, oldest first (at most the last 240 are used), for the
    /// plans' arithmetic.
    closes: Vec<i64>,
    /// The averages of the closes, the forming bar included.
    averages: MovingAverages,
    windows: Vec<(usize, WindowId)>,
    /// The forming bar: its key and last price.
    forming: Option<(BarKey, i64)>,
    stage: Stage,
    /// The bar in which the current stage's aim was first met: the stage ends when that bar closes
    /// with the aim still met, so the change shows on the chart's closes.
    met_in: Option<BarKey>,
    /// Bars finished since the scenario began (the forming bar's number).
    bars_seen: u64,
    /// The number of the bar by whose close the current stage's aim is planned to be met.
    deadline: Option<u64>,
    /// Plans made in the current stage.
    plans: u32,
    minutes_in_stage: u32,
    path: Option<Vec<i64>>,
}

/// Before a cross is built, the averages are pushed this far apart (0.2%), so that the cross that follows
/// is a clear one and not noise around two nearly equal averages.
const LEAVE_MARGIN: f64 = 0.002;

/// The price aimed at puts the averages this far apart (0.2%), so that the noise of the last trades
/// before the bar closes does not undo the pattern.
const AIM_MARGIN: f64 = 0.002;

/// The largest push per minute (a log return of 1%): a sharp but not instant move.
const MAX_PUSH: f64 = 0.01;

/// A plan holds the price for at most this many bars.
const MAX_PLAN_BARS: usize = 12;

/// A stage whose plans missed this many times gives up.
const MAX_PLANS: u32 = 3;

/// The averages of an alignment (정배열/역배열), as the condition language's presets.
const ALL: [usize; 4] = market::alignment::DEFAULT_PERIODS;

/// Keeps this many closes; older ones are dropped in batches.
const KEEP: usize = 240;

/// Which side of a bound the price must be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// At or above the bound.
    Above,
    /// At or below the bound.
    Below,
}

impl Steer {
    pub fn new(scenario: &Scenario) -> Steer {
        let (goal, period, path) = match scenario {
            Scenario::BullishAlignment { period } => (Some(Goal::Bullish), *period, None),
            Scenario::BearishAlignment { period } => (Some(Goal::Bearish), *period, None),
            Scenario::GoldenCross { period } => (Some(Goal::GoldenCross), *period, None),
            Scenario::DeadCross { period } => (Some(Goal::DeadCross), *period, None),
            Scenario::Path { prices } => (None, ScenarioPeriod::Day, Some(prices.clone())),
        };
        let mut averages = MovingAverages::new();
        let windows = ALL
            .iter()
            .chain(&CROSS_PERIODS)
            .map(|&n| (n, averages.register(n)))
            .collect();
        Steer {
            goal,
            period,
            closes: Vec::new(),
            averages,
            windows,
            forming: None,
            stage: Stage::Build,
            met_in: None,
            bars_seen: 0,
            deadline: None,
            plans: 0,
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
            Some((k, _)) if k == key => self.averages.revise_last(price),
            Some((_, close)) => {
                self.closes.push(close);
                self.bars_seen += 1;
                if self.closes.len() > 2 * KEEP {
                    self.closes.drain(..self.closes.len() - KEEP);
                }
                self.averages.push(price);
            }
            None => self.averages.push(price),
        }
        self.forming = Some((key, price));
    }

    /// Called once per minute: the extra log drift per minute to apply now.
    pub fn push(&mut self) -> f64 {
        let Some(goal) = self.goal else { return 0.0 };
        let Some((key, last)) = self.forming else {
            return 0.0;
        };
        if self.minutes_in_stage == 0 && self.stage == Stage::Build && self.holds(goal) {
            // First call: the pattern holds already, so it has to be left before it can form.
            self.stage = Stage::Leave;
        }
        self.minutes_in_stage += 1;
        let aim_met = match self.stage {
            Stage::Leave => self.left(goal),
            Stage::Build => self.holds(goal),
            Stage::Done => return 0.0,
        };
        match (self.met_in, aim_met) {
            (None, true) => self.met_in = Some(key),
            // The bar in which the aim was met has closed with the aim still met: next stage.
            (Some(k), true) if k != key => {
                self.met_in = None;
                self.deadline = None;
                self.plans = 0;
                self.minutes_in_stage = 0;
                self.stage = match self.stage {
                    Stage::Leave => Stage::Build,
                    _ => Stage::Done,
                };
                return 0.0;
            }
            (Some(k), false) if k != key => self.met_in = None,
            _ => {}
        }
        let missed = self.deadline.is_some_and(|d| d < self.bars_seen);
        let out_of_plans = missed && self.plans >= MAX_PLANS;
        if self.met_in.is_none() && (out_of_plans || self.minutes_in_stage > self.budget()) {
            // Out of reach within the daily limits: the scenario gives up.
            self.stage = Stage::Done;
            return 0.0;
        }
        let Some((side, bound)) = self.planned_aim(goal, last) else {
            return 0.0;
        };
        let gap = (bound / last as f64).ln();
        match side {
            Side::Above if gap > 0.0 => (0.6 * gap + 0.0005).min(MAX_PUSH),
            Side::Below if gap < 0.0 => (0.6 * gap - 0.0005).max(-MAX_PUSH),
            _ => 0.0,
        }
    }

    /// The price to hold until the planned bar closes. A new plan (at the start of a stage, or when
    /// the planned bar has passed) takes the fewest bars for which the move needed is at most
    /// [`Steer::max_move`]; a target farther than the daily limits is simply not reached, and the
    /// stage's budget runs out.
    fn planned_aim(&mut self, goal: Goal, last: i64) -> Option<(Side, f64)> {
        if let Some(deadline) = self.deadline.filter(|&d| d >= self.bars_seen) {
            return self.aim(goal, (deadline - self.bars_seen + 1) as usize);
        }
        // The fewest bars whose move is within reach, else the smallest move of all.
        let last = last as f64;
        let mut closest: Option<(usize, (Side, f64), f64)> = None;
        for k in 1..=MAX_PLAN_BARS {
            let Some(aim) = self.aim(goal, k) else {
                continue;
            };
            let size = (aim.1 / last).ln().abs();
            let reach = self.max_move().min(0.5 * MAX_PUSH * self.minutes_of(k));
            if size <= reach {
                closest = Some((k, aim, 0.0));
                break;
            }
            if closest.is_none_or(|(_, _, s)| size < s) {
                closest = Some((k, aim, size));
            }
        }
        let (k, aim, _) = closest?;
        self.deadline = Some(self.bars_seen + k as u64 - 1);
        self.plans += 1;
        Some(aim)
    }

    /// The largest move from the last price a plan aims at (a log return): to build, most of what the
    /// ±30% daily limit allows, so a pattern against the trend forms in as few bars as the limits
    /// permit; to leave, a smaller move over more bars, so the way back is short.
    fn max_move(&self) -> f64 {
        match self.stage {
            Stage::Leave => 0.08,
            Stage::Build | Stage::Done => 0.25,
        }
    }

    /// Minutes of trading in `k` bars of the period.
    fn minutes_of(&self, k: usize) -> f64 {
        let per_bar = match self.period {
            ScenarioPeriod::Minutes(m) => f64::from(m),
            ScenarioPeriod::Day => 380.0,
        };
        k as f64 * per_bar
    }

    /// Minutes a stage may push without meeting its aim before the scenario gives up (so a hopeless
    /// scenario does not move the price day after day): two sessions, for daily bars the longest plan.
    fn budget(&self) -> u32 {
        match self.period {
            ScenarioPeriod::Day => (MAX_PLAN_BARS as u32 + 1) * 390,
            ScenarioPeriod::Minutes(_) => 2 * 390,
        }
    }

    /// The price at which the forming bar and the next `k - 1` bars must close for the current stage's
    /// aim to be met, given the finished closes (each average is linear in that price), with a margin.
    fn aim(&self, goal: Goal, k: usize) -> Option<(Side, f64)> {
        let up = matches!(goal, Goal::Bullish | Goal::GoldenCross);
        let (side, bound) = match (self.stage, goal) {
            (Stage::Build, Goal::Bullish | Goal::Bearish) => self.bound(&ALL, up, 0.0, true, k),
            (Stage::Build, _) => self.bound(&CROSS_PERIODS, up, 0.0, true, k),
            // Leaving an alignment: break the pair that is cheapest to break.
            (Stage::Leave, Goal::Bullish | Goal::Bearish) => self.bound(&ALL, !up, 0.0, false, k),
            (Stage::Leave, _) => self.bound(&CROSS_PERIODS, !up, LEAVE_MARGIN, true, k),
            (Stage::Done, _) => None,
        }?;
        let margin = match side {
            Side::Above => 1.0 + AIM_MARGIN,
            Side::Below => 1.0 - AIM_MARGIN,
        };
        Some((side, bound * margin))
    }

    /// The bound on the price at which the forming bar and the next `k - 1` bars close for the averages
    /// `periods` (those with enough bars) to be ordered descending (`descending`) or ascending, each
    /// `margin` beyond the next: for `all` every adjacent pair, otherwise at least one.
    fn bound(
        &self,
        periods: &[usize],
        descending: bool,
        margin: f64,
        all: bool,
        k: usize,
    ) -> Option<(Side, f64)> {
        let bars = self.closes.len() + 1;
        let known: Vec<usize> = periods.iter().copied().filter(|&n| n <= bars).collect();
        // Each average is `older / n + weight * p`: its older closes and its share of held bars.
        let term = |n: usize| {
            let held = k.min(n);
            (self.sum_of_last(n - held) / n as f64, held as f64 / n as f64)
        };
        let c = 1.0 + margin;
        let bounds = known.windows(2).filter_map(|w| {
            let ((oi, wi), (oj, wj)) = (term(w[0]), term(w[1]));
            let (num, den) = if descending {
                // oi + wi p > c (oj + wj p)
                (c * oj - oi, wi - c * wj)
            } else {
                // c (oi + wi p) < oj + wj p
                (oj - c * oi, c * wi - wj)
            };
            (den > 1e-12).then(|| num / den)
        });
        let pick = |a: Option<f64>, b: f64| {
            Some(a.map_or(b, |a| if descending == all { a.max(b) } else { a.min(b) }))
        };
        let bound = bounds.fold(None, pick)?;
        let side = if descending { Side::Above } else { Side::Below };
        (bound.is_finite() && bound > 0.0).then_some((side, bound))
    }

    /// The sum of the last `n` finished closes (fewer if there are fewer).
    fn sum_of_last(&self, n: usize) -> f64 {
        let n = n.min(self.closes.len());
        self.closes[self.closes.len() - n..]
            .iter()
            .map(|&c| c as f64)
            .sum()
    }

    /// The simple average of the last `n` closes (forming bar included), if there are `n`.
    fn ma(&self, n: usize) -> Option<f64> {
        let &(_, id) = self.windows.iter().find(|(len, _)| *len == n)?;
        self.averages.mean(id).map(|m| m.to_f64())
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
        match goal {
            Goal::Bullish => self.ordered(&ALL, true),
            Goal::Bearish => self.ordered(&ALL, false),
            Goal::GoldenCross => self.ordered(&CROSS_PERIODS, true),
            Goal::DeadCross => self.ordered(&CROSS_PERIODS, false),
        }
    }

    /// Whether the state from which the pattern can form has been reached.
    fn left(&self, goal: Goal) -> bool {
        match goal {
            Goal::Bullish | Goal::Bearish => !self.holds(goal),
            Goal::GoldenCross => self.ordered_apart(&CROSS_PERIODS, false, LEAVE_MARGIN),
            Goal::DeadCross => self.ordered_apart(&CROSS_PERIODS, true, LEAVE_MARGIN),
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
    fn pushes_up_for_bullish_and_stops_once_a_bar_closes_aligned() {
        let mut s = Steer::new(&Scenario::BullishAlignment {
            period: ScenarioPeriod::Minutes(1),
        });
        // A falling market: bearish, so build straight away.
        let falling: Vec<i64> = (0..300).map(|i| 20_000 - 10 * i).collect();
        feed(&mut s, &falling);
        assert!(s.push() > 0.0);
        assert_eq!(s.stage, Stage::Build);
        // A rising tail long enough for every average to order itself.
        let rising: Vec<i64> = (0..300).map(|i| 17_000 + 20 * i).collect();
        let mut more = falling.clone();
        more.extend(rising);
        let mut s2 = Steer::new(&Scenario::BullishAlignment {
            period: ScenarioPeriod::Minutes(1),
        });
        s2.minutes_in_stage = 5;
        feed(&mut s2, &more);
        s2.push();
        assert!(!s2.is_done(), "the forming bar has not closed yet");
        s2.observe(date(2026, 11, 20), 9 * 3600 + 60 * 600, 23_000);
        assert_eq!(s2.push(), 0.0);
        assert!(s2.is_done());
    }

    #[test]
    fn a_flat_past_needs_only_a_small_move_held_for_a_bar() {
        let mut s = Steer::new(&Scenario::BullishAlignment {
            period: ScenarioPeriod::Minutes(30),
        });
        // Flat around 10 000, the latest bars slightly lower: no alignment.
        let mut flat: Vec<i64> = (0..260).map(|i| 10_000 + 10 * (i % 3)).collect();
        flat.extend([9_990, 9_990, 9_980]);
        let d = date(2026, 11, 20);
        for (i, &c) in flat.iter().enumerate() {
            let day = d
                .checked_sub(jiff::Span::new().days((flat.len() - i) as i64 / 13))
                .unwrap();
            s.observe(day, 9 * 3600 + 1800 * (i as u32 % 13), c);
        }
        assert!(!s.holds(Goal::Bullish));
        let (side, bound) = s.aim(Goal::Bullish, 1).unwrap();
        assert_eq!(side, Side::Above);
        assert!(bound > 10_000.0 && bound < 10_500.0, "{bound}");
        // The forming bar at the bound: the averages are in order.
        let (key, _) = s.forming.unwrap();
        let last = *flat.last().unwrap();
        let (day, index) = key;
        s.observe(day, 9 * 3600 + 1800 * index, bound.ceil() as i64);
        assert_eq!(s.forming.unwrap().0, key, "the same forming bar, revised");
        assert!(s.holds(Goal::Bullish), "{last} → {bound}");
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
