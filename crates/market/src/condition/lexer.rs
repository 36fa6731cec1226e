//! Splits a condition's source into tokens. Positions are character offsets (not bytes), so they point
//! at the right place in Korean text too.

use super::error::{ErrorKind, ParseError};
use crate::ratio::Ratio;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Number(Ratio),
    /// A name: a field, function, preset or keyword; also a period such as `30m`.
    Name(String),
    LParen,
    RParen,
    Comma,
    Colon,
    Plus,
    Minus,
    Star,
    Slash,
    Cmp(CmpOp),
    And,
    Or,
    Not,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// Character offset of the first character.
    pub pos: usize,
    /// The source text of the token (empty at the end).
    pub text: String,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Tokenizes `src`; the last token is always [`Tok::End`].
pub fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && is_name_start(chars[i]) {
                // `30m`: a number glued to letters is a name (only periods look like this).
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
                Tok::Name(chars[start..i].iter().collect())
            } else {
                let text: String = chars[start..i].iter().collect();
                Tok::Number(number(&text, start)?)
            }
        } else if is_name_start(c) {
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            match name.to_ascii_lowercase().as_str() {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                _ => Tok::Name(name),
            }
        } else {
            let next = chars.get(i + 1).copied();
            let (tok, len) = match (c, next) {
                ('>', Some('=')) => (Tok::Cmp(CmpOp::Ge), 2),
                ('<', Some('=')) => (Tok::Cmp(CmpOp::Le), 2),
                ('=', Some('=')) => (Tok::Cmp(CmpOp::Eq), 2),
                ('!', Some('=')) => (Tok::Cmp(CmpOp::Ne), 2),
                ('&', Some('&')) => (Tok::And, 2),
                ('|', Some('|')) => (Tok::Or, 2),
                ('>', _) => (Tok::Cmp(CmpOp::Gt), 1),
                ('<', _) => (Tok::Cmp(CmpOp::Lt), 1),
                ('=', _) => (Tok::Cmp(CmpOp::Eq), 1),
                ('!', _) => (Tok::Not, 1),
                ('(', _) => (Tok::LParen, 1),
                (')', _) => (Tok::RParen, 1),
                (',', _) => (Tok::Comma, 1),
                (':', _) => (Tok::Colon, 1),
                ('+', _) => (Tok::Plus, 1),
                ('-', _) => (Tok::Minus, 1),
                ('*', _) => (Tok::Star, 1),
                ('/', _) => (Tok::Slash, 1),
                _ => return Err(ParseError::new(start, ErrorKind::UnexpectedChar { found: c })),
            };
            i += len;
            tok
        };
        out.push(Token {
            tok,
            pos: start,
            text: chars[start..i].iter().collect(),
        });
    }
    out.push(Token {
        tok: Tok::End,
        pos: chars.len(),
        text: String::new(),
    });
    Ok(out)
}

/// A decimal literal as an exact fraction: `2.5` is 25/10.
fn number(text: &str, pos: usize) -> Result<Ratio, ParseError> {
    let bad = || {
        ParseError::new(
            pos,
            ErrorKind::Unexpected {
                expected: super::error::Expected::Operand,
                found: text.to_string(),
            },
        )
    };
    let (int, frac) = match text.split_once('.') {
        Some((a, b)) => (a, b),
        None => (text, ""),
    };
    if frac.contains('.') || (int.is_empty() && frac.is_empty()) {
        return Err(bad());
    }
    if int.len() + frac.len() > 18 {
        return Err(ParseError::new(pos, ErrorKind::NumberTooLong));
    }
    let digits = format!("{int}{frac}");
    let num: i128 = digits.parse().map_err(|_| bad())?;
    let den = 10i128.pow(frac.len() as u32);
    Ratio::new(num, den).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            kinds("30m: ma(20) >= 2.5"),
            vec![
                Tok::Name("30m".into()),
                Tok::Colon,
                Tok::Name("ma".into()),
                Tok::LParen,
                Tok::Number(Ratio::int(20)),
                Tok::RParen,
                Tok::Cmp(CmpOp::Ge),
                Tok::Number(Ratio::new(25, 10).unwrap()),
                Tok::End
            ]
        );
        assert_eq!(
            kinds("a AND not b"),
            vec![
                Tok::Name("a".into()),
                Tok::And,
                Tok::Not,
                Tok::Name("b".into()),
                Tok::End
            ]
        );
    }

    #[test]
    fn positions_count_characters() {
        let toks = tokenize("정배열 and close").unwrap();
        assert_eq!(toks[1].pos, 4);
        assert_eq!(toks[2].pos, 8);
        let err = tokenize("정배열 # x").unwrap_err();
        assert_eq!(err.position, 4);
        assert_eq!(tokenize("1.2.3").unwrap_err().position, 0);
    }
}
