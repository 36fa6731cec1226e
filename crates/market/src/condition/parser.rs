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
//!
//! The [`super::limits`] are enforced here: the length before tokenizing, the terms and operators on
//! the tokens before parsing, chains and depth while parsing. The descent recurses only into a
//! parenthesis, `not`, a unary minus or a function's arguments, each of which counts against
//! [`MAX_DEPTH`] before it recurses; chains are loops. Every node built records its depth, so the
//! tree handed out is at most [`MAX_DEPTH`] deep.

use super::ast::{ArithOp, Expr, ExprKind};
use super::error::{Chain, ErrorKind, Expected, ParseError};
use super::lexer::{Tok, Token, tokenize};
use super::limits::{MAX_CHAIN, MAX_CHARS, MAX_DEPTH, MAX_OPERATORS, MAX_TERMS};
use super::suggest::closest;
use crate::alignment::DEFAULT_PERIODS;
use crate::candle::Period;
use crate::preset::Preset;
use crate::state::Field;

const MAX_WINDOW: usize = 1000;

/// The names of the fields, functions and keywords, for suggestions (with the presets' names).
const KNOWN_NAMES: [&str; 16] = [
    "close",
    "open",
    "high",
    "low",
    "volume",
    "price",
    "change_pct",
    "ma",
    "avg",
    "cross_up",
    "cross_down",
    "bullish",
    "bearish",
    "and",
    "or",
    "not",
];

/// Parses a whole condition: its optional period prefix and its expression.
pub fn parse(src: &str) -> Result<(Option<Period>, Expr), ParseError> {
    // Counting stops just past the limit: a long input is refused without walking all of it twice.
    if src.len() > MAX_CHARS {
        let chars = src.chars().count();
        if chars > MAX_CHARS {
            return Err(ParseError::new(
                MAX_CHARS,
                ErrorKind::TooLong {
                    chars,
                    max: MAX_CHARS,
                },
            ));
        }
    }
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        at: 0,
        nesting: 0,
    };
    let period = p.period_prefix()?;
    p.check_counts()?;
    let node = p.or()?;
    let end = p.peek();
    if end.tok != Tok::End {
        return Err(p.unexpected(Expected::End));
    }
    need_condition(&node.expr)?;
    Ok((period, node.expr))
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

/// A parsed expression and its depth (levels of nesting, see [`super::limits`]).
struct Node {
    expr: Expr,
    depth: usize,
}

impl Node {
    fn leaf(kind: ExprKind, pos: usize) -> Node {
        Node {
            expr: Expr::new(kind, pos),
            depth: 1,
        }
    }
}

/// A node of `depth` levels, or [`ErrorKind::TooDeep`] at `at` if that is too deep.
fn node(kind: ExprKind, pos: usize, depth: usize, at: usize) -> Result<Node, ParseError> {
    if depth > MAX_DEPTH {
        return Err(too_deep(at, depth));
    }
    Ok(Node {
        expr: Expr::new(kind, pos),
        depth,
    })
}

fn too_deep(at: usize, depth: usize) -> ParseError {
    ParseError::new(
        at,
        ErrorKind::TooDeep {
            depth,
            max: MAX_DEPTH,
        },
    )
}

/// The operands of one chain, counted; past [`MAX_CHAIN`] the rest are parsed (to count them, and so
/// that a syntax error further on is not hidden) but no longer joined.
struct ChainCount {
    chain: Chain,
    length: usize,
    /// Where the first operand past the limit starts.
    over_at: Option<usize>,
}

impl ChainCount {
    fn new(chain: Chain) -> ChainCount {
        ChainCount {
            chain,
            length: 1,
            over_at: None,
        }
    }

    /// Counts one more operand (starting at `at`); whether it may still be joined.
    fn next(&mut self, at: usize) -> bool {
        self.length += 1;
        if self.length > MAX_CHAIN {
            self.over_at.get_or_insert(at);
            return false;
        }
        true
    }

    fn finish(self) -> Result<(), ParseError> {
        match self.over_at {
            Some(at) => Err(ParseError::new(
                at,
                ErrorKind::ChainTooLong {
                    chain: self.chain,
                    length: self.length,
                    max: MAX_CHAIN,
                },
            )),
            None => Ok(()),
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// Open parentheses, `not`s, signs and function calls around the current token: how deep the
    /// descent has recursed.
    nesting: usize,
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

    /// One level deeper into the descent (a parenthesis, `not`, sign or call starting at `at`);
    /// refused past [`MAX_DEPTH`]. Each such level adds at least one level to the tree it makes.
    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(too_deep(at, self.nesting));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting -= 1;
    }

    /// Counts the terms and operators of the expression (the tokens after the prefix) and refuses
    /// too many of either, pointing at the first one past the limit.
    fn check_counts(&self) -> Result<(), ParseError> {
        let mut terms = 0;
        let mut operators = 0;
        let mut term_over = None;
        let mut operator_over = None;
        for t in &self.tokens[self.at.min(self.tokens.len())..] {
            match t.tok {
                Tok::Number(_) | Tok::Name(_) => {
                    terms += 1;
                    if terms == MAX_TERMS + 1 {
                        term_over = Some(t.pos);
                    }
                }
                Tok::Plus
                | Tok::Minus
                | Tok::Star
                | Tok::Slash
                | Tok::Cmp(_)
                | Tok::And
                | Tok::Or
                | Tok::Not => {
                    operators += 1;
                    if operators == MAX_OPERATORS + 1 {
                        operator_over = Some(t.pos);
                    }
                }
                Tok::LParen | Tok::RParen | Tok::Comma | Tok::Colon | Tok::End => {}
            }
        }
        if let Some(at) = term_over {
            return Err(ParseError::new(
                at,
                ErrorKind::TooManyTerms {
                    terms,
                    max: MAX_TERMS,
                },
            ));
        }
        if let Some(at) = operator_over {
            return Err(ParseError::new(
                at,
                ErrorKind::TooManyOperators {
                    operators,
                    max: MAX_OPERATORS,
                },
            ));
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
        let Some(period) = period else {
            let suggestion = closest(&t.text, Period::NAMES).map(str::to_string);
            return Err(
                ParseError::new(t.pos, ErrorKind::UnknownPeriod { name: t.text }).with_suggestion(suggestion)
            );
        };
        self.bump(); // the colon
        Ok(Some(period))
    }

    fn or(&mut self) -> Result<Node, ParseError> {
        let mut lhs = self.and()?;
        let mut chain = ChainCount::new(Chain::Or);
        loop {
            let at = self.peek().pos;
            if !self.eat(&Tok::Or) {
                break;
            }
            let rhs = self.and()?;
            need_condition(&lhs.expr)?;
            need_condition(&rhs.expr)?;
            if chain.next(rhs.expr.pos) {
                lhs = join(lhs, rhs, at, ExprKind::Or)?;
            }
        }
        chain.finish()?;
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Node, ParseError> {
        let mut lhs = self.not()?;
        let mut chain = ChainCount::new(Chain::And);
        loop {
            let at = self.peek().pos;
            if !self.eat(&Tok::And) {
                break;
            }
            let rhs = self.not()?;
            need_condition(&lhs.expr)?;
            need_condition(&rhs.expr)?;
            if chain.next(rhs.expr.pos) {
                lhs = join(lhs, rhs, at, ExprKind::And)?;
            }
        }
        chain.finish()?;
        Ok(lhs)
    }

    fn not(&mut self) -> Result<Node, ParseError> {
        let pos = self.peek().pos;
        if self.eat(&Tok::Not) {
            self.enter(pos)?;
            let e = self.not()?;
            self.leave();
            need_condition(&e.expr)?;
            return node(ExprKind::Not(Box::new(e.expr)), pos, e.depth + 1, pos);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, ParseError> {
        let first = self.sum()?;
        let mut rest = Vec::new();
        let mut depth = first.depth;
        let mut chain = ChainCount::new(Chain::Comparison);
        while let Tok::Cmp(op) = self.peek().tok {
            self.bump();
            let rhs = self.sum()?;
            need_number(&rhs.expr)?;
            if chain.next(rhs.expr.pos) {
                depth = depth.max(rhs.depth);
                rest.push((op, rhs.expr));
            }
        }
        chain.finish()?;
        if rest.is_empty() {
            return Ok(first);
        }
        need_number(&first.expr)?;
        let pos = first.expr.pos;
        node(
            ExprKind::Compare {
                first: Box::new(first.expr),
                rest,
            },
            pos,
            depth + 1,
            pos,
        )
    }

    fn sum(&mut self) -> Result<Node, ParseError> {
        let mut lhs = self.product()?;
        let mut chain = ChainCount::new(Chain::Sum);
        loop {
            let at = self.peek().pos;
            let op = match self.peek().tok {
                Tok::Plus => ArithOp::Add,
                Tok::Minus => ArithOp::Sub,
                _ => break,
            };
            self.bump();
            let rhs = self.product()?;
            need_number(&lhs.expr)?;
            need_number(&rhs.expr)?;
            if chain.next(rhs.expr.pos) {
                lhs = arith(op, lhs, rhs, at)?;
            }
        }
        chain.finish()?;
        Ok(lhs)
    }

    fn product(&mut self) -> Result<Node, ParseError> {
        let mut lhs = self.unary()?;
        let mut chain = ChainCount::new(Chain::Product);
        loop {
            let at = self.peek().pos;
            let op = match self.peek().tok {
                Tok::Star => ArithOp::Mul,
                Tok::Slash => ArithOp::Div,
                _ => break,
            };
            self.bump();
            let rhs = self.unary()?;
            need_number(&lhs.expr)?;
            need_number(&rhs.expr)?;
            if chain.next(rhs.expr.pos) {
                lhs = arith(op, lhs, rhs, at)?;
            }
        }
        chain.finish()?;
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        let pos = self.peek().pos;
        if self.eat(&Tok::Minus) {
            self.enter(pos)?;
            let e = self.unary()?;
            self.leave();
            need_number(&e.expr)?;
            return node(ExprKind::Neg(Box::new(e.expr)), pos, e.depth + 1, pos);
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Number(r) => {
                self.bump();
                Ok(Node::leaf(ExprKind::Number(*r), t.pos))
            }
            Tok::LParen => {
                self.bump();
                self.enter(t.pos)?;
                let e = self.or()?;
                self.leave();
                self.expect(Tok::RParen, Expected::ClosingParen)?;
                // A parenthesis is a level of its own (see `super::limits`).
                let depth = e.depth + 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep(t.pos, depth));
                }
                Ok(Node {
                    expr: Expr { pos: t.pos, ..e.expr },
                    depth,
                })
            }
            Tok::Name(name) => {
                self.bump();
                self.named(name, t.pos)
            }
            _ => Err(self.unexpected(Expected::Operand)),
        }
    }

    fn named(&mut self, name: &str, pos: usize) -> Result<Node, ParseError> {
        if let Some(field) = field_named(name) {
            return Ok(Node::leaf(ExprKind::Field(field), pos));
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
                self.enter(pos)?;
                let a = self.sum()?;
                need_number(&a.expr)?;
                self.expect(Tok::Comma, Expected::Comma)?;
                let b = self.sum()?;
                need_number(&b.expr)?;
                self.expect(Tok::RParen, Expected::ClosingParen)?;
                self.leave();
                let depth = a.depth.max(b.depth) + 1;
                return node(
                    ExprKind::Cross {
                        up: lower == "cross_up",
                        a: Box::new(a.expr),
                        b: Box::new(b.expr),
                    },
                    pos,
                    depth,
                    pos,
                );
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
                Some(preset) => {
                    let expr = preset.expr(pos);
                    let depth = expr.depth();
                    return Ok(Node { expr, depth });
                }
                None => {
                    let presets = Preset::ALL.iter().flat_map(|p| [p.korean(), p.english()]);
                    let suggestion = closest(name, KNOWN_NAMES.into_iter().chain(presets));
                    return Err(ParseError::new(
                        pos,
                        ErrorKind::UnknownName {
                            name: name.to_string(),
                        },
                    )
                    .with_suggestion(suggestion.map(str::to_string)));
                }
            },
        };
        Ok(Node::leaf(kind, pos))
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

/// `lhs op rhs` for the logical operators, the operator at `at`.
fn join(
    lhs: Node,
    rhs: Node,
    at: usize,
    kind: impl FnOnce(Box<Expr>, Box<Expr>) -> ExprKind,
) -> Result<Node, ParseError> {
    let pos = lhs.expr.pos;
    let depth = lhs.depth.max(rhs.depth) + 1;
    node(kind(Box::new(lhs.expr), Box::new(rhs.expr)), pos, depth, at)
}

fn arith(op: ArithOp, lhs: Node, rhs: Node, at: usize) -> Result<Node, ParseError> {
    join(lhs, rhs, at, |lhs, rhs| ExprKind::Arith { op, lhs, rhs })
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
