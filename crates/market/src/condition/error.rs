//! Parse errors of the condition language: a position (0-based character offset into the source, for
//! the UI's caret), what went wrong, perhaps a suggestion ("did you mean 정배열?"), and messages in
//! English and Korean that count characters from 1, as people do ("at character 5", "5번째 글자").

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

/// A chain of operands joined by operators of one precedence level (`a and b and c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    /// `or` (also `||`).
    Or,
    /// `and` (also `&&`).
    And,
    /// Comparisons: `a > b >= c …`.
    Comparison,
    /// `+` and `-`.
    Sum,
    /// `*` and `/`.
    Product,
}

impl Chain {
    fn en(self) -> &'static str {
        match self {
            Chain::Or => "'or'",
            Chain::And => "'and'",
            Chain::Comparison => "comparisons ('>', '<', '==', …)",
            Chain::Sum => "'+' or '-'",
            Chain::Product => "'*' or '/'",
        }
    }

    fn ko(self) -> &'static str {
        match self {
            Chain::Or => "'or'로",
            Chain::And => "'and'로",
            Chain::Comparison => "비교('>', '<', '==' 등)로",
            Chain::Sum => "'+'나 '-'로",
            Chain::Product => "'*'나 '/'로",
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
    /// A name that is no field, function or preset (see [`ParseError::suggestion`] for a near one).
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
    /// Nested more than `max` levels deep ([`super::limits::MAX_DEPTH`]): every parenthesis, `not`,
    /// sign, function call and operator is a level, so a long chain `a and b and …` nests too.
    /// `depth` is the depth reached where the parser stopped.
    TooDeep { depth: usize, max: usize },
    /// The source is longer than `max` characters ([`super::limits::MAX_CHARS`]).
    TooLong { chars: usize, max: usize },
    /// More than `max` terms ([`super::limits::MAX_TERMS`]): numbers and names, each one term
    /// (`ma(20)` is two: `ma` and `20`).
    TooManyTerms { terms: usize, max: usize },
    /// More than `max` operators ([`super::limits::MAX_OPERATORS`]): `+ - * /`, comparisons, `and`,
    /// `or`, `not`.
    TooManyOperators { operators: usize, max: usize },
    /// More than `max` operands in one chain ([`super::limits::MAX_CHAIN`]), e.g. 40 comparisons
    /// joined by `and`.
    ChainTooLong { chain: Chain, length: usize, max: usize },
}

/// A parse error: where, what, and perhaps what was meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ParseError {
    /// 0-based character offset into the source (the messages say `position + 1`).
    pub position: usize,
    #[serde(flatten)]
    pub kind: ErrorKind,
    /// For an unknown name or period: the known one closest to it, if one is close (a few edits
    /// away, counting Hangul syllables as characters), e.g. `정배열` for `정배얼`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
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

/// `10000` → `10,000`.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const NAMES_EN: &str = "fields: open, high, low, close, volume, change_pct; functions: ma, avg, cross_up, \
                        cross_down, bullish, bearish; presets: 정배열, 역배열, 골든크로스, 데드크로스, 이평선돌파";
const NAMES_KO: &str = "항목: open, high, low, close, volume, change_pct; 함수: ma, avg, cross_up, cross_down, \
                        bullish, bearish; 프리셋: 정배열, 역배열, 골든크로스, 데드크로스, 이평선돌파";
const PERIODS_EN: &str =
    "1m, 3m, 5m, 10m, 15m, 30m, 60m, D, W or M; also 1분 … 60분, 30분봉, 일(봉), 주(봉), 월(봉)";
const PERIODS_KO: &str =
    "1m, 3m, 5m, 10m, 15m, 30m, 60m, D, W, M 또는 1분 … 60분, 30분봉, 일(봉), 주(봉), 월(봉)";

impl ParseError {
    pub(crate) fn new(position: usize, kind: ErrorKind) -> ParseError {
        ParseError {
            position,
            kind,
            suggestion: None,
        }
    }

    pub(crate) fn with_suggestion(mut self, suggestion: Option<String>) -> ParseError {
        self.suggestion = suggestion;
        self
    }

    /// The message in English, e.g. "at character 8: expected ')', found 'and'" (characters counted
    /// from 1).
    pub fn message_en(&self) -> String {
        let at = format!("at character {}", grouped(self.position + 1));
        let body = match &self.kind {
            ErrorKind::UnexpectedChar { found } => format!("unexpected character '{found}'"),
            ErrorKind::Unexpected { expected, found } => {
                format!("expected {}, found {}", expected.en(), shown(found))
            }
            ErrorKind::UnknownName { name } => match &self.suggestion {
                Some(s) => format!("unknown name '{name}' — did you mean '{s}'?"),
                None => format!("unknown name '{name}' ({NAMES_EN})"),
            },
            ErrorKind::UnknownPeriod { name } => match &self.suggestion {
                Some(s) => format!("unknown period '{name}' — did you mean '{s}'?"),
                None => format!("unknown period '{name}' (expected {PERIODS_EN})"),
            },
            ErrorKind::NumberTooLong => "number too long (at most 18 digits)".to_string(),
            ErrorKind::WindowOutOfRange { value } => {
                format!("window length {value} must be a whole number from 1 to 1000")
            }
            ErrorKind::NeedCondition => "expected a condition (true/false), found a number".to_string(),
            ErrorKind::NeedNumber => "expected a number, found a condition".to_string(),
            ErrorKind::TooDeep { depth, max } => format!(
                "the condition nests {} levels deep here; at most {} are accepted (each parenthesis, not, \
                 sign, function call and chained operator is a level)",
                grouped(*depth),
                grouped(*max)
            ),
            ErrorKind::TooLong { chars, max } => format!(
                "the condition has {} characters; at most {} are accepted",
                grouped(*chars),
                grouped(*max)
            ),
            ErrorKind::TooManyTerms { terms, max } => format!(
                "the condition has {} terms (numbers and names); at most {} are accepted",
                grouped(*terms),
                grouped(*max)
            ),
            ErrorKind::TooManyOperators { operators, max } => format!(
                "the condition has {} operators; at most {} are accepted",
                grouped(*operators),
                grouped(*max)
            ),
            ErrorKind::ChainTooLong { chain, length, max } => format!(
                "{} terms are joined by {} in one chain; at most {} are accepted",
                grouped(*length),
                chain.en(),
                grouped(*max)
            ),
        };
        format!("{at}: {body}")
    }

    /// The message in Korean, e.g. "8번째 글자: ')'이(가) 필요하지만 'and'이(가) 있습니다" (characters
    /// counted from 1).
    pub fn message_ko(&self) -> String {
        let at = format!("{}번째 글자", grouped(self.position + 1));
        let body = match &self.kind {
            ErrorKind::UnexpectedChar { found } => format!("알 수 없는 문자 '{found}'"),
            ErrorKind::Unexpected { expected, found } => {
                format!(
                    "{}이(가) 필요하지만 {}이(가) 있습니다",
                    expected.ko(),
                    shown_ko(found)
                )
            }
            ErrorKind::UnknownName { name } => match &self.suggestion {
                Some(s) => format!("'{name}'을(를) 알 수 없습니다. '{s}'을(를) 찾으셨나요?"),
                None => format!("'{name}'을(를) 알 수 없습니다 ({NAMES_KO})"),
            },
            ErrorKind::UnknownPeriod { name } => match &self.suggestion {
                Some(s) => format!("알 수 없는 주기 '{name}'. '{s}'을(를) 찾으셨나요?"),
                None => format!("알 수 없는 주기 '{name}' ({PERIODS_KO} 중 하나)"),
            },
            ErrorKind::NumberTooLong => "숫자가 너무 깁니다 (최대 18자리)".to_string(),
            ErrorKind::WindowOutOfRange { value } => {
                format!("기간 {value}은(는) 1부터 1000 사이의 정수여야 합니다")
            }
            ErrorKind::NeedCondition => "조건(참/거짓)이 필요하지만 숫자가 있습니다".to_string(),
            ErrorKind::NeedNumber => "숫자가 필요하지만 조건이 있습니다".to_string(),
            ErrorKind::TooDeep { depth, max } => format!(
                "조건이 여기서 {}단계로 중첩되었습니다. 최대 {}단계까지 허용됩니다 (괄호, not, 부호, 함수 \
                 호출, 이어진 연산자가 각각 한 단계입니다)",
                grouped(*depth),
                grouped(*max)
            ),
            ErrorKind::TooLong { chars, max } => format!(
                "조건이 {}자입니다. 최대 {}자까지 허용됩니다",
                grouped(*chars),
                grouped(*max)
            ),
            ErrorKind::TooManyTerms { terms, max } => format!(
                "조건에 항(숫자와 이름)이 {}개 있습니다. 최대 {}개까지 허용됩니다",
                grouped(*terms),
                grouped(*max)
            ),
            ErrorKind::TooManyOperators { operators, max } => format!(
                "조건에 연산자가 {}개 있습니다. 최대 {}개까지 허용됩니다",
                grouped(*operators),
                grouped(*max)
            ),
            ErrorKind::ChainTooLong { chain, length, max } => format!(
                "{} 이어진 항이 {}개입니다. 한 번에 최대 {}개까지 허용됩니다",
                chain.ko(),
                grouped(*length),
                grouped(*max)
            ),
        };
        format!("{at}: {body}")
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.message_en(), self.message_ko())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_in_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(110_017), "110,017");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
