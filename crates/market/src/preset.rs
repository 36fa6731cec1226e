//! Ready-made conditions, usable by name inside the language (`30m: 정배열 and volume > 1000`) or on
//! their own.
//!
//! | preset | English name | meaning |
//! |---|---|---|
//! | 정배열 | `bullish_alignment` | `bullish(20, 60, 120, 240)`: MA20 > MA60 > MA120 > MA240 |
//! | 역배열 | `bearish_alignment` | `bearish(20, 60, 120, 240)`: MA20 < MA60 < MA120 < MA240 |
//! | 골든크로스 | `golden_cross` | `cross_up(ma(20), ma(60))` |
//! | 데드크로스 | `dead_cross` | `cross_down(ma(20), ma(60))` |
//! | 이평선돌파 (이평선 돌파) | `ma_breakout` | `cross_up(close, ma(20))` |
//!
//! The crosses compare MA20 and MA60 ([`CROSS_PERIODS`]), the two shortest of the averages every chart
//! draws, so a golden cross that fires is one the user can see on the chart; the simulator's
//! `golden_cross`/`dead_cross` scenarios steer towards the same crossing (they read the same constant).
//! A different pair is one condition away: `cross_up(ma(5), ma(20))`.

use serde::{Deserialize, Serialize};

use crate::alignment::DEFAULT_PERIODS;
use crate::condition::ast::{Expr, ExprKind};
use crate::state::Field;

/// The averages the golden and dead cross compare: MA20 crossing MA60.
pub const CROSS_PERIODS: [usize; 2] = [20, 60];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    BullishAlignment,
    BearishAlignment,
    GoldenCross,
    DeadCross,
    MaBreakout,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::BullishAlignment,
        Preset::BearishAlignment,
        Preset::GoldenCross,
        Preset::DeadCross,
        Preset::MaBreakout,
    ];

    /// By Korean or English name; spaces are ignored (`이평선 돌파`).
    pub fn from_name(name: &str) -> Option<Preset> {
        let name: String = name.chars().filter(|c| !c.is_whitespace()).collect();
        Preset::ALL
            .into_iter()
            .find(|p| p.korean() == name || p.english().eq_ignore_ascii_case(&name))
    }

    pub fn korean(self) -> &'static str {
        match self {
            Preset::BullishAlignment => "정배열",
            Preset::BearishAlignment => "역배열",
            Preset::GoldenCross => "골든크로스",
            Preset::DeadCross => "데드크로스",
            Preset::MaBreakout => "이평선돌파",
        }
    }

    pub fn english(self) -> &'static str {
        match self {
            Preset::BullishAlignment => "bullish_alignment",
            Preset::BearishAlignment => "bearish_alignment",
            Preset::GoldenCross => "golden_cross",
            Preset::DeadCross => "dead_cross",
            Preset::MaBreakout => "ma_breakout",
        }
    }

    /// The condition text it stands for.
    pub fn source(self) -> &'static str {
        match self {
            Preset::BullishAlignment => "bullish(20, 60, 120, 240)",
            Preset::BearishAlignment => "bearish(20, 60, 120, 240)",
            Preset::GoldenCross => "cross_up(ma(20), ma(60))",
            Preset::DeadCross => "cross_down(ma(20), ma(60))",
            Preset::MaBreakout => "cross_up(close, ma(20))",
        }
    }

    /// The preset's expression, placed at `pos` in the source that named it.
    pub fn expr(self, pos: usize) -> Expr {
        let e = |kind| Expr::new(kind, pos);
        let ma = |n| {
            Box::new(e(ExprKind::Avg {
                field: Field::Close,
                n,
            }))
        };
        match self {
            Preset::BullishAlignment | Preset::BearishAlignment => e(ExprKind::Aligned {
                bullish: self == Preset::BullishAlignment,
                periods: DEFAULT_PERIODS.to_vec(),
            }),
            Preset::GoldenCross | Preset::DeadCross => e(ExprKind::Cross {
                up: self == Preset::GoldenCross,
                a: ma(CROSS_PERIODS[0]),
                b: ma(CROSS_PERIODS[1]),
            }),
            Preset::MaBreakout => e(ExprKind::Cross {
                up: true,
                a: Box::new(e(ExprKind::Field(Field::Close))),
                b: ma(20),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crosses_read_the_shared_periods() {
        let [short, long] = CROSS_PERIODS;
        assert_eq!(
            Preset::GoldenCross.source(),
            format!("cross_up(ma({short}), ma({long}))")
        );
        assert_eq!(
            Preset::DeadCross.source(),
            format!("cross_down(ma({short}), ma({long}))")
        );
    }
}
