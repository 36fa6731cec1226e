//! A stock's fixed character ([`Profile`]) and its daily move ([`Profile::day`] on a [`StockState`]):
//!
//! `log return = β · market factor + λ · industry factor + idiosyncratic shock (+ a rare jump)`
//!
//! * The market and industry factors come from [`super::factors`] (shared by all stocks, so stocks
//!   correlate and market-wide days move most of them together).
//! * The idiosyncratic shock is Student-t with a GARCH(1,1) volatility of its own, so calm and hectic
//!   stretches alternate (volatility clustering) and tails are fat.
//! * Jumps (news): 0.5% of days on KOSDAQ names (8–32%, some hit the ±30% limit), 0.2% on KOSPI (5–15%).
//! * There is no built-in trend: expected returns are zero but for a very weak pull towards the stock's
//!   price level (0.05% of the log distance a day, a half-life of ~1,400 trading days), so variance ratios
//!   stay ≈ 1 and trends, crosses and alignments come from the noise, as in real prices.
//! * Volume rises with the day's |return| and with the current volatility, and has a persistent part of
//!   its own (an AR(1) in logs), as real volume does.

use rand::Rng;

use super::factors::{FactorMove, Garch, INDUSTRY_VOL, TAIL_DF};
use super::rng::{normal, student_t, uniform};
use super::stocks::{MarketKind, StockInfo};

/// Daily pull towards the price level (fraction of the log distance).
const PULL: f64 = 0.0005;

/// A stock's fixed character, drawn once from (seed, code).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    /// The price the history starts near (KRW).
    pub level: i64,
    /// Long-run daily volatility of log returns (all parts together).
    pub vol: f64,
    /// Typical shares traded per day.
    pub volume: f64,
    /// Typical trades per minute in the continuous session.
    pub trades_per_min: f64,
    pub kosdaq: bool,
    /// The index of its industry factor.
    pub industry: usize,
    /// Loading on its market factor.
    beta: f64,
    /// Loading on its industry factor.
    loading: f64,
    /// Long-run idiosyncratic volatility.
    idio: f64,
    jump_prob: f64,
    jump_size: (f64, f64),
    /// 거래정지: no trades from the first session on.
    pub halted: bool,
}

/// What carries from one day to the next.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StockState {
    idio: Garch,
    /// The persistent part of log volume.
    activity: f64,
}

/// A day's planned move.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DayMove {
    /// Log return from the previous close to the close.
    pub ret: f64,
    /// Log return from the previous close to the open.
    pub gap: f64,
    /// The day's volatility (scale of the intraday path).
    pub vol: f64,
    /// Volume relative to the typical.
    pub activity: f64,
}

impl Profile {
    pub fn new(info: &StockInfo, level: i64, industry: usize, rng: &mut impl Rng) -> Profile {
        let kosdaq = info.market == MarketKind::Kosdaq;
        let (vol, turnover_rate, beta) = if kosdaq {
            (
                uniform(rng, 0.024, 0.036),
                uniform(rng, 0.003, 0.015),
                uniform(rng, 0.8, 1.2),
            )
        } else {
            (
                uniform(rng, 0.016, 0.025),
                uniform(rng, 0.001, 0.005),
                uniform(rng, 0.75, 1.25),
            )
        };
        let loading = uniform(rng, 0.6, 1.1);
        let market_vol = FactorMove::long_run_vol(kosdaq);
        let common = (beta * market_vol).powi(2) + (loading * INDUSTRY_VOL).powi(2);
        let idio = (vol * vol - common).max(0.006f64.powi(2)).sqrt();
        let volume = (info.listed_shares as f64 * turnover_rate).max(10_000.0);
        let value_bn = volume * level as f64 / 1e9;
        let trades_per_min = (3.0 + 4.0 * value_bn.max(1.0).log10()).clamp(3.0, 15.0);
        let (jump_prob, jump_size) = if kosdaq {
            (0.005, (0.08, 0.32))
        } else {
            (0.002, (0.05, 0.15))
        };
        Profile {
            level,
            vol,
            volume,
            trades_per_min,
            kosdaq,
            industry,
            beta,
            loading,
            idio,
            jump_prob,
            jump_size,
            halted: false,
        }
    }

    pub fn start_state(&self) -> StockState {
        StockState {
            idio: Garch::new(self.idio),
            activity: 0.0,
        }
    }

    /// The weak daily pull towards the level of a stock standing at `price` (log return).
    pub fn pull(&self, price: f64) -> f64 {
        PULL * (self.level as f64 / price.max(1.0)).ln()
    }

    /// The day's move from the factors' move, the stock's own draws (`rng`) and its state; moves the
    /// state to the next day.
    pub fn day(
        &self,
        state: &mut StockState,
        factors: FactorMove,
        price: f64,
        rng: &mut impl Rng,
    ) -> DayMove {
        let idio_vol = state.idio.vol();
        let mut shock = idio_vol * student_t(rng, TAIL_DF);
        let mut jump = 0.0;
        if rng.random_bool(self.jump_prob) {
            let size = uniform(rng, self.jump_size.0, self.jump_size.1);
            jump = if rng.random_bool(0.55) { size } else { -size };
            shock += jump;
        }
        state.idio.update(shock);
        let pull = self.pull(price);
        let ret =
            (self.beta * factors.market + self.loading * factors.industry + shock + pull).clamp(-0.4, 0.4);
        let vol = ((self.beta * factors.market_vol * factors.market_ratio).powi(2)
            + (self.loading * INDUSTRY_VOL).powi(2)
            + idio_vol * idio_vol)
            .sqrt();
        // The open: a fifth of the day's variance is overnight (a Brownian bridge at 0.2 of the way);
        // news (a jump) mostly lands before the open.
        let gap = 0.2 * (ret - jump) + 0.4 * vol * normal(rng) + 0.8 * jump;
        // Volume: persistent AR(1) part, the day's surprise in σ units, the current volatility level.
        state.activity = 0.8 * state.activity + 0.2 * normal(rng);
        let surprise = (ret.abs() / vol).min(6.0);
        let activity = (state.activity + 0.3 * (surprise - 0.8) + (vol / self.vol).ln()).exp();
        DayMove {
            ret,
            gap,
            vol,
            activity,
        }
    }
}
