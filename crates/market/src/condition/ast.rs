//! The syntax tree of a condition. Every node knows where it started in the source, and whether it is a
//! number or a condition (true/false) is fixed by its kind.

use std::fmt;

use super::lexer::CmpOp;
use crate::ratio::Ratio;
use crate::state::Field;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl ArithOp {
    fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            ArithOp::Add | ArithOp::Sub => 1,
            ArithOp::Mul | ArithOp::Div => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    // Numbers.
    Number(Ratio),
    Field(Field),
    /// `avg(field, n)`; `ma(n)` is `avg(close, n)`.
    Avg {
        field: Field,
        n: usize,
    },
    /// Percent change of the close against the previous bar's close.
    ChangePct,
    Neg(Box<Expr>),
    Arith {
        op: ArithOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    // Conditions.
    /// `a > b >= c`: every adjacent pair holds.
    Compare {
        first: Box<Expr>,
        rest: Vec<(CmpOp, Expr)>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `cross_up(a, b)`: a > b now and a <= b at the previous bar (`cross_down` mirrors it).
    Cross {
        up: bool,
        a: Box<Expr>,
        b: Box<Expr>,
    },
    /// `bullish(20, 60, …)` / `bearish(…)`: closing-price averages strictly ordered.
    Aligned {
        bullish: bool,
        periods: Vec<usize>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    /// Character offset where the expression starts.
    pub pos: usize,
}

impl Expr {
    pub fn new(kind: ExprKind, pos: usize) -> Expr {
        Expr { kind, pos }
    }

    /// The depth of the tree: 1 for a leaf, one more than its deepest child for any other node. Walks
    /// the tree with a stack of its own rather than recursing, so it is safe on any tree, however
    /// deep (see [`super::limits`] for the depth a parsed condition may have).
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack: Vec<(&Expr, usize)> = vec![(self, 1)];
        while let Some((e, d)) = stack.pop() {
            deepest = deepest.max(d);
            match &e.kind {
                ExprKind::Number(_)
                | ExprKind::Field(_)
                | ExprKind::Avg { .. }
                | ExprKind::ChangePct
                | ExprKind::Aligned { .. } => {}
                ExprKind::Neg(a) | ExprKind::Not(a) => stack.push((a, d + 1)),
                ExprKind::Arith { lhs: a, rhs: b, .. }
                | ExprKind::And(a, b)
                | ExprKind::Or(a, b)
                | ExprKind::Cross { a, b, .. } => {
                    stack.push((a, d + 1));
                    stack.push((b, d + 1));
                }
                ExprKind::Compare { first, rest } => {
                    stack.push((first, d + 1));
                    stack.extend(rest.iter().map(|(_, e)| (e, d + 1)));
                }
            }
        }
        deepest
    }

    /// Whether this is a condition (true/false) rather than a number.
    pub fn is_condition(&self) -> bool {
        matches!(
            self.kind,
            ExprKind::Compare { .. }
                | ExprKind::And(..)
                | ExprKind::Or(..)
                | ExprKind::Not(_)
                | ExprKind::Cross { .. }
                | ExprKind::Aligned { .. }
        )
    }

    fn precedence(&self) -> u8 {
        match &self.kind {
            ExprKind::Or(..) => 1,
            ExprKind::And(..) => 2,
            ExprKind::Not(_) => 3,
            ExprKind::Compare { .. } => 4,
            ExprKind::Arith { op, .. } => 4 + op.precedence(),
            _ => 9,
        }
    }

    fn fmt_child(&self, child: &Expr, min: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if child.precedence() < min {
            write!(f, "({child})")
        } else {
            write!(f, "{child}")
        }
    }
}

fn fmt_ratio(r: Ratio, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if r.den() == 1 {
        return write!(f, "{}", r.num());
    }
    // Literals are decimal fractions; print them back as decimals when they are.
    let mut den = r.den();
    let mut places = 0u32;
    while den % 10 == 0 {
        den /= 10;
        places += 1;
    }
    if den == 1 {
        let scale = 10i128.pow(places);
        let sign = if r.num() < 0 { "-" } else { "" };
        let abs = r.num().unsigned_abs();
        let scale = scale.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = places as usize
        )
    } else {
        write!(f, "{}/{}", r.num(), r.den())
    }
}

fn fmt_periods(periods: &[usize], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, p) in periods.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{p}")?;
    }
    Ok(())
}

/// Canonical text, used as the label of a value in a trigger (e.g. `ma(20)`, `3 * avg(volume, 20)`).
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.precedence();
        match &self.kind {
            ExprKind::Number(r) => fmt_ratio(*r, f),
            ExprKind::Field(field) => f.write_str(field.name()),
            ExprKind::Avg {
                field: Field::Close,
                n,
            } => write!(f, "ma({n})"),
            ExprKind::Avg { field, n } => write!(f, "avg({}, {n})", field.name()),
            ExprKind::ChangePct => f.write_str("change_pct"),
            ExprKind::Neg(e) => {
                f.write_str("-")?;
                self.fmt_child(e, 9, f)
            }
            ExprKind::Arith { op, lhs, rhs } => {
                self.fmt_child(lhs, p, f)?;
                write!(f, " {} ", op.symbol())?;
                self.fmt_child(rhs, p + 1, f)
            }
            ExprKind::Compare { first, rest } => {
                self.fmt_child(first, 5, f)?;
                for (op, e) in rest {
                    write!(f, " {} ", op.symbol())?;
                    self.fmt_child(e, 5, f)?;
                }
                Ok(())
            }
            ExprKind::And(a, b) => {
                self.fmt_child(a, p, f)?;
                f.write_str(" and ")?;
                self.fmt_child(b, p + 1, f)
            }
            ExprKind::Or(a, b) => {
                self.fmt_child(a, p, f)?;
                f.write_str(" or ")?;
                self.fmt_child(b, p + 1, f)
            }
            ExprKind::Not(e) => {
                f.write_str("not ")?;
                self.fmt_child(e, p, f)
            }
            ExprKind::Cross { up, a, b } => {
                let name = if *up { "cross_up" } else { "cross_down" };
                write!(f, "{name}({a}, {b})")
            }
            ExprKind::Aligned { bullish, periods } => {
                f.write_str(if *bullish { "bullish(" } else { "bearish(" })?;
                fmt_periods(periods, f)?;
                f.write_str(")")
            }
        }
    }
}
