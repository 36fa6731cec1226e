//! The slow forces behind a stock's daily moves: its fixed character ([`Profile`]) and a regime process
//! ([`Regime`]: trends, ranges, sharp reversals lasting days to weeks) on top of a long market cycle.
//!
//! A day's expected log return is `regime drift + cycle + pull towards the stock's price level`; its
//! volatility is the stock's daily volatility scaled by the regime. Trend regimes last 10–60 trading
//! days at 0.25–0.8% a day (so MA20/60 crossings and alignments occur on daily bars and, within a trend,
//! on 30-minute bars); the cycle (200–320 trading days, ±0.15–0.3% a day) makes MA120/240 alignments.

use std::f64::consts::TAU;

use rand::Rng;

use super::rng::{normal, uniform};
use super::stocks::{MarketKind, StockInfo};

/// A stock's fixed character, drawn once from (seed, code).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    /// The price the history wanders around (KRW).
    pub level: i64,
    /// Daily volatility of log returns.
    pub vol: f64,
    /// Typical shares traded per day.
    pub volume: f64,
    /// Typical trades per minute in the continuous session.
    pub trades_per_min: f64,
    cycle_period: f64,
    cycle_phase: f64,
    cycle_amp: f64,
}

impl Profile {
    pub fn new(info: &StockInfo, level: i64, rng: &mut impl Rng) -> Profile {
        let (vol, turnover_rate) = match info.market {
            MarketKind::Kospi => (uniform(rng, 0.012, 0.025), uniform(rng, 0.001, 0.005)),
            MarketKind::Kosdaq => (uniform(rng, 0.02, 0.035), uniform(rng, 0.003, 0.015)),
        };
        let volume = (info.listed_shares as f64 * turnover_rate).max(10_000.0);
        let value_bn = volume * level as f64 / 1e9;
        let trades_per_min = (3.0 + 4.0 * value_bn.max(1.0).log10()).clamp(3.0, 15.0);
        Profile {
            level,
            vol,
            volume,
            trades_per_min,
            cycle_period: uniform(rng, 200.0, 320.0),
            cycle_phase: uniform(rng, 0.0, TAU),
            cycle_amp: uniform(rng, 0.0015, 0.003),
        }
    }

    /// The starting price of the history, some way off the level.
    pub fn start_price(&self, rng: &mut impl Rng) -> f64 {
        self.level as f64 * (0.25 * normal(rng)).clamp(-0.5, 0.5).exp()
    }
}

/// The kind of regime the stock is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegimeKind {
    Up,
    Down,
    /// Sideways, pulled back to where the range started.
    Range,
    /// A short, sharp move against the previous trend.
    Reversal,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regime {
    pub kind: RegimeKind,
    days_left: u32,
    /// Log drift per day (for Range: the strength of the pull to `anchor`).
    drift: f64,
    vol_factor: f64,
    anchor: f64,
}

impl Regime {
    pub fn start(rng: &mut impl Rng, price: f64) -> Regime {
        let kind = match rng.random_range(0..3) {
            0 => RegimeKind::Up,
            1 => RegimeKind::Down,
            _ => RegimeKind::Range,
        };
        Regime::of(kind, 1.0, rng, price)
    }

    fn of(kind: RegimeKind, reversal_sign: f64, rng: &mut impl Rng, price: f64) -> Regime {
        let (days_left, drift, vol_factor) = match kind {
            RegimeKind::Up => (rng.random_range(10..=60), uniform(rng, 0.0025, 0.008), 1.0),
            RegimeKind::Down => (rng.random_range(10..=60), -uniform(rng, 0.0025, 0.008), 1.0),
            RegimeKind::Range => (rng.random_range(10..=40), uniform(rng, 0.05, 0.15), 0.8),
            RegimeKind::Reversal => (
                rng.random_range(5..=12),
                reversal_sign * uniform(rng, 0.008, 0.015),
                1.4,
            ),
        };
        Regime {
            kind,
            days_left,
            drift,
            vol_factor,
            anchor: price.max(1.0),
        }
    }

    /// Moves to the next day: counts the regime down and picks the next one when it ends.
    pub fn step(&mut self, rng: &mut impl Rng, price: f64) {
        self.days_left = self.days_left.saturating_sub(1);
        if self.days_left > 0 {
            return;
        }
        let roll = rng.random_range(0..100);
        let direction = match self.kind {
            RegimeKind::Up => 1.0,
            RegimeKind::Down => -1.0,
            RegimeKind::Range => 0.0,
            RegimeKind::Reversal => self.drift.signum(),
        };
        let trend = |dir: f64| {
            if dir >= 0.0 {
                RegimeKind::Up
            } else {
                RegimeKind::Down
            }
        };
        let (kind, sign) = match self.kind {
            RegimeKind::Up | RegimeKind::Down => match roll {
                0..40 => (RegimeKind::Range, 1.0),
                40..65 => (trend(-direction), 1.0),
                65..85 => (RegimeKind::Reversal, -direction),
                _ => (self.kind, 1.0),
            },
            RegimeKind::Range => match roll {
                0..40 => (RegimeKind::Up, 1.0),
                40..80 => (RegimeKind::Down, 1.0),
                _ => (RegimeKind::Range, 1.0),
            },
            RegimeKind::Reversal => match roll {
                0..50 => (RegimeKind::Range, 1.0),
                _ => (trend(direction), 1.0),
            },
        };
        *self = Regime::of(kind, sign, rng, price);
    }

    /// Expected log return and volatility for day number `day` (counted from the history start).
    pub fn daily(&self, profile: &Profile, day: u64, price: f64) -> (f64, f64) {
        let price = price.max(1.0);
        let regime = match self.kind {
            RegimeKind::Range => -self.drift * (price / self.anchor).ln(),
            _ => self.drift,
        };
        let cycle = profile.cycle_amp * (TAU * day as f64 / profile.cycle_period + profile.cycle_phase).sin();
        let pull = 0.008 * (profile.level as f64 / price).ln();
        (
            (regime + cycle + pull).clamp(-0.05, 0.05),
            profile.vol * self.vol_factor,
        )
    }
}
