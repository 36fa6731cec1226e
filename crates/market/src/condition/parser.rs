//! Recursive-descent parser for the condition language.
//!
//! ```text
//! condition  := [period ':'] or EOF
//! or         := and ('or' and)*                 -- also `||`
//! and        := not ('and' not)*                -- also `&&`
//! not        := 'not' not | comparison          -- also `!`
//! comparison := sum (cmp sum)*                  -- chained: a > b > c means a > b and b > c
//! sum        := product (('+' | '-') product)*
//! product    := unary (('*' | '/') unary)*
//! unary      := '-' unary | primary
//! primary    := number | field | 'change_pct' | preset | call | '(' or ')'
//! call       := 'ma' '(' int ')' | 'avg' '(' field ',' int ')'
//!             | ('cross_up' | 'cross_down') '(' sum ',' sum ')'
//!             | ('bullish' | 'bearish') ['(' [int (',' int)*] ')']
//! ```
//! Types are checked while parsing: `and`/`or`/`not` take conditions, arithmetic and comparisons take
//! numbers, and the whole must be a condition. Every error carries the position of the offending token.

use super::ast::{ArithOp, Expr, ExprKind};
use super::error::{ErrorKind, Expected, ParseError};
use super::lexer::{Tok, Token, tokenize};
use crate::alignment::DEFAULT_PERIODS;
use crate::candle::Period;
use crate::preset::Preset;
use crate::state::Field;

const MAX_DEPTH: usize = 64;
const MAX_WINDOW: usize = 1000;

/// Parses a whole condition: its optional period prefix and its expression.
pub fn parse(src: &str) -> Result<(Option<Period>, Expr), ParseError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let period = p.period_prefix()?;
    let expr = p.or()?;
    let end = p.peek();
    if end.tok != Tok::End {
        return Err(p.unexpected(Expected::End));
    }
    need_condition(&expr)?;
    Ok((period, expr))
}

fn need_condition(e: &Expr) -> Result<(), ParseError> {
    if e.is_condition() {
        Ok(())
    } else {
        Err(ParseError::new(e.pos, ErrorKind::NeedCondition))
    }
}

fn need_number(e: &Expr) -> Result<(), ParseError> {
    if e.is_condition() {
        Err(ParseError::new(e.pos, ErrorKind::NeedNumber))
    } else {
        Ok(())
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // `tokens` always ends with `End`, and `at` never moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.at + ahead).min(self.tokens.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::End {
            self.at += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.bump();
            true
        } else {
            false
        }
    }

    fn unexpected(&self, expected: Expected) -> ParseError {
        let t = self.peek();
        ParseError::new(
            t.pos,
            ErrorKind::Unexpected {
                expected,
                found: t.text.clone(),
            },
        )
    }

    fn expect(&mut self, tok: Tok, expected: Expected) -> Result<(), ParseError> {
        if self.eat(&tok) {
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::new(self.peek().pos, ErrorKind::TooDeep));
        }
        Ok(())
    }

    fn period_prefix(&mut self) -> Result<Option<Period>, ParseError> {
        if *self.peek_at(1) != Tok::Colon {
            return Ok(None);
        }
        let t = self.bump();
        let period = match &t.tok {
            Tok::Name(name) => Period::parse(name).ok(),
            Tok::Number(_) => None,
            _ => {
                return Err(ParseError::new(
                    t.pos,
                    ErrorKind::Unexpected {
                        expected: Expected::Operand,
                        found: t.text,
                    },
                ));
            }
        };
        let period = period
            .ok_or_else(|| ParseError::new(t.pos, ErrorKind::UnknownPeriod { name: t.text.clone() }))?;
        self.bump(); // the colon
        Ok(Some(period))
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut lhs = self.and()?;
        while self.eat(&Tok::Or) {
            let rhs = self.and()?;
            need_condition(&lhs)?;
            need_condition(&rhs)?;
            let pos = lhs.pos;
            lhs = Expr::new(ExprKind::Or(Box::new(lhs), Box::new(rhs)), pos);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut lhs = self.not()?;
        while self.eat(&Tok::And) {
            let rhs = self.not()?;
            need_condition(&lhs)?;
            need_condition(&rhs)?;
            let pos = lhs.pos;
            lhs = Expr::new(ExprKind::And(Box::new(lhs), Box::new(rhs)), pos);
        }
        Ok(lhs)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        let pos = self.peek().pos;
        if self.eat(&Tok::Not) {
            self.enter()?;
            let e = self.not()?;
            self.depth -= 1;
            need_condition(&e)?;
            return Ok(Expr::new(ExprKind::Not(Box::new(e)), pos));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let first = self.sum()?;
        let mut rest = Vec::new();
        while let Tok::Cmp(op) = self.peek().tok {
            self.bump();
            let rhs = self.sum()?;
            need_number(&rhs)?;
            rest.push((op, rhs));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        need_number(&first)?;
        let pos = first.pos;
        Ok(Expr::new(
            ExprKind::Compare {
                first: Box::new(first),
                rest,
            },
            pos,
        ))
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut lhs = self.product()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => ArithOp::Add,
                Tok::Minus => ArithOp::Sub,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.product()?;
            lhs = arith(op, lhs, rhs)?;
        }
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => ArithOp::Mul,
                Tok::Slash => ArithOp::Div,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.unary()?;
            lhs = arith(op, lhs, rhs)?;
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let pos = self.peek().pos;
        if self.eat(&Tok::Minus) {
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            need_number(&e)?;
            return Ok(Expr::new(ExprKind::Neg(Box::new(e)), pos));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Number(r) => {
                self.bump();
                Ok(Expr::new(ExprKind::Number(*r), t.pos))
            }
            Tok::LParen => {
                self.bump();
                let e = self.or()?;
                self.expect(Tok::RParen, Expected::ClosingParen)?;
                Ok(Expr { pos: t.pos, ..e })
            }
            Tok::Name(name) => {
                self.bump();
                self.named(name, t.pos)
            }
            _ => Err(self.unexpected(Expected::Operand)),
        }
    }

    fn named(&mut self, name: &str, pos: usize) -> Result<Expr, ParseError> {
        if let Some(field) = field_named(name) {
            return Ok(Expr::new(ExprKind::Field(field), pos));
        }
        let kind = match name.to_ascii_lowercase().as_str() {
            "change_pct" => ExprKind::ChangePct,
            "ma" => {
                self.expect(Tok::LParen, Expected::OpeningParen)?;
                let n = self.window()?;
                self.expect(Tok::RParen, Expected::ClosingParen)?;
                ExprKind::Avg {
                    field: Field::Close,
                    n,
                }
            }
            "avg" => {
                self.expect(Tok::LParen, Expected::OpeningParen)?;
                let field = match &self.peek().tok {
                    Tok::Name(f) => field_named(f),
                    _ => None,
                }
                .ok_or_else(|| self.unexpected(Expected::Field))?;
                self.bump();
                self.expect(Tok::Comma, Expected::Comma)?;
                let n = self.window()?;
                self.expect(Tok::RParen, Expected::ClosingParen)?;
                ExprKind::Avg { field, n }
            }
            lower @ ("cross_up" | "cross_down") => {
                self.expect(Tok::LParen, Expected::OpeningParen)?;
                let a = self.sum()?;
                need_number(&a)?;
                self.expect(Tok::Comma, Expected::Comma)?;
                let b = self.sum()?;
                need_number(&b)?;
                self.expect(Tok::RParen, Expected::ClosingParen)?;
                ExprKind::Cross {
                    up: lower == "cross_up",
                    a: Box::new(a),
                    b: Box::new(b),
                }
            }
            lower @ ("bullish" | "bearish") => {
                let mut periods = Vec::new();
                if self.eat(&Tok::LParen) && !self.eat(&Tok::RParen) {
                    loop {
                        periods.push(self.window()?);
                        if self.eat(&Tok::RParen) {
                            break;
                        }
                        self.expect(Tok::Comma, Expected::Comma)?;
                    }
                }
                if periods.is_empty() {
                    periods = DEFAULT_PERIODS.to_vec();
                }
                ExprKind::Aligned {
                    bullish: lower == "bullish",
                    periods,
                }
            }
            _ => match Preset::from_name(name) {
                Some(preset) => return Ok(preset.expr(pos)),
                None => {
                    return Err(ParseError::new(
                        pos,
                        ErrorKind::UnknownName {
                            name: name.to_string(),
                        },
                    ));
                }
            },
        };
        Ok(Expr::new(kind, pos))
    }

    /// A window length: a whole number in 1..=1000.
    fn window(&mut self) -> Result<usize, ParseError> {
        let t = self.peek().clone();
        let Tok::Number(r) = t.tok else {
            return Err(self.unexpected(Expected::WholeNumber));
        };
        self.bump();
        let n = (r.den() == 1)
            .then_some(r.num())
            .and_then(|n| usize::try_from(n).ok());
        match n {
            Some(n) if (1..=MAX_WINDOW).contains(&n) => Ok(n),
            _ => Err(ParseError::new(
                t.pos,
                ErrorKind::WindowOutOfRange { value: t.text },
            )),
        }
    }
}

fn arith(op: ArithOp, lhs: Expr, rhs: Expr) -> Result<Expr, ParseError> {
    need_number(&lhs)?;
    need_number(&rhs)?;
    let pos = lhs.pos;
    Ok(Expr::new(
        ExprKind::Arith {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        pos,
    ))
}

fn field_named(name: &str) -> Option<Field> {
    Some(match name.to_ascii_lowercase().as_str() {
        "open" => Field::Open,
        "high" => Field::High,
        "low" => Field::Low,
        "close" | "price" => Field::Close,
        "volume" => Field::Volume,
        _ => return None,
    })
}
