//! A stock's fixed character ([`Profile`]) and its daily move ([`Profile::day`] on a [`StockState`]):
//!
//! `log return = β · market factor + λ · industry factor + idiosyncratic shock (+ a rare jump)`
//!
//! * The market and industry factors come from [`super::factors`] (shared by all stocks, so stocks
//!   correlate and market-wide days move most of them together).
//! * The idiosyncratic shock is Student-t with a GARCH(1,1) volatility of its own, so calm and hectic
//!   stretches alternate (volatility clustering) and tails are fat.
//! * Volatility: the market's typical for a company of a trillion won (KOSPI 2.4% a day, KOSDAQ 3.0%),
//!   higher for smaller companies (`(cap / 1 trillion)^-0.06`, 0.8× to 1.5×) and by sector
//!   ([`sector_traits`]: banks, insurers, utilities, telecoms and food ~0.7–0.8×, KOSDAQ biotech 1.5×),
//!   1.3–1.6× for designated stocks; the market beta by sector too (utilities ~0.65, 2차전지 ~1.25).
//!   ETFs and ETNs follow their index: `leverage` × the KOSPI or KOSDAQ factor (and their sector's
//!   industry factor) with a little tracking noise, or their own series (bonds, rates, commodities,
//!   foreign indices) with little market beta.
//! * Liquidity: shares traded a day are a turnover rate of the listed shares (the listing's own for
//!   ETFs, ETNs, REITs, SPACs and preferred shares; KOSPI 0.1–0.5%, KOSDAQ 0.3–1.5% for the rest), and
//!   trades per minute follow the traded value ([`trades_per_minute`]).
//! * Jumps (news): 0.5% of days on KOSDAQ names (8–32%, some hit the ±30% limit), 0.2% on KOSPI (5–15%),
//!   scaled by sector (biotech twice as often, banks half); none for index products.
//! * There is no built-in trend: expected returns are zero but for a very weak pull towards the stock's
//!   price level (0.05% of the log distance a day, a half-life of ~1,400 trading days), so variance ratios
//!   stay ≈ 1 and trends, crosses and alignments come from the noise, as in real prices.
//! * Volume rises with the day's |return| and with the current volatility, and has a persistent part of
//!   its own (an AR(1) in logs), as real volume does.

use rand::Rng;

use super::factors::{FactorMove, Garch, INDUSTRY_VOL, TAIL_DF};
use super::rng::{normal, student_t, uniform};
use super::stocks::{Behaviour, MarketKind, StockInfo, Warning};

/// Daily pull towards the price level (fraction of the log distance).
const PULL: f64 = 0.0005;

/// Typical trades per minute of continuous trading for a day's traded value (KRW): `2 × (value in
/// billions)^0.7`, between one trade in 25 minutes and 500 a minute. Calibrated on two points of the
/// real market: 삼성전자, about a trillion won a day, prints several times a second (~250 a minute,
/// tens of thousands of executions a day); a small KOSDAQ name trading a few hundred million won prints
/// about once a minute or less. The exponent below 1 is what the market shows: bigger names trade in
/// bigger tickets, not only more often.
pub(crate) fn trades_per_minute(value: f64) -> f64 {
    (2.0 * (value / 1e9).max(0.0).powf(0.7)).clamp(0.04, 500.0)
}

/// How a sector moves: volatility relative to its market's typical, market beta, industry loading
/// (relative), whether it has news jumps and how often (relative).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SectorTraits {
    pub vol: f64,
    pub beta: f64,
    pub loading: f64,
    pub jumps: bool,
    pub jump_scale: f64,
}

/// The traits of a sector name (`universe` and the core table use these names).
pub(crate) fn sector_traits(sector: &str) -> SectorTraits {
    let t = |vol: f64, beta: f64, loading: f64, jump_scale: f64| SectorTraits {
        vol,
        beta,
        loading,
        jumps: jump_scale > 0.0,
        jump_scale,
    };
    match sector {
        "금융" => t(0.8, 0.85, 1.0, 0.5),
        "보험" => t(0.8, 0.8, 1.0, 0.5),
        "증권" => t(1.05, 1.1, 1.0, 1.0),
        "지주" => t(0.85, 0.95, 1.0, 0.7),
        "전력" | "가스" => t(0.7, 0.65, 1.0, 0.5),
        "통신" => t(0.65, 0.6, 1.0, 0.5),
        "식품" | "담배" => t(0.8, 0.7, 1.0, 0.5),
        "유통" | "제지" | "교육" | "섬유의복" => t(0.9, 0.85, 1.0, 0.8),
        "반도체" => t(1.1, 1.15, 1.0, 1.0),
        "반도체장비" | "반도체소재" | "반도체부품" => t(1.3, 1.2, 1.0, 1.2),
        "전자" | "IT서비스" => t(1.0, 1.0, 1.0, 1.0),
        "전자부품" | "통신장비" => t(1.15, 1.05, 1.0, 1.0),
        "소프트웨어" | "인터넷" => t(1.2, 1.05, 1.0, 1.2),
        "2차전지" => t(1.45, 1.25, 1.0, 1.5),
        "화학" | "정유" => t(1.05, 1.0, 1.0, 1.0),
        "바이오" => t(1.5, 0.9, 1.0, 2.0),
        "제약" | "의료기기" => t(1.2, 0.85, 1.0, 1.5),
        "자동차" => t(0.95, 1.0, 1.0, 0.8),
        "자동차부품" | "기계" | "철강" | "비철금속" | "건설" | "운송" => {
            t(1.05, 1.0, 1.0, 1.0)
        }
        "조선" | "방산" | "해운" => t(1.2, 1.05, 1.0, 1.2),
        "화장품" | "엔터" | "게임" | "미디어" => t(1.25, 0.9, 1.0, 1.5),
        "로봇" => t(1.5, 1.1, 1.0, 1.5),
        "레저" => t(1.0, 0.9, 1.0, 1.0),
        "리츠" => t(0.45, 0.4, 0.5, 0.0),
        "SPAC" => t(0.25, 0.05, 0.1, 0.3),
        _ => t(1.0, 1.0, 1.0, 1.0),
    }
}

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
        let listed_kosdaq = info.market == MarketKind::Kosdaq;
        let cap = level.max(1) as f64 * info.listed_shares as f64;
        let traits = sector_traits(info.sector);
        // Every draw is made whatever the kind, so the streams stay aligned.
        let (vol_noise, turnover_draw, beta_noise, loading_draw) = (
            uniform(rng, 0.85, 1.15),
            uniform(rng, 0.0, 1.0),
            uniform(rng, -0.2, 0.2),
            uniform(rng, 0.6, 1.1),
        );
        let (kosdaq, vol, beta, loading, idio_floor, jumps) = match info.behaviour {
            Behaviour::Equity => {
                // Volatility: the market's typical for a company of 1 trillion won (KOSPI 2.4%, KOSDAQ
                // 3.0% a day), by size (smaller is wilder: (cap / 1 trillion)^-0.06, between 0.8× and
                // 1.5×) and by sector (banks and utilities calm, KOSDAQ biotech wild).
                let base = if listed_kosdaq { 0.030 } else { 0.024 };
                let size = (cap / 1e12).powf(-0.06).clamp(0.8, 1.5);
                let designated = if info.flags.warning != Warning::None || info.flags.overheated {
                    1.6
                } else if info.flags.administrative {
                    1.3
                } else {
                    1.0
                };
                let vol = (base * size * traits.vol * vol_noise * designated).clamp(0.004, 0.08);
                let beta = (traits.beta + beta_noise).max(0.05);
                (
                    listed_kosdaq,
                    vol,
                    beta,
                    loading_draw * traits.loading,
                    0.006_f64.min(vol),
                    traits.jumps,
                )
            }
            Behaviour::Tracker {
                leverage,
                kosdaq,
                sector,
            } => {
                let l = f64::from(leverage);
                let loading = if sector { l } else { 0.0 };
                let market = l * FactorMove::long_run_vol(kosdaq);
                let vol = (market.powi(2) + (loading * INDUSTRY_VOL).powi(2)).sqrt();
                (kosdaq, vol, l, loading, 0.0015, false)
            }
            Behaviour::Own { vol_bp, beta_pct } => {
                let vol = f64::from(vol_bp) / 10_000.0;
                let beta = f64::from(beta_pct) / 100.0;
                (false, vol.max(0.0001), beta, 0.0, vol.max(0.0001), false)
            }
        };
        let market_vol = FactorMove::long_run_vol(kosdaq);
        let common = (beta * market_vol).powi(2) + (loading * INDUSTRY_VOL).powi(2);
        let idio = (vol * vol - common).max(idio_floor * idio_floor).sqrt();
        // Shares traded a day: the listing's own rate, else KOSPI 0.1–0.5%, KOSDAQ 0.3–1.5%.
        let turnover_rate = if info.turnover_bp > 0 {
            f64::from(info.turnover_bp) / 10_000.0 * (0.8 + 0.4 * turnover_draw)
        } else if listed_kosdaq {
            0.003 + 0.012 * turnover_draw
        } else {
            0.001 + 0.004 * turnover_draw
        };
        let volume = (info.listed_shares as f64 * turnover_rate).max(1_000.0);
        let trades_per_min = trades_per_minute(volume * level.max(1) as f64);
        let (jump_prob, jump_size) = match (jumps, kosdaq) {
            (false, _) => (0.0, (0.0, 0.0)),
            (true, true) => (0.005 * traits.jump_scale, (0.08, 0.32)),
            (true, false) => (0.002 * traits.jump_scale, (0.05, 0.15)),
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
            halted: info.flags.halted,
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
