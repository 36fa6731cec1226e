//! Exact fractions for comparing indicator values: an average is `sum / n`, a literal `2.5` is `25 / 10`,
//! and two values compare by cross-multiplying in `i128`. Nothing is ever rounded, so a crossing cannot
//! flicker at a tie. Arithmetic that would overflow gives `None` (an unknown value), never a wrong one.

use std::cmp::Ordering;

/// `num / den` with `den > 0`.
#[derive(Debug, Clone, Copy)]
pub struct Ratio {
    num: i128,
    den: i128,
}

impl Ratio {
    pub fn int(v: i64) -> Ratio {
        Ratio {
            num: i128::from(v),
            den: 1,
        }
    }

    /// `num / den`; `None` when `den` is zero.
    pub fn new(num: i128, den: i128) -> Option<Ratio> {
        match den.cmp(&0) {
            Ordering::Equal => None,
            Ordering::Greater => Some(Ratio { num, den }),
            Ordering::Less => Some(Ratio {
                num: num.checked_neg()?,
                den: den.checked_neg()?,
            }),
        }
    }

    pub fn num(self) -> i128 {
        self.num
    }

    pub fn den(self) -> i128 {
        self.den
    }

    /// Exact comparison; `None` only if the cross products overflow `i128`.
    pub fn checked_cmp(self, other: Ratio) -> Option<Ordering> {
        let a = self.num.checked_mul(other.den)?;
        let b = other.num.checked_mul(self.den)?;
        Some(a.cmp(&b))
    }

    pub fn checked_add(self, o: Ratio) -> Option<Ratio> {
        if self.den == o.den {
            return Some(Ratio {
                num: self.num.checked_add(o.num)?,
                den: self.den,
            });
        }
        let num = self
            .num
            .checked_mul(o.den)?
            .checked_add(o.num.checked_mul(self.den)?)?;
        Some(
            Ratio {
                num,
                den: self.den.checked_mul(o.den)?,
            }
            .reduced_if_large(),
        )
    }

    pub fn checked_sub(self, o: Ratio) -> Option<Ratio> {
        self.checked_add(o.checked_neg()?)
    }

    pub fn checked_mul(self, o: Ratio) -> Option<Ratio> {
        let num = self.num.checked_mul(o.num)?;
        Some(
            Ratio {
                num,
                den: self.den.checked_mul(o.den)?,
            }
            .reduced_if_large(),
        )
    }

    pub fn checked_div(self, o: Ratio) -> Option<Ratio> {
        let num = self.num.checked_mul(o.den)?;
        let den = self.den.checked_mul(o.num)?;
        Ratio::new(num, den).map(Ratio::reduced_if_large)
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

    /// Keeps chained arithmetic away from overflow: reduce once the denominator grows past 2^40.
    fn reduced_if_large(self) -> Ratio {
        if self.den < (1 << 40) {
            return self;
        }
        let g = gcd(self.num.unsigned_abs(), self.den.unsigned_abs());
        if g <= 1 {
            return self;
        }
        // g divides both, and g <= |den| fits in i128.
        let g = g as i128;
        Ratio {
            num: self.num / g,
            den: self.den / g,
        }
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
        self.checked_cmp(*other) == Some(Ordering::Equal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_compare_equal_exactly() {
        // 71,000 × 3 / 3 vs 213,000 / 3: equal, not 70,999.99…
        let a = Ratio::new(213_000, 3).unwrap();
        let b = Ratio::int(71_000);
        assert_eq!(a.checked_cmp(b), Some(Ordering::Equal));
        let c = Ratio::new(213_001, 3).unwrap();
        assert_eq!(c.checked_cmp(b), Some(Ordering::Greater));
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
    }

    #[test]
    fn overflow_is_unknown_not_wrong() {
        let big = Ratio::new(i128::MAX / 2, 1).unwrap();
        assert!(big.checked_mul(big).is_none());
    }
}
