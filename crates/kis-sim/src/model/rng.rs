//! Deterministic randomness: every random choice about a stock on a day comes from a generator seeded by
//! (market seed, stock code, date, purpose), so generating one stock or one day never shifts another.

use jiff::civil::Date;
use market::code::StockCode;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a generator is used for; separate streams keep, e.g., the daily shocks independent of how
/// many trades a day happened to have.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    /// The stock's fixed character (volatility, betas, liquidity).
    Profile,
    /// A day's stock-specific shock, jump and volume surprise.
    Daily,
    /// A day's prices and volumes.
    Day,
    /// A day's remaining trades regenerated after a scenario was set (`n` = how many scenarios so far).
    Steered(u64),
}

impl Stream {
    fn key(self) -> u64 {
        match self {
            Stream::Profile => 1,
            Stream::Daily => 2,
            Stream::Day => 3,
            Stream::Steered(n) => 1_000 + n,
        }
    }
}

/// SplitMix64's finaliser: a fast, well-mixed 64-bit hash of one word.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of several words (order matters).
pub(crate) fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0x5EED_u64, |acc, &p| mix(acc ^ mix(p)))
}

pub(crate) fn code_key(code: &StockCode) -> u64 {
    code.as_str()
        .bytes()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(b))
}

pub(crate) fn date_key(date: Date) -> u64 {
    (date.year() as i64 * 10_000 + date.month() as i64 * 100 + date.day() as i64) as u64
}

/// The generator for one (seed, stock, date, purpose). `date` is `None` for per-stock facts.
pub(crate) fn rng_for(seed: u64, code: &StockCode, date: Option<Date>, stream: Stream) -> ChaCha8Rng {
    let day = date.map_or(0, date_key);
    ChaCha8Rng::seed_from_u64(hash(&[seed, code_key(code), day, stream.key()]))
}

/// The generator of the market-wide factors of one (seed, date).
pub(crate) fn factor_rng(seed: u64, date: Date) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(hash(&[seed, 0xFAC7, date_key(date), 4]))
}

/// A Student-t variate with `df` (> 2) degrees of freedom scaled to unit variance: fat tails (excess
/// kurtosis 6 / (df − 4) for df > 4), as daily equity returns have.
pub(crate) fn student_t(rng: &mut impl Rng, df: u32) -> f64 {
    let chi2: f64 = (0..df).map(|_| normal(rng).powi(2)).sum();
    let df = f64::from(df);
    normal(rng) / (chi2 / df).max(1e-6).sqrt() * ((df - 2.0) / df).sqrt()
}

/// An approximately standard normal variate: the sum of four uniforms (Irwin–Hall), scaled to unit
/// variance, drawn from one 64-bit word. Its tails stop at ±3.46σ, which suits a market simulation
/// and costs a fraction of Box–Muller's logarithm and cosine (generation is dominated by these draws).
pub(crate) fn normal(rng: &mut impl Rng) -> f64 {
    let bits: u64 = rng.random();
    let sum = (bits & 0xFFFF) + (bits >> 16 & 0xFFFF) + (bits >> 32 & 0xFFFF) + (bits >> 48);
    // Each part is uniform on [0, 65535]: mean 2 × 65535, variance 4 × (65536² − 1) / 12.
    let centered = sum as f64 / 65_535.0 - 2.0;
    centered * 3f64.sqrt()
}

/// A Poisson variate with mean `lambda`: counted multiplications of uniforms (Knuth) below 12, the
/// rounded normal approximation above (one draw). 0 for a mean that is not positive.
pub(crate) fn poisson(rng: &mut impl Rng, lambda: f64) -> u32 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda < 12.0 {
        let limit = (-lambda).exp();
        let mut p = 1.0;
        let mut k = 0;
        loop {
            p *= rng.random::<f64>();
            if p <= limit || k >= 1_000 {
                return k;
            }
            k += 1;
        }
    }
    let x = lambda + lambda.sqrt() * normal(rng);
    x.round().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// A uniform variate in `[lo, hi)`.
pub(crate) fn uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn same_inputs_same_stream_different_inputs_differ() {
        let code = StockCode::parse("005930").unwrap();
        let other = StockCode::parse("000660").unwrap();
        let d = date(2026, 11, 20);
        let draw = |mut r: ChaCha8Rng| r.random::<u64>();
        let a = draw(rng_for(42, &code, Some(d), Stream::Day));
        assert_eq!(a, draw(rng_for(42, &code, Some(d), Stream::Day)));
        assert_ne!(a, draw(rng_for(43, &code, Some(d), Stream::Day)));
        assert_ne!(a, draw(rng_for(42, &other, Some(d), Stream::Day)));
        assert_ne!(a, draw(rng_for(42, &code, Some(date(2026, 11, 19)), Stream::Day)));
        assert_ne!(a, draw(rng_for(42, &code, Some(d), Stream::Daily)));
    }

    #[test]
    fn poisson_has_its_mean_and_variance() {
        let mut r = ChaCha8Rng::seed_from_u64(9);
        for lambda in [0.2, 3.0, 11.0, 25.0, 200.0] {
            let xs: Vec<f64> = (0..20_000).map(|_| f64::from(poisson(&mut r, lambda))).collect();
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
            assert!((mean / lambda - 1.0).abs() < 0.05, "{lambda}: mean {mean}");
            assert!((var / lambda - 1.0).abs() < 0.1, "{lambda}: variance {var}");
        }
        assert_eq!(poisson(&mut r, 0.0), 0);
        assert_eq!(poisson(&mut r, f64::NAN), 0);
    }

    #[test]
    fn normal_has_roughly_unit_variance() {
        let mut r = ChaCha8Rng::seed_from_u64(7);
        let xs: Vec<f64> = (0..20_000).map(|_| normal(&mut r)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }
}
