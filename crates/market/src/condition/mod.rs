//! The condition language: `30m: ma(20) > ma(60) > ma(120) > ma(240)`, `D: cross_up(ma(5), ma(20))`,
//! `5m: volume > 3 * avg(volume, 20)`, `D: change_pct >= 5`, `close > ma(20) and not bearish()`.
//!
//! [`Condition::parse`] checks the text (errors carry a position and read in English and Korean);
//! [`Program::compile`] turns it into an evaluator over a period's series state. The grammar is in
//! [`parser`]; presets (정배열, 역배열, 골든크로스, 데드크로스, 이평선돌파) in [`crate::preset`].
//!
//! Any input is safe: the [`limits`] bound a condition's length, terms, operators, chains and nesting,
//! each refused with an error naming the limit, so parsing, compiling and evaluating never recurse
//! deeper than [`limits::MAX_DEPTH`].

pub mod ast;
pub mod error;
pub mod lexer;
pub mod limits;
pub mod parser;
pub mod program;
mod suggest;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use ast::Expr;
pub use error::{Chain, ErrorKind, Expected, ParseError};
pub use program::Program;

use crate::candle::Period;

/// A parsed condition: the period it watches and what must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The bar period (the `30m:` prefix; [`Condition::DEFAULT_PERIOD`] without one).
    pub period: Period,
    pub expr: Expr,
    source: String,
}

impl Condition {
    /// The period of a condition written without a prefix: daily bars.
    pub const DEFAULT_PERIOD: Period = Period::Day;

    pub fn parse(src: &str) -> Result<Condition, ParseError> {
        let (period, expr) = parser::parse(src)?;
        Ok(Condition {
            period: period.unwrap_or(Self::DEFAULT_PERIOD),
            expr,
            source: src.trim().to_string(),
        })
    }

    /// The text it was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// `30m: ma(20) > ma(60)`: the period and the canonical expression.
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.period, self.expr)
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Condition::parse(&s).map_err(serde::de::Error::custom)
    }
}
