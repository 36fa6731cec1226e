//! Scenarios: instructions that steer a stock's future trades so a chart pattern forms soon, or so the
//! next trades walk through given prices. See `steer` for how they act and what "soon" means.

use std::fmt;
use std::str::FromStr;

/// The candle period a pattern should form on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScenarioPeriod {
    /// Intraday bars of this many minutes (1, 3, 5, 10, 15, 30 or 60), anchored at 09:00 KST.
    Minutes(u32),
    /// Daily bars.
    Day,
}

impl ScenarioPeriod {
    pub const MINUTES: [u32; 7] = [1, 3, 5, 10, 15, 30, 60];
}

impl FromStr for ScenarioPeriod {
    type Err = ScenarioError;

    /// `"1m"`, `"3m"`, `"5m"`, `"10m"`, `"15m"`, `"30m"`, `"60m"` or `"D"` (also `"d"`, `"1d"`).
    fn from_str(s: &str) -> Result<ScenarioPeriod, ScenarioError> {
        let bad = || ScenarioError::BadPeriod(s.to_owned());
        match s {
            "D" | "d" | "1d" | "1D" => Ok(ScenarioPeriod::Day),
            _ => {
                let digits = s.strip_suffix('m').ok_or_else(bad)?;
                let minutes: u32 = digits.parse().map_err(|_| bad())?;
                if ScenarioPeriod::MINUTES.contains(&minutes) {
                    Ok(ScenarioPeriod::Minutes(minutes))
                } else {
                    Err(bad())
                }
            }
        }
    }
}

impl fmt::Display for ScenarioPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioPeriod::Minutes(m) => write!(f, "{m}m"),
            ScenarioPeriod::Day => f.write_str("D"),
        }
    }
}

/// What to make happen to a stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    /// 정배열: MA20 > MA60 > MA120 > MA240 on `period` (first leaving it if it already holds, so the
    /// pattern *forms*).
    BullishAlignment { period: ScenarioPeriod },
    /// 역배열: MA20 < MA60 < MA120 < MA240.
    BearishAlignment { period: ScenarioPeriod },
    /// 골든크로스: MA20 crosses above MA60 (MA5 crosses above MA20 on the way).
    GoldenCross { period: ScenarioPeriod },
    /// 데드크로스: MA20 crosses below MA60.
    DeadCross { period: ScenarioPeriod },
    /// The next trades happen at these prices, in order (snapped to the tick grid, clamped to the day's
    /// limits); afterwards the price moves on randomly from the last one.
    Path { prices: Vec<i64> },
}

impl Scenario {
    /// Builds a scenario from the control API's fields: `pattern` is `bullish_alignment`,
    /// `bearish_alignment`, `golden_cross`, `dead_cross` (these need `period`) or `path` (needs `prices`).
    pub fn from_request(
        pattern: &str,
        period: Option<&str>,
        prices: Option<Vec<i64>>,
    ) -> Result<Scenario, ScenarioError> {
        let period = || -> Result<ScenarioPeriod, ScenarioError> {
            period
                .ok_or_else(|| ScenarioError::MissingPeriod(pattern.to_owned()))?
                .parse()
        };
        match pattern {
            "bullish_alignment" => Ok(Scenario::BullishAlignment { period: period()? }),
            "bearish_alignment" => Ok(Scenario::BearishAlignment { period: period()? }),
            "golden_cross" => Ok(Scenario::GoldenCross { period: period()? }),
            "dead_cross" => Ok(Scenario::DeadCross { period: period()? }),
            "path" => {
                let prices = prices.ok_or(ScenarioError::MissingPrices)?;
                Scenario::path(prices)
            }
            other => Err(ScenarioError::UnknownPattern(other.to_owned())),
        }
    }

    /// A [`Scenario::Path`], checked: not empty, every price positive.
    pub fn path(prices: Vec<i64>) -> Result<Scenario, ScenarioError> {
        if prices.is_empty() {
            return Err(ScenarioError::EmptyPath);
        }
        if let Some(&bad) = prices.iter().find(|&&p| p <= 0) {
            return Err(ScenarioError::NonPositivePrice(bad));
        }
        Ok(Scenario::Path { prices })
    }

    /// Checks a scenario built directly (as [`Scenario::from_request`] does).
    pub fn validate(&self) -> Result<(), ScenarioError> {
        match self {
            Scenario::Path { prices } => Scenario::path(prices.clone()).map(|_| ()),
            _ => Ok(()),
        }
    }
}

/// Why a scenario was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error(
        "unknown scenario pattern {0:?}: expected bullish_alignment, bearish_alignment, golden_cross, dead_cross or path"
    )]
    UnknownPattern(String),
    #[error("pattern {0:?} needs a period: 1m, 3m, 5m, 10m, 15m, 30m, 60m or D")]
    MissingPeriod(String),
    #[error("unknown period {0:?}: expected 1m, 3m, 5m, 10m, 15m, 30m, 60m or D")]
    BadPeriod(String),
    #[error("pattern \"path\" needs \"prices\": a non-empty list of positive prices")]
    MissingPrices,
    #[error("pattern \"path\" needs at least one price, got an empty list")]
    EmptyPath,
    #[error("path price {0} is not positive")]
    NonPositivePrice(i64),
    #[error("unknown stock code {0:?}: not simulated")]
    UnknownStock(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_patterns_and_periods() {
        assert_eq!(
            Scenario::from_request("bullish_alignment", Some("30m"), None),
            Ok(Scenario::BullishAlignment {
                period: ScenarioPeriod::Minutes(30)
            })
        );
        assert_eq!(
            Scenario::from_request("dead_cross", Some("D"), None),
            Ok(Scenario::DeadCross {
                period: ScenarioPeriod::Day
            })
        );
        assert_eq!(
            Scenario::from_request("path", None, Some(vec![100, 200])),
            Ok(Scenario::Path {
                prices: vec![100, 200]
            })
        );
        assert_eq!(ScenarioPeriod::Minutes(15).to_string(), "15m");
    }

    #[test]
    fn bad_requests_name_the_bad_value() {
        let err = Scenario::from_request("moon", Some("30m"), None).unwrap_err();
        assert!(err.to_string().contains("\"moon\""));
        let err = Scenario::from_request("golden_cross", Some("7m"), None).unwrap_err();
        assert_eq!(err, ScenarioError::BadPeriod("7m".into()));
        assert!(err.to_string().contains("\"7m\""));
        assert_eq!(
            Scenario::from_request("golden_cross", None, None),
            Err(ScenarioError::MissingPeriod("golden_cross".into()))
        );
        assert_eq!(
            Scenario::from_request("path", None, Some(vec![])),
            Err(ScenarioError::EmptyPath)
        );
        assert_eq!(
            Scenario::from_request("path", None, Some(vec![100, -5])),
            Err(ScenarioError::NonPositivePrice(-5))
        );
        assert_eq!(
            Scenario::from_request("path", None, None),
            Err(ScenarioError::MissingPrices)
        );
        assert!("m".parse::<ScenarioPeriod>().is_err());
        assert!("30".parse::<ScenarioPeriod>().is_err());
    }
}
