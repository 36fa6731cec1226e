//! KRX rules: tick sizes, daily price limits, sessions and the trading calendar, all in KST.
//!
//! These are the facts both the simulator and the engine rely on; nothing else in the workspace
//! re-derives them.

mod calendar;
mod limits;
mod session;
mod tick;

pub use calendar::{Calendar, TABLE_YEARS};
pub use limits::{PriceLimits, Sign, price_limits};
pub use session::{Phase, SessionHours};
pub use tick::{ceil_to_tick, floor_to_tick, is_on_tick, round_to_tick, step_ticks, tick_size};
