//! Market scans (조건검색 over the whole market): one condition of a daily, weekly or monthly period
//! evaluated on every listing's bar series after each sweep of current prices, keeping the result set
//! (who matches, since when, with the values that made it true) and reporting who entered (편입) and
//! who left (이탈).
//!
//! Each stock's closed history is fed once ([`MarketScan::load_history`]); a sweep then only revises
//! the stock's forming bar with today's daily bar (for W and M, the bucket's earlier days merged with
//! today), so a sweep costs one bar revision and one evaluation per stock and condition, whatever
//! the history's length.
//!
//! Hysteresis, as the trigger engine's re-arm rule: a stock enters as soon as the condition holds; a
//! member leaves only when the condition was false on a closed bar (the sweep after the close) or on
//! [`MarketScan::LEAVE_AFTER`] sweeps in a row during the session. A stock flickering at the edge of
//! the condition during the day therefore stays in the set instead of producing enter/leave pairs.
//! A stock whose condition cannot be evaluated yet (too little history) is neither in nor out.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::{Date, DateTime, Time};

use crate::candle::{Candle, Period, aggregate};
use crate::code::StockCode;
use crate::condition::{Condition, Program};
use crate::krx::Calendar;
use crate::state::{Layout, SeriesState};

/// A scan cannot run this condition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// Market scans run on D, W and M bars only.
    #[error("a market scan runs on daily, weekly or monthly bars, not {0}")]
    Intraday(&'static str),
}

/// A stock in the result set.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The market time of the sweep it entered in.
    pub since: DateTime,
    /// The labelled values when it entered ([`MarketScan::values_now`] has the latest).
    pub values: Vec<(String, f64)>,
    /// Sweeps in a row where the condition was false (reset when it holds).
    misses: u32,
}

/// Entering or leaving the result set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Enter,
    Leave,
}

/// One 편입 or 이탈 of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub code: StockCode,
    pub kind: ChangeKind,
    /// The condition's labelled values at that sweep (for a leave, the values that no longer hold).
    pub values: Vec<(String, f64)>,
}

/// One listing's bars for a sweep: today's daily bar so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepBar {
    pub code: StockCode,
    pub today: Candle,
}

#[derive(Debug, Clone)]
struct Series {
    state: SeriesState,
    /// The bucket's days before today (W/M), merged into every revision of the forming bar.
    base: Option<Candle>,
    /// The date the forming bar was opened for (`None`: not yet).
    forming: Option<Date>,
}

/// One market-scope condition over the universe.
#[derive(Debug, Clone)]
pub struct MarketScan {
    condition: Condition,
    program: Program,
    layout: Layout,
    series: HashMap<StockCode, Series>,
    members: BTreeMap<StockCode, Member>,
    /// Listings whose truth was known at the last sweep.
    evaluated: usize,
}

impl MarketScan {
    /// Sweeps in a row with the condition false before a member leaves during the session.
    pub const LEAVE_AFTER: u32 = 3;

    pub fn new(condition: Condition) -> Result<MarketScan, ScanError> {
        if condition.period.is_intraday() {
            return Err(ScanError::Intraday(condition.period.as_str()));
        }
        let mut layout = Layout::new();
        let program = Program::compile(&condition.expr, &mut layout);
        Ok(MarketScan {
            condition,
            program,
            layout,
            series: HashMap::new(),
            members: BTreeMap::new(),
            evaluated: 0,
        })
    }

    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// Bars of the condition's period its longest average needs (plus one for a crossing's bar
    /// before): fewer, and the condition is unknown.
    pub fn bars_needed(&self) -> usize {
        self.layout.longest() + 1
    }

    /// Feeds a stock's closed daily bars (oldest first, every day before `today`; later ones are
    /// ignored), replacing what it had. Its membership is kept.
    pub fn load_history(&mut self, code: StockCode, daily: &[Candle], today: Date, calendar: &Calendar) {
        let period = self.condition.period;
        let before: Vec<Candle> = daily.iter().filter(|b| b.time.date() < today).copied().collect();
        let mut bars = if period == Period::Day {
            before
        } else {
            aggregate(&before, period, calendar)
        };
        let bucket = bucket_start(period, today);
        let base = match bars.last() {
            Some(last) if last.time == bucket => bars.pop(),
            _ => None,
        };
        let mut state = SeriesState::new(&self.layout);
        for bar in &bars {
            state.open(*bar);
        }
        self.series.insert(
            code,
            Series {
                state,
                base,
                forming: None,
            },
        );
    }

    /// Whether the stock has history loaded.
    pub fn has_history(&self, code: &StockCode) -> bool {
        self.series.contains_key(code)
    }

    /// Evaluates every listing of `bars` (those with history; the others are skipped) at the market
    /// time `as_of`; `closed`: the session is over, today's bar is final. Returns the set's changes,
    /// enters and leaves in code order.
    pub fn sweep(&mut self, as_of: DateTime, bars: &[SweepBar], closed: bool) -> Vec<Change> {
        let period = self.condition.period;
        let mut changes = Vec::new();
        let mut evaluated = 0;
        for bar in bars {
            let Some(series) = self.series.get_mut(&bar.code) else {
                continue;
            };
            let date = bar.today.time.date();
            let bucket = bucket_start(period, date);
            let new_day = series.forming != Some(date);
            if new_day
                && series.forming.is_some()
                && let Some(c) = series.state.current().copied()
                && c.time == bucket
            {
                // Yesterday's forming W/M bar is today's base.
                series.base = Some(c);
            }
            let forming = match series.base {
                Some(base) if base.time == bucket => {
                    let mut b = base;
                    b.absorb(&bar.today);
                    b
                }
                _ => Candle {
                    time: bucket,
                    ..bar.today
                },
            };
            // A new day's bar opens a new bar unless it is in the forming W/M bar's bucket.
            if !new_day || series.state.current().is_some_and(|c| c.time == bucket) {
                series.state.revise(forming);
            } else {
                series.state.open(forming);
            }
            series.forming = Some(date);
            let Some(truth) = self.program.truth(&series.state) else {
                continue;
            };
            evaluated += 1;
            match (truth, self.members.get_mut(&bar.code)) {
                (true, Some(member)) => member.misses = 0,
                (true, None) => {
                    let values = self.program.values(&series.state);
                    self.members.insert(
                        bar.code,
                        Member {
                            since: as_of,
                            values: values.clone(),
                            misses: 0,
                        },
                    );
                    changes.push(Change {
                        code: bar.code,
                        kind: ChangeKind::Enter,
                        values,
                    });
                }
                (false, Some(member)) => {
                    member.misses += 1;
                    if closed || member.misses >= Self::LEAVE_AFTER {
                        self.members.remove(&bar.code);
                        changes.push(Change {
                            code: bar.code,
                            kind: ChangeKind::Leave,
                            values: self.program.values(&series.state),
                        });
                    }
                }
                (false, None) => {}
            }
        }
        self.evaluated = evaluated;
        changes.sort_by_key(|c| c.code);
        changes
    }

    /// The result set, by code.
    pub fn members(&self) -> &BTreeMap<StockCode, Member> {
        &self.members
    }

    /// Puts back a stored result set (after a restart), so the next sweep reports only real changes.
    pub fn restore_member(&mut self, code: StockCode, since: DateTime, values: Vec<(String, f64)>) {
        self.members.insert(
            code,
            Member {
                since,
                values,
                misses: 0,
            },
        );
    }

    /// The condition's labelled values for a stock on its bars as last swept (computed on demand:
    /// a sweep does not build them for members that stay).
    pub fn values_now(&self, code: &StockCode) -> Option<Vec<(String, f64)>> {
        Some(self.program.values(&self.series.get(code)?.state))
    }

    /// Listings whose condition could be evaluated at the last sweep.
    pub fn evaluated(&self) -> usize {
        self.evaluated
    }

    /// Whether the condition holds for a stock on its bars as loaded and swept (no hysteresis): the
    /// plain truth a recomputation would find.
    pub fn holds(&self, code: &StockCode) -> Option<bool> {
        self.program.truth(&self.series.get(code)?.state)
    }
}

/// One day of a market scan's backtest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanDay {
    pub date: Date,
    /// Listings whose condition value was known that day.
    pub evaluated: usize,
    /// Listings in the result set (the condition true).
    pub matches: usize,
    /// Listings entering (true after false the bar before; the first known bar is no entry).
    pub entries: usize,
}

/// Forward returns after entering, against every listing-day of the universe, at one horizon.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScanHorizon {
    /// The horizon, in bars of the condition's period.
    pub bars: usize,
    /// Entries with a bar `bars` ahead.
    pub samples: usize,
    /// Mean gross percent return after an entry.
    pub mean_return: Option<f64>,
    /// Share (0..=1) of entries with a positive return.
    pub hit_rate: Option<f64>,
    /// Every evaluated listing-day with a bar `bars` ahead: the universe's average.
    pub universe_samples: usize,
    pub universe_mean_return: Option<f64>,
    pub universe_hit_rate: Option<f64>,
}

/// A market scan run over stored history: how many listings matched each day, and what entering
/// earned after 1, 5 and 20 bars against the universe's average over the same days.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanBacktest {
    /// Listings with bars.
    pub stocks: usize,
    /// By date, oldest first (days on which anything was evaluated).
    pub days: Vec<ScanDay>,
    pub entries: usize,
    /// One per [`crate::backtest::HORIZONS`].
    pub horizons: Vec<ScanHorizon>,
}

/// Runs a market scan over history, one listing at a time (each listing's bars are seen once and
/// dropped: memory is one listing's bars plus the per-day counts).
#[derive(Debug)]
pub struct ScanBacktester {
    program: Program,
    layout: Layout,
    days: BTreeMap<Date, ScanDay>,
    entries: [Vec<f64>; 3],
    universe: [Vec<f64>; 3],
    stocks: usize,
}

impl ScanBacktester {
    pub fn new(condition: &Condition) -> Result<ScanBacktester, ScanError> {
        if condition.period.is_intraday() {
            return Err(ScanError::Intraday(condition.period.as_str()));
        }
        let mut layout = Layout::new();
        let program = Program::compile(&condition.expr, &mut layout);
        Ok(ScanBacktester {
            program,
            layout,
            days: BTreeMap::new(),
            entries: Default::default(),
            universe: Default::default(),
            stocks: 0,
        })
    }

    /// One listing's closed bars of the condition's period, oldest first.
    pub fn add(&mut self, bars: &[Candle]) {
        use crate::backtest::{HORIZONS, forward_return};
        if bars.is_empty() {
            return;
        }
        self.stocks += 1;
        let mut state = SeriesState::new(&self.layout);
        // The truth on the bar before (`None`: unknown). The first known bar only says where the
        // listing stands, as when a scan starts: matching there is not entering.
        let mut was: Option<bool> = None;
        for (i, bar) in bars.iter().enumerate() {
            state.open(*bar);
            let Some(truth) = self.program.truth(&state) else {
                was = None;
                continue;
            };
            let date = bar.time.date();
            let day = self.days.entry(date).or_insert(ScanDay {
                date,
                ..ScanDay::default()
            });
            day.evaluated += 1;
            if truth {
                day.matches += 1;
            }
            let entering = truth && was == Some(false);
            if entering {
                day.entries += 1;
            }
            for (h, &k) in HORIZONS.iter().enumerate() {
                if let Some(r) = forward_return(bars, i, k) {
                    self.universe[h].push(r);
                    if entering {
                        self.entries[h].push(r);
                    }
                }
            }
            was = Some(truth);
        }
    }

    pub fn finish(self) -> ScanBacktest {
        use crate::backtest::{HORIZONS, mean, share_positive};
        let horizons = HORIZONS
            .iter()
            .enumerate()
            .map(|(h, &k)| ScanHorizon {
                bars: k,
                samples: self.entries[h].len(),
                mean_return: mean(&self.entries[h]),
                hit_rate: share_positive(&self.entries[h]),
                universe_samples: self.universe[h].len(),
                universe_mean_return: mean(&self.universe[h]),
                universe_hit_rate: share_positive(&self.universe[h]),
            })
            .collect();
        let days: Vec<ScanDay> = self.days.into_values().collect();
        ScanBacktest {
            stocks: self.stocks,
            entries: days.iter().map(|d| d.entries).sum(),
            days,
            horizons,
        }
    }
}

fn bucket_start(period: Period, date: Date) -> DateTime {
    period.date_bucket(date).to_datetime(Time::midnight())
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn a_backtest_counts_matches_and_entries_per_day_and_compares_with_the_universe() {
        let calendar = Calendar::krx();
        let condition = Condition::parse("D: close > ma(3)").unwrap();
        let mut bt = ScanBacktester::new(&condition).unwrap();
        // Rising: true from the 3rd bar on (one entry); flat: never true; falling then rising.
        let (rising, _) = days(calendar, date(2026, 11, 2), &[100, 101, 102, 103, 104, 105]);
        let (flat, _) = days(calendar, date(2026, 11, 2), &[100, 100, 100, 100, 100, 100]);
        let (dip, _) = days(calendar, date(2026, 11, 2), &[100, 99, 98, 99, 101, 100]);
        bt.add(&rising);
        bt.add(&flat);
        bt.add(&dip);
        bt.add(&[]);
        let r = bt.finish();
        assert_eq!(r.stocks, 3);
        // ma(3) is known from the 3rd bar: 4 days evaluated for each listing.
        assert_eq!(r.days.len(), 4);
        assert!(r.days.iter().all(|d| d.evaluated == 3));
        assert_eq!(r.days.iter().map(|d| d.matches).collect::<Vec<_>>(), [1, 2, 2, 1]);
        // Rising matches from its first known bar: where it stands, not an entry. The dip enters on
        // its 4th bar.
        assert_eq!(r.entries, 1);
        assert_eq!(r.days.iter().map(|d| d.entries).collect::<Vec<_>>(), [0, 1, 0, 0]);
        // 1 bar ahead: the dip's entry at 99 → 101.
        let one = &r.horizons[0];
        assert_eq!((one.bars, one.samples), (1, 1));
        let expect = (101.0 - 99.0) / 99.0 * 100.0;
        assert!((one.mean_return.unwrap() - expect).abs() < 1e-9);
        assert_eq!(one.hit_rate, Some(1.0));
        // The universe: every evaluated day with a next bar (3 a listing).
        assert_eq!(one.universe_samples, 9);
        assert!(one.universe_mean_return.unwrap() < one.mean_return.unwrap());
        assert_eq!(r.horizons[2].samples, 0, "no 20 bars ahead");
        assert!(ScanBacktester::new(&Condition::parse("5m: close > 1").unwrap()).is_err());
    }

    fn code(n: u32) -> StockCode {
        StockCode::parse(&format!("{n:06}")).unwrap()
    }

    fn day(d: Date, close: i64, volume: u64) -> Candle {
        Candle {
            time: d.to_datetime(Time::midnight()),
            open: close,
            high: close,
            low: close,
            close,
            volume,
        }
    }

    fn days(calendar: &Calendar, from: Date, closes: &[i64]) -> (Vec<Candle>, Date) {
        let mut d = from;
        let mut out = Vec::new();
        for &c in closes {
            while !calendar.is_trading_day(d) {
                d = d.tomorrow().unwrap();
            }
            out.push(day(d, c, 1000));
            d = d.tomorrow().unwrap();
        }
        while !calendar.is_trading_day(d) {
            d = d.tomorrow().unwrap();
        }
        (out, d)
    }

    #[test]
    fn intraday_conditions_are_refused() {
        let c = Condition::parse("5m: close > 1").unwrap();
        assert_eq!(MarketScan::new(c).unwrap_err(), ScanError::Intraday("5m"));
    }

    #[test]
    fn enter_once_flicker_stays_leave_after_misses_or_at_the_close() {
        let calendar = Calendar::krx();
        let (history, today) = days(calendar, date(2026, 1, 5), &[100; 5]);
        let mut scan = MarketScan::new(Condition::parse("D: close > ma(5)").unwrap()).unwrap();
        let (a, b) = (code(1), code(2));
        scan.load_history(a, &history, today, calendar);
        scan.load_history(b, &history, today, calendar);
        let at = |h: i8| today.to_datetime(Time::constant(h, 0, 0, 0));
        let sweep = |scan: &mut MarketScan, h: i8, pa: i64, pb: i64, closed: bool| {
            let bars = [
                SweepBar {
                    code: a,
                    today: day(today, pa, 10),
                },
                SweepBar {
                    code: b,
                    today: day(today, pb, 10),
                },
            ];
            scan.sweep(at(h), &bars, closed)
        };
        let c = sweep(&mut scan, 9, 110, 100, false);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].code, c[0].kind), (a, ChangeKind::Enter));
        assert_eq!(scan.evaluated(), 2);
        assert_eq!(scan.members()[&a].since, at(9));
        // Flickering: out, in, out, in: no change.
        for (h, p) in [(10, 100), (11, 110), (12, 100), (13, 110)] {
            assert!(sweep(&mut scan, h, p, 100, false).is_empty(), "hour {h}");
        }
        // False three sweeps in a row: one leave.
        assert!(sweep(&mut scan, 13, 100, 100, false).is_empty());
        assert!(sweep(&mut scan, 14, 100, 100, false).is_empty());
        let c = sweep(&mut scan, 15, 100, 100, false);
        assert_eq!((c.len(), c[0].kind), (1, ChangeKind::Leave));
        // In again, then false on the closed bar: out at once.
        assert_eq!(sweep(&mut scan, 15, 110, 100, false)[0].kind, ChangeKind::Enter);
        assert_eq!(sweep(&mut scan, 16, 100, 100, true)[0].kind, ChangeKind::Leave);
        assert!(scan.members().is_empty());
    }

    #[test]
    fn a_sweep_agrees_with_the_condition_run_over_the_whole_series() {
        let calendar = Calendar::krx();
        let closes: Vec<i64> = (0..80).map(|i| 1000 + (i * 37 % 23) * 10 - i).collect();
        let (history, today) = days(calendar, date(2025, 9, 1), &closes);
        for src in [
            "D: close > ma(20)",
            "W: close > ma(4)",
            "M: close < open",
            "D: 정배열",
        ] {
            let condition = Condition::parse(src).unwrap();
            let mut scan = MarketScan::new(condition.clone()).unwrap();
            scan.load_history(code(1), &history, today, calendar);
            let bar = day(today, 1015, 500);
            scan.sweep(
                today.to_datetime(Time::midnight()),
                &[SweepBar {
                    code: code(1),
                    today: bar,
                }],
                false,
            );
            // Recompute from scratch: all days with today's, aggregated, evaluated on the last bar.
            let mut all = history.clone();
            all.push(bar);
            let bars = if condition.period == Period::Day {
                all
            } else {
                aggregate(&all, condition.period, calendar)
            };
            let mut layout = Layout::new();
            let program = Program::compile(&condition.expr, &mut layout);
            let mut state = SeriesState::new(&layout);
            for b in &bars {
                state.open(*b);
            }
            assert_eq!(scan.holds(&code(1)), program.truth(&state), "{src}");
        }
    }
}
