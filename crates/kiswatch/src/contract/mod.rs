//! The JSON the service speaks — REST answers, WebSocket messages and webhook bodies — as typed
//! structs (`Serialize` + `utoipa::ToSchema`), so the OpenAPI document describes every answer and
//! the web UI's types are generated from it.
//!
//! Where REST and the WebSocket carry the same thing they use the same struct. The rules of the
//! contract: every number is a JSON number (a KIS decimal string becomes one through
//! [`decimal`], the one Decimal → JSON rule); times are RFC 3339 with `+09:00`
//! ([`crate::clock::rfc3339`]); a stock appears with `code` and `name`.
//!
//! The domain builds these from its own types; nothing here reads the store or the network.

mod trigger;

pub use trigger::{Trigger, TriggerValues};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// A KIS decimal (a rate, a ratio, 체결강도) as a JSON number: the nearest `f64`. A value too
/// large for `f64` cannot come from KIS (rates and ratios are small), and would read as `0`.
pub fn decimal(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_plain_numbers() {
        assert_eq!(decimal("1.23".parse().unwrap()), 1.23);
        assert_eq!(decimal("-0.50".parse().unwrap()), -0.5);
        assert_eq!(
            serde_json::to_string(&decimal("105.13".parse().unwrap())).unwrap(),
            "105.13"
        );
    }
}
