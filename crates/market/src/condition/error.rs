//! Parse errors of the condition language: a position (0-based character offset into the source) and
//! what was expected, in English and Korean.

use std::fmt;

use serde::Serialize;

/// What the parser wanted to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// A value or condition: a number, `close`, `ma(20)`, `(`, `not`, ….
    Operand,
    ClosingParen,
    OpeningParen,
    Comma,
    /// A whole number such as the `20` in `ma(20)`.
    WholeNumber,
    /// A bar field: open, high, low, close or volume.
    Field,
    /// The end of the condition (an operator or `and`/`or` may also continue it).
    End,
}

impl Expected {
    fn en(self) -> &'static str {
        match self {
            Expected::Operand => "a value or condition (a number, close, ma(20), '(' or not)",
            Expected::ClosingParen => "')'",
            Expected::OpeningParen => "'('",
            Expected::Comma => "','",
            Expected::WholeNumber => "a whole number",
            Expected::Field => "a bar field (open, high, low, close, volume)",
            Expected::End => "the end of the condition, an operator, 'and' or 'or'",
        }
    }

    fn ko(self) -> &'static str {
        match self {
            Expected::Operand => "값이나 조건(숫자, close, ma(20), '(' 또는 not)",
            Expected::ClosingParen => "')'",
            Expected::OpeningParen => "'('",
            Expected::Comma => "','",
            Expected::WholeNumber => "정수",
            Expected::Field => "봉 항목(open, high, low, close, volume)",
            Expected::End => "조건의 끝, 연산자, 'and' 또는 'or'",
        }
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorKind {
    /// A character the language has no use for.
    UnexpectedChar { found: char },
    /// Something else stood where `expected` should be; `found` is its text (empty at the end).
    Unexpected { expected: Expected, found: String },
    /// A name that is no field, function or preset.
    UnknownName { name: String },
    /// `xx:` before the condition is not a period.
    UnknownPeriod { name: String },
    /// A number with more than 18 digits.
    NumberTooLong,
    /// A window length outside 1..=1000.
    WindowOutOfRange { value: String },
    /// A true/false condition was needed, a number was given (e.g. `close and ma(5)`).
    NeedCondition,
    /// A number was needed, a condition was given (e.g. `ma(5) > (close > 1)`).
    NeedNumber,
    /// More than 64 levels of parentheses, `not` or signs.
    TooDeep,
}

/// A parse error: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ParseError {
    /// 0-based character offset into the source.
    pub position: usize,
    #[serde(flatten)]
    pub kind: ErrorKind,
}

fn shown(found: &str) -> String {
    if found.is_empty() {
        "the end".to_string()
    } else {
        format!("'{found}'")
    }
}

fn shown_ko(found: &str) -> String {
    if found.is_empty() {
        "끝".to_string()
    } else {
        format!("'{found}'")
    }
}

impl ParseError {
    pub(crate) fn new(position: usize, kind: ErrorKind) -> ParseError {
        ParseError { position, kind }
    }

    /// The message in English, e.g. "at position 7: expected ')', found 'and'".
    pub fn message_en(&self) -> String {
        let p = self.position;
        match &self.kind {
            ErrorKind::UnexpectedChar { found } => format!("at position {p}: unexpected character '{found}'"),
            ErrorKind::Unexpected { expected, found } => {
                format!(
                    "at position {p}: expected {}, found {}",
                    expected.en(),
                    shown(found)
                )
            }
            ErrorKind::UnknownName { name } => format!(
                "at position {p}: unknown name '{name}' (fields: open, high, low, close, volume, change_pct; \
                 functions: ma, avg, cross_up, cross_down, bullish, bearish; presets: 정배열, 역배열, 골든크로스, \
                 데드크로스, 이평선돌파)"
            ),
            ErrorKind::UnknownPeriod { name } => format!(
                "at position {p}: unknown period '{name}' (expected 1m, 3m, 5m, 10m, 15m, 30m, 60m, D, W or M)"
            ),
            ErrorKind::NumberTooLong => format!("at position {p}: number too long (at most 18 digits)"),
            ErrorKind::WindowOutOfRange { value } => {
                format!("at position {p}: window length {value} must be a whole number from 1 to 1000")
            }
            ErrorKind::NeedCondition => {
                format!("at position {p}: expected a condition (true/false), found a number")
            }
            ErrorKind::NeedNumber => format!("at position {p}: expected a number, found a condition"),
            ErrorKind::TooDeep => format!("at position {p}: nested too deeply (at most 64 levels)"),
        }
    }

    /// The message in Korean, e.g. "7번째 위치: ')'이(가) 필요하지만 'and'이(가) 있습니다".
    pub fn message_ko(&self) -> String {
        let p = self.position;
        match &self.kind {
            ErrorKind::UnexpectedChar { found } => format!("{p}번째 위치: 알 수 없는 문자 '{found}'"),
            ErrorKind::Unexpected { expected, found } => {
                format!(
                    "{p}번째 위치: {}이(가) 필요하지만 {}이(가) 있습니다",
                    expected.ko(),
                    shown_ko(found)
                )
            }
            ErrorKind::UnknownName { name } => format!(
                "{p}번째 위치: 알 수 없는 이름 '{name}' (항목: open, high, low, close, volume, change_pct; 함수: ma, \
                 avg, cross_up, cross_down, bullish, bearish; 프리셋: 정배열, 역배열, 골든크로스, 데드크로스, 이평선돌파)"
            ),
            ErrorKind::UnknownPeriod { name } => format!(
                "{p}번째 위치: 알 수 없는 주기 '{name}' (1m, 3m, 5m, 10m, 15m, 30m, 60m, D, W, M 중 하나)"
            ),
            ErrorKind::NumberTooLong => format!("{p}번째 위치: 숫자가 너무 깁니다 (최대 18자리)"),
            ErrorKind::WindowOutOfRange { value } => {
                format!("{p}번째 위치: 기간 {value}은(는) 1부터 1000 사이의 정수여야 합니다")
            }
            ErrorKind::NeedCondition => format!("{p}번째 위치: 조건(참/거짓)이 필요하지만 숫자가 있습니다"),
            ErrorKind::NeedNumber => format!("{p}번째 위치: 숫자가 필요하지만 조건이 있습니다"),
            ErrorKind::TooDeep => {
                format!("{p}번째 위치: 괄호나 not이 너무 깊게 중첩되었습니다 (최대 64단계)")
            }
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.message_en(), self.message_ko())
    }
}
