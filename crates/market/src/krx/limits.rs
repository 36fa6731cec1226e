//! Daily price limits (가격제한폭, ±30% of the base price) and KIS's `prdy_vrss_sign` codes.

use serde::{Deserialize, Serialize};

use super::tick::{ceil_to_tick, floor_to_tick};

/// The day's base price (기준가, normally the previous close) and the prices a trade may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceLimits {
    pub base: i64,
    /// 상한가: `base × 1.3`, cut down to the tick grid.
    pub upper: i64,
    /// 하한가: `base × 0.7`, raised to the tick grid.
    pub lower: i64,
}

impl PriceLimits {
    /// Whether a price may trade today.
    pub fn contains(&self, price: i64) -> bool {
        self.lower <= price && price <= self.upper
    }

    /// `price` clamped into the band.
    pub fn clamp(&self, price: i64) -> i64 {
        price.clamp(self.lower, self.upper)
    }
}

/// The limits for a base price: e.g. base 128,500 → 90,000 ..= 167,000.
pub fn price_limits(base: i64) -> PriceLimits {
    let upper = floor_to_tick(base * 13 / 10);
    // Ceil of base × 0.7 in integers, then onto the grid.
    let lower = ceil_to_tick((base * 7 + 9) / 10).max(1);
    PriceLimits { base, upper, lower }
}

/// KIS `prdy_vrss_sign` (전일대비부호): 1 upper limit, 2 up, 3 flat, 4 lower limit, 5 down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sign {
    UpperLimit = 1,
    Up = 2,
    Flat = 3,
    LowerLimit = 4,
    Down = 5,
}

impl Sign {
    /// The sign of a price against the day's limits.
    pub fn of(price: i64, limits: &PriceLimits) -> Sign {
        if price >= limits.upper {
            Sign::UpperLimit
        } else if price <= limits.lower {
            Sign::LowerLimit
        } else if price > limits.base {
            Sign::Up
        } else if price < limits.base {
            Sign::Down
        } else {
            Sign::Flat
        }
    }

    /// The sign of a change alone (no limit information): 2, 3 or 5.
    pub fn of_change(change: i64) -> Sign {
        match change {
            c if c > 0 => Sign::Up,
            0 => Sign::Flat,
            _ => Sign::Down,
        }
    }

    /// The wire code, `'1'..='5'`.
    pub fn code(self) -> char {
        (b'0' + self as u8) as char
    }

    /// Parses a wire code. `"0"` is read as flat, as python-kis does.
    pub fn from_code(code: &str) -> Option<Sign> {
        match code {
            "1" => Some(Sign::UpperLimit),
            "2" => Some(Sign::Up),
            "0" | "3" => Some(Sign::Flat),
            "4" => Some(Sign::LowerLimit),
            "5" => Some(Sign::Down),
            _ => None,
        }
    }

    /// Whether the price is above the base (red in the Korean convention).
    pub fn is_up(self) -> bool {
        matches!(self, Sign::UpperLimit | Sign::Up)
    }

    /// Whether the price is below the base (blue in the Korean convention).
    pub fn is_down(self) -> bool {
        matches!(self, Sign::LowerLimit | Sign::Down)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::krx::is_on_tick;

    #[test]
    fn sample_inquire_price_limits() {
        // samples/inquire-price.json: stck_sdpr 128500, stck_mxpr 167000, stck_llam 90000.
        let l = price_limits(128_500);
        assert_eq!((l.lower, l.upper), (90_000, 167_000));
    }

    #[test]
    fn signs() {
        let l = price_limits(10_000);
        assert_eq!((l.lower, l.upper), (7_000, 13_000));
        assert_eq!(Sign::of(13_000, &l), Sign::UpperLimit);
        assert_eq!(Sign::of(10_010, &l), Sign::Up);
        assert_eq!(Sign::of(10_000, &l), Sign::Flat);
        assert_eq!(Sign::of(9_990, &l), Sign::Down);
        assert_eq!(Sign::of(7_000, &l), Sign::LowerLimit);
        assert_eq!(Sign::Down.code(), '5');
        assert_eq!(Sign::from_code("1"), Some(Sign::UpperLimit));
        assert_eq!(Sign::from_code("9"), None);
    }

    proptest::proptest! {
        #[test]
        fn limits_on_grid_and_within_thirty_percent(base in 1i64..3_000_000) {
            let l = price_limits(base);
            proptest::prop_assert!(is_on_tick(l.upper) && is_on_tick(l.lower));
            proptest::prop_assert!(l.upper * 10 <= base * 13);
            proptest::prop_assert!(l.lower * 10 >= base * 7 || l.lower == 1);
            proptest::prop_assert!(l.lower <= base && base <= l.upper);
        }
    }
}
