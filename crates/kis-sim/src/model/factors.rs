//! Market-wide forces: the KOSPI and KOSDAQ market factors and one factor per industry, each a daily
//! log-return series with clustered volatility (GARCH(1,1)) and fat-tailed (Student-t) shocks, plus
//! market-wide shock days in both directions.
//!
//! Why a shared series: real stocks move together (KOSPI large caps correlate ~0.3–0.5 day to day) and
//! market-wide days are when triggers come in bursts. Each stock is still generated lazily and on its
//! own, so the factors are a deterministic function of (seed, date): day `n` of the series is drawn from
//! a generator seeded by (seed, date) after the GARCH state of day `n - 1`, generated once in order and
//! cached here; any stock generated in any order reads the same numbers. The cost is ~30 draws a day,
//! negligible next to a stock's trades.
//!
//! Scales (daily log returns): KOSPI factor ~1.1% (≈ 17%/yr, the index's typical realised volatility),
//! KOSDAQ = 1.1 × KOSPI + its own ~0.7% (correlation ≈ 0.87, volatility ~1.4%), industries ~0.7%.
//! Shock days: 1.2% of days (about three a year), a jump of 2.5–6% on both markets, 55% of them down.

use std::sync::RwLock;

use jiff::civil::Date;
use market::krx::Calendar;
use rand::Rng;

use super::rng::{factor_rng, student_t, uniform};

/// Long-run daily volatility of the KOSPI factor.
pub(crate) const KOSPI_VOL: f64 = 0.011;
/// KOSDAQ's loading on the KOSPI factor and the volatility of its own part.
const KOSDAQ_ON_KOSPI: f64 = 1.1;
const KOSDAQ_OWN_VOL: f64 = 0.007;
/// Long-run daily volatility of an industry factor.
pub(crate) const INDUSTRY_VOL: f64 = 0.007;
/// Degrees of freedom of the Student-t shocks (finite variance, very fat tails; the sample excess
/// kurtosis of 650 days lands in the observed 3–10).
pub(crate) const TAIL_DF: u32 = 4;
const SHOCK_PROB: f64 = 0.012;

/// A GARCH(1,1) variance: `h' = ω + α·shock² + β·h`, long-run variance `vol²`, persistence α = 0.10, β = 0.88
/// (typical of daily equity returns), capped at 16× the long-run variance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Garch {
    h: f64,
    long_run: f64,
}

impl Garch {
    const ALPHA: f64 = 0.10;
    const BETA: f64 = 0.88;

    pub fn new(vol: f64) -> Garch {
        Garch {
            h: vol * vol,
            long_run: vol * vol,
        }
    }

    /// Today's conditional volatility.
    pub fn vol(&self) -> f64 {
        self.h.sqrt()
    }

    /// Today's volatility relative to the long run.
    pub fn ratio(&self) -> f64 {
        (self.h / self.long_run).sqrt()
    }

    /// Moves to the next day after today's `shock`.
    pub fn update(&mut self, shock: f64) {
        let omega = self.long_run * (1.0 - Garch::ALPHA - Garch::BETA);
        self.h = (omega + Garch::ALPHA * shock * shock + Garch::BETA * self.h).min(16.0 * self.long_run);
    }
}

/// The industry a sector trades with (semiconductor equipment moves with chips, insurers with banks).
pub(crate) fn industry(sector: &str) -> &str {
    match sector {
        s if s.starts_with("반도체") => "반도체",
        "바이오" | "제약" | "의료기기" => "헬스케어",
        "자동차부품" => "자동차",
        "보험" => "금융",
        "전자부품" => "전자",
        s => s,
    }
}

/// One day of every factor.
#[derive(Debug, Clone)]
struct FactorDay {
    kospi: f64,
    kosdaq: f64,
    /// The KOSPI factor's conditional volatility relative to the long run (for the stocks' intraday scale).
    market_ratio: f64,
    industries: Vec<f64>,
}

struct Series {
    next_date: Date,
    kospi: Garch,
    kosdaq_own: Garch,
    industries: Vec<Garch>,
    days: Vec<FactorDay>,
}

/// The factor series of one market (one seed, one history start).
pub(crate) struct Factors {
    seed: u64,
    industries: Vec<String>,
    series: RwLock<Series>,
}

/// What one stock reads of a day's factors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FactorMove {
    /// The stock's market factor (KOSPI or KOSDAQ) log return.
    pub market: f64,
    /// Its industry factor's log return.
    pub industry: f64,
    /// Market volatility today relative to the long run.
    pub market_ratio: f64,
    /// The market factor's long-run volatility.
    pub market_vol: f64,
}

impl Factors {
    /// Factors for the industries of `sectors`, day 0 being `history_start`.
    pub fn new<'a>(seed: u64, sectors: impl IntoIterator<Item = &'a str>, history_start: Date) -> Factors {
        let mut industries: Vec<String> = Vec::new();
        for s in sectors {
            let i = industry(s);
            if !industries.iter().any(|x| x == i) {
                industries.push(i.to_string());
            }
        }
        let series = Series {
            next_date: history_start,
            kospi: Garch::new(KOSPI_VOL),
            kosdaq_own: Garch::new(KOSDAQ_OWN_VOL),
            industries: vec![Garch::new(INDUSTRY_VOL); industries.len()],
            days: Vec::with_capacity(1024),
        };
        Factors {
            seed,
            industries,
            series: RwLock::new(series),
        }
    }

    /// The index of `sector`'s industry.
    pub fn industry_of(&self, sector: &str) -> usize {
        let i = industry(sector);
        self.industries.iter().position(|x| x == i).unwrap_or(0)
    }

    /// Day `n`'s move for a stock of the KOSDAQ (or KOSPI) in industry `industry`.
    pub fn day(&self, n: usize, kosdaq: bool, industry: usize) -> FactorMove {
        {
            let series = self.series.read().unwrap_or_else(|p| p.into_inner());
            if let Some(day) = series.days.get(n) {
                return FactorMove::of(day, kosdaq, industry);
            }
        }
        let mut series = self.series.write().unwrap_or_else(|p| p.into_inner());
        while series.days.len() <= n {
            self.extend(&mut series);
        }
        FactorMove::of(&series.days[n], kosdaq, industry)
    }

    /// Days `range` of the series for one stock, in order (one lock for all of them).
    pub fn days(&self, range: std::ops::Range<usize>, kosdaq: bool, industry: usize) -> Vec<FactorMove> {
        if range.is_empty() {
            return Vec::new();
        }
        let _ = self.day(range.end - 1, kosdaq, industry);
        let series = self.series.read().unwrap_or_else(|p| p.into_inner());
        range
            .map(|n| {
                series.days.get(n).map_or_else(
                    || FactorMove::quiet(kosdaq),
                    |d| FactorMove::of(d, kosdaq, industry),
                )
            })
            .collect()
    }

    fn extend(&self, s: &mut Series) {
        let date = s.next_date;
        let mut rng = factor_rng(self.seed, date);
        let shock = if rng.random_bool(SHOCK_PROB) {
            let size = uniform(&mut rng, 0.025, 0.06);
            if rng.random_bool(0.55) { -size } else { size }
        } else {
            0.0
        };
        let market_ratio = s.kospi.ratio();
        let kospi = s.kospi.vol() * student_t(&mut rng, TAIL_DF) + shock;
        s.kospi.update(kospi);
        let own = s.kosdaq_own.vol() * student_t(&mut rng, TAIL_DF);
        s.kosdaq_own.update(own);
        let kosdaq = KOSDAQ_ON_KOSPI * kospi + own;
        let industries = s
            .industries
            .iter_mut()
            .map(|g| {
                let r = g.vol() * student_t(&mut rng, TAIL_DF);
                g.update(r);
                r
            })
            .collect();
        s.days.push(FactorDay {
            kospi,
            kosdaq,
            market_ratio,
            industries,
        });
        s.next_date = Calendar::krx().next_trading_day(date);
    }
}

impl FactorMove {
    /// The long-run volatility of the KOSDAQ (or KOSPI) factor.
    pub fn long_run_vol(kosdaq: bool) -> f64 {
        if kosdaq {
            (KOSDAQ_ON_KOSPI * KOSDAQ_ON_KOSPI * KOSPI_VOL * KOSPI_VOL + KOSDAQ_OWN_VOL * KOSDAQ_OWN_VOL)
                .sqrt()
        } else {
            KOSPI_VOL
        }
    }

    /// A day without any factor move (only for a day the series cannot have, which never happens).
    fn quiet(kosdaq: bool) -> FactorMove {
        FactorMove {
            market: 0.0,
            industry: 0.0,
            market_ratio: 1.0,
            market_vol: FactorMove::long_run_vol(kosdaq),
        }
    }

    fn of(day: &FactorDay, kosdaq: bool, industry: usize) -> FactorMove {
        let market_vol = FactorMove::long_run_vol(kosdaq);
        FactorMove {
            market: if kosdaq { day.kosdaq } else { day.kospi },
            industry: day.industries.get(industry).copied().unwrap_or(0.0),
            market_ratio: day.market_ratio,
            market_vol,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_series_is_the_same_whatever_order_days_are_asked_in() {
        let start = date(2024, 6, 3);
        let (a, b) = (
            Factors::new(1, ["반도체", "금융"], start),
            Factors::new(1, ["반도체", "금융"], start),
        );
        let late = a.day(300, false, 1).market;
        let _ = b.day(10, true, 0);
        assert_eq!(b.day(300, false, 1).market, late);
        assert_eq!(a.day(5, true, 0).industry, b.day(5, true, 0).industry);
        assert_ne!(Factors::new(2, ["반도체"], start).day(300, false, 0).market, late);
        assert_eq!(a.industry_of("반도체장비"), a.industry_of("반도체"));
    }
}
