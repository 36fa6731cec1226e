//! Exact fractions for comparing indicator values: an average is `sum / n`, a literal `2.5` is `25 / 10`,
//! and two values compare by cross-multiplying. Nothing is ever rounded, so a crossing cannot flicker at
//! a tie.
//!
//! Numerator and denominator are `i64` and every product is taken in `i128`, so a comparison is exact
//! and cannot overflow. Arithmetic whose exact result does not fit back into `i64` (after reducing the
//! fraction) gives `None`, an unknown value, never a wrong one; prices, volumes and their averages are
//! far from that limit.

use std::cmp::Ordering;

/// `num / den` with `den > 0`.
#[derive(Debug, Clone, Copy)]
pub struct Ratio {
    num: i64,
    den: i64,
}

impl Ratio {
    pub fn int(v: i64) -> Ratio {
        Ratio { num: v, den: 1 }
    }

    /// `num / den`; `None` when `den` is zero or the reduced fraction does not fit in `i64`.
    pub fn new(num: i128, den: i128) -> Option<Ratio> {
        match den.cmp(&0) {
            Ordering::Equal => None,
            Ordering::Greater => Ratio::fit(num, den),
            Ordering::Less => Ratio::fit(num.checked_neg()?, den.checked_neg()?),
        }
    }

    /// `num / den` for a known positive `den` (an average's length).
    #[inline]
    pub(crate) fn of_parts(num: i64, den: i64) -> Ratio {
        debug_assert!(den > 0);
        Ratio { num, den: den.max(1) }
    }

    /// Narrows a fraction with a positive denominator to `i64` parts, reducing it first if needed.
    fn fit(num: i128, den: i128) -> Option<Ratio> {
        if let (Ok(n), Ok(d)) = (i64::try_from(num), i64::try_from(den)) {
            return Some(Ratio { num: n, den: d });
        }
        let g = gcd(num.unsigned_abs(), den.unsigned_abs());
        // den > 0, so g >= 1 and divides both exactly.
        let g = i128::try_from(g).ok()?;
        Some(Ratio {
            num: i64::try_from(num / g).ok()?,
            den: i64::try_from(den / g).ok()?,
        })
    }

    pub fn num(self) -> i128 {
        i128::from(self.num)
    }

    pub fn den(self) -> i128 {
        i128::from(self.den)
    }

    /// Exact comparison.
    #[inline]
    pub fn cmp_exact(self, other: Ratio) -> Ordering {
        if self.den == other.den {
            return self.num.cmp(&other.num);
        }
        (i128::from(self.num) * i128::from(other.den)).cmp(&(i128::from(other.num) * i128::from(self.den)))
    }

    /// Exact comparison (always `Some`; kept for callers that chain options).
    #[inline]
    pub fn checked_cmp(self, other: Ratio) -> Option<Ordering> {
        Some(self.cmp_exact(other))
    }

    pub fn checked_add(self, o: Ratio) -> Option<Ratio> {
        let (a, b, c, d) = (self.num(), self.den(), o.num(), o.den());
        if b == d {
            return Ratio::fit(a + c, b);
        }
        // |a·d + c·b| < 2^127 and b·d < 2^126 for 64-bit parts.
        Ratio::fit(a * d + c * b, b * d)
    }

    pub fn checked_sub(self, o: Ratio) -> Option<Ratio> {
        self.checked_add(o.checked_neg()?)
    }

    pub fn checked_mul(self, o: Ratio) -> Option<Ratio> {
        Ratio::fit(self.num() * o.num(), self.den() * o.den())
    }

    pub fn checked_div(self, o: Ratio) -> Option<Ratio> {
        Ratio::new(self.num() * o.den(), self.den() * o.num())
    }

    pub fn checked_neg(self) -> Option<Ratio> {
        Some(Ratio {
            num: self.num.checked_neg()?,
            den: self.den,
        })
    }

    /// For display only.
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Self) -> bool {
        self.cmp_exact(*other) == Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_compare_equal_exactly() {
        // 213,000 / 3 vs 71,000: equal, not 70,999.99…
        let a = Ratio::new(213_000, 3).unwrap();
        let b = Ratio::int(71_000);
        assert_eq!(a.checked_cmp(b), Some(Ordering::Equal));
        let c = Ratio::new(213_001, 3).unwrap();
        assert_eq!(c.checked_cmp(b), Some(Ordering::Greater));
        // Large parts still compare exactly.
        let big = Ratio::new(i128::from(i64::MAX), 3).unwrap();
        let bigger = Ratio::new(i128::from(i64::MAX - 1), 3 - 1).unwrap();
        assert_eq!(big.checked_cmp(bigger), Some(Ordering::Less));
    }

    #[test]
    fn arithmetic_is_exact() {
        let two_and_half = Ratio::new(25, 10).unwrap();
        let x = two_and_half.checked_mul(Ratio::int(4)).unwrap();
        assert_eq!(x, Ratio::int(10));
        let y = Ratio::int(1).checked_div(Ratio::int(3)).unwrap();
        assert_eq!(y.checked_add(y).unwrap().checked_add(y).unwrap(), Ratio::int(1));
        assert!(Ratio::int(1).checked_div(Ratio::int(0)).is_none());
        assert_eq!(Ratio::new(1, -2).unwrap(), Ratio::new(-1, 2).unwrap());
        // A product that only fits once reduced.
        let r = Ratio::new(i128::from(i64::MAX), 2)
            .unwrap()
            .checked_mul(Ratio::new(2, 4).unwrap())
            .unwrap();
        assert_eq!(r, Ratio::new(i128::from(i64::MAX), 4).unwrap());
    }

    #[test]
    fn overflow_is_unknown_not_wrong() {
        let big = Ratio::int(i64::MAX / 2);
        assert!(big.checked_mul(big).is_none());
        assert!(Ratio::int(i64::MIN).checked_neg().is_none());
    }
}
