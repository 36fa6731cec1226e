//! Tick sizes (호가가격단위) for stocks on KOSPI and KOSDAQ, the unified table in force since 2023-01-25.
//!
//! | price (KRW)        | tick |
//! |--------------------|------|
//! | < 2,000            | 1    |
//! | 2,000 – < 5,000    | 5    |
//! | 5,000 – < 20,000   | 10   |
//! | 20,000 – < 50,000  | 50   |
//! | 50,000 – < 200,000 | 100  |
//! | 200,000 – < 500,000| 500  |
//! | ≥ 500,000          | 1,000|
//!
//! Every band boundary is a multiple of the ticks on both sides, so rounding never leaves the grid.

/// The tick size for a price. Prices below 1 are treated as 1.
pub fn tick_size(price: i64) -> i64 {
    match price {
        i64::MIN..2_000 => 1,
        2_000..5_000 => 5,
        5_000..20_000 => 10,
        20_000..50_000 => 50,
        50_000..200_000 => 100,
        200_000..500_000 => 500,
        _ => 1_000,
    }
}

/// The highest price on the tick grid at or below `price`.
pub fn floor_to_tick(price: i64) -> i64 {
    let tick = tick_size(price);
    price.div_euclid(tick) * tick
}

/// The lowest price on the tick grid at or above `price`.
pub fn ceil_to_tick(price: i64) -> i64 {
    let tick = tick_size(price);
    let floor = price.div_euclid(tick) * tick;
    if floor == price { price } else { floor + tick }
}

/// The nearest price on the tick grid (halfway rounds up).
pub fn round_to_tick(price: i64) -> i64 {
    let (down, up) = (floor_to_tick(price), ceil_to_tick(price));
    if price - down < up - price { down } else { up }
}

/// Whether `price` is a valid quote on the tick grid.
pub fn is_on_tick(price: i64) -> bool {
    price >= 1 && price % tick_size(price) == 0
}

/// Moves an on-grid price `n` ticks up (`n > 0`) or down, crossing bands with the tick size of each band.
/// The result never goes below 1.
pub fn step_ticks(price: i64, n: i64) -> i64 {
    let mut p = round_to_tick(price.max(1));
    if n >= 0 {
        for _ in 0..n {
            p += tick_size(p);
        }
    } else {
        for _ in 0..n.unsigned_abs() {
            if p <= 1 {
                break;
            }
            p -= tick_size(p - 1);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_boundaries() {
        assert_eq!(tick_size(1_999), 1);
        assert_eq!(tick_size(2_000), 5);
        assert_eq!(tick_size(4_995), 5);
        assert_eq!(tick_size(5_000), 10);
        assert_eq!(tick_size(19_990), 10);
        assert_eq!(tick_size(20_000), 50);
        assert_eq!(tick_size(49_950), 50);
        assert_eq!(tick_size(50_000), 100);
        assert_eq!(tick_size(199_900), 100);
        assert_eq!(tick_size(200_000), 500);
        assert_eq!(tick_size(499_500), 500);
        assert_eq!(tick_size(500_000), 1_000);
    }

    #[test]
    fn rounding() {
        assert_eq!(floor_to_tick(167_050), 167_000);
        assert_eq!(ceil_to_tick(89_950), 90_000);
        assert_eq!(ceil_to_tick(19_995), 20_000);
        assert_eq!(round_to_tick(71_549), 71_500);
        assert_eq!(round_to_tick(71_550), 71_600);
        assert!(is_on_tick(128_500));
        assert!(!is_on_tick(128_550));
        assert!(!is_on_tick(0));
    }

    #[test]
    fn stepping_crosses_bands() {
        assert_eq!(step_ticks(1_999, 1), 2_000);
        assert_eq!(step_ticks(2_000, 1), 2_005);
        assert_eq!(step_ticks(2_000, -1), 1_999);
        assert_eq!(step_ticks(50_000, -1), 49_950);
        assert_eq!(step_ticks(49_950, 1), 50_000);
        assert_eq!(step_ticks(3, -10), 1);
    }

    proptest::proptest! {
        #[test]
        fn rounding_lands_on_grid(p in 1i64..3_000_000) {
            proptest::prop_assert!(is_on_tick(floor_to_tick(p).max(1)) || floor_to_tick(p) == 0);
            proptest::prop_assert!(is_on_tick(ceil_to_tick(p)));
            proptest::prop_assert!(floor_to_tick(p) <= p && p <= ceil_to_tick(p));
            let r = round_to_tick(p);
            proptest::prop_assert!(is_on_tick(r));
        }

        #[test]
        fn steps_are_inverse(p in 1i64..2_000_000, n in 0i64..50) {
            let p = ceil_to_tick(p);
            proptest::prop_assert_eq!(step_ticks(step_ticks(p, n), -n), p);
        }
    }
}
