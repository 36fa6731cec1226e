//! A condition compiled against a period's [`Layout`]: every average becomes a shared window of the
//! series, and evaluation reads the series state without allocating.
//!
//! Unknown values (an average before it has enough bars, a previous bar that does not exist yet) make
//! the comparisons that use them unknown, and logic is three-valued (`not unknown` is unknown,
//! `false and unknown` is false); a condition that ends up unknown does not hold.

use std::cmp::Ordering;

use super::ast::{ArithOp, Expr, ExprKind};
use super::lexer::CmpOp;
use super::limits::MAX_DEPTH;
use crate::ratio::Ratio;
use crate::state::{Field, Layout, SeriesState, WindowRef};

#[derive(Debug, Clone)]
enum Num {
    Const(Ratio),
    Field(Field),
    Mean(WindowRef),
    ChangePct,
    Neg(Box<Num>),
    Arith(ArithOp, Box<Num>, Box<Num>),
}

#[derive(Debug, Clone)]
enum Pred {
    Compare(Num, Vec<(CmpOp, Num)>),
    /// A comparison whose operands are all averages (`ma(20) > ma(60) > ma(120)`): read directly,
    /// without going through `Num` per operand.
    MeanCompare(WindowRef, Vec<(CmpOp, WindowRef)>),
    /// A crossing of two averages.
    CrossMeans {
        up: bool,
        a: WindowRef,
        b: WindowRef,
    },
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
    Cross {
        up: bool,
        a: Num,
        b: Num,
    },
    /// Averages listed shortest first; `bullish`: each above the next.
    Aligned {
        bullish: bool,
        means: Vec<WindowRef>,
    },
}

/// A compiled condition; see the module docs.
#[derive(Debug, Clone)]
pub struct Program {
    pred: Pred,
    /// The values reported with a trigger: every non-constant operand, labelled by its text.
    labels: Vec<(String, Num)>,
    /// The bar fields it reads (a set of [`Field::bit`]s).
    reads: u8,
}

impl Program {
    /// The bar fields the condition depends on: while none of them changes, neither does its result.
    pub fn reads(&self) -> u8 {
        self.reads
    }

    /// Compiles `expr` (a condition, as the parser guarantees), registering its windows in `layout`.
    ///
    /// Compiling and evaluating recurse once per level of the tree (the compiled tree mirrors the
    /// expression's), and a parsed expression is at most [`MAX_DEPTH`] deep. An expression built by
    /// hand deeper than that (checked without recursing, [`Expr::depth`]) compiles to a program that
    /// never holds, so no input can take them deeper.
    pub fn compile(expr: &Expr, layout: &mut Layout) -> Program {
        if expr.depth() > MAX_DEPTH {
            return Program {
                pred: never(),
                labels: Vec::new(),
                reads: 0,
            };
        }
        let mut labels = Vec::new();
        let pred = pred(expr, layout, &mut labels);
        Program {
            pred,
            labels,
            reads: reads(expr),
        }
    }

    /// Whether the condition holds on the series' current bar.
    pub fn holds(&self, s: &SeriesState) -> bool {
        self.pred.truth(s) == Some(true)
    }

    /// The condition's value on the series' current bar: `None` while it is unknown (an average
    /// without its `n` bars yet, no previous bar for a crossing).
    pub fn truth(&self, s: &SeriesState) -> Option<bool> {
        self.pred.truth(s)
    }

    /// The labelled values on the current bar, for display.
    pub fn values(&self, s: &SeriesState) -> Vec<(String, f64)> {
        self.labels
            .iter()
            .filter_map(|(label, num)| Some((label.clone(), num.value(s, 0)?.to_f64())))
            .collect()
    }
}

fn reads(expr: &Expr) -> u8 {
    match &expr.kind {
        ExprKind::Number(_) => 0,
        ExprKind::Field(f) | ExprKind::Avg { field: f, .. } => f.bit(),
        ExprKind::ChangePct | ExprKind::Aligned { .. } => Field::Close.bit(),
        ExprKind::Neg(a) | ExprKind::Not(a) => reads(a),
        ExprKind::Arith { lhs: a, rhs: b, .. }
        | ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Cross { a, b, .. } => reads(a) | reads(b),
        ExprKind::Compare { first, rest } => rest.iter().fold(reads(first), |m, (_, e)| m | reads(e)),
    }
}

fn label(expr: &Expr, num: &Num, labels: &mut Vec<(String, Num)>) {
    if matches!(num, Num::Const(_)) {
        return;
    }
    let text = expr.to_string();
    if !labels.iter().any(|(l, _)| *l == text) {
        labels.push((text, num.clone()));
    }
}

fn pred(expr: &Expr, layout: &mut Layout, labels: &mut Vec<(String, Num)>) -> Pred {
    match &expr.kind {
        ExprKind::Compare { first, rest } => {
            let a = num(first, layout);
            label(first, &a, labels);
            let rest: Vec<(CmpOp, Num)> = rest
                .iter()
                .map(|(op, e)| {
                    let n = num(e, layout);
                    label(e, &n, labels);
                    (*op, n)
                })
                .collect();
            let mean = |n: &Num| match n {
                Num::Mean(w) => Some(*w),
                _ => None,
            };
            match (
                mean(&a),
                rest.iter()
                    .map(|(op, n)| Some((*op, mean(n)?)))
                    .collect::<Option<Vec<_>>>(),
            ) {
                (Some(first), Some(means)) => Pred::MeanCompare(first, means),
                _ => Pred::Compare(a, rest),
            }
        }
        ExprKind::And(a, b) => Pred::And(
            Box::new(pred(a, layout, labels)),
            Box::new(pred(b, layout, labels)),
        ),
        ExprKind::Or(a, b) => Pred::Or(
            Box::new(pred(a, layout, labels)),
            Box::new(pred(b, layout, labels)),
        ),
        ExprKind::Not(a) => Pred::Not(Box::new(pred(a, layout, labels))),
        ExprKind::Cross { up, a, b } => {
            let (na, nb) = (num(a, layout), num(b, layout));
            label(a, &na, labels);
            label(b, &nb, labels);
            match (&na, &nb) {
                (Num::Mean(a), Num::Mean(b)) => Pred::CrossMeans {
                    up: *up,
                    a: *a,
                    b: *b,
                },
                _ => Pred::Cross {
                    up: *up,
                    a: na,
                    b: nb,
                },
            }
        }
        ExprKind::Aligned { bullish, periods } => {
            let means = periods
                .iter()
                .map(|&n| {
                    let w = layout.window(Field::Close, n);
                    let e = Expr::new(
                        ExprKind::Avg {
                            field: Field::Close,
                            n,
                        },
                        expr.pos,
                    );
                    label(&e, &Num::Mean(w), labels);
                    w
                })
                .collect();
            Pred::Aligned {
                bullish: *bullish,
                means,
            }
        }
        // A number where a condition belongs cannot come out of the parser; it never holds.
        _ => never(),
    }
}

/// A predicate that never holds (`0 != 0`).
fn never() -> Pred {
    Pred::Compare(
        Num::Const(Ratio::int(0)),
        vec![(CmpOp::Ne, Num::Const(Ratio::int(0)))],
    )
}

fn num(expr: &Expr, layout: &mut Layout) -> Num {
    match &expr.kind {
        ExprKind::Number(r) => Num::Const(*r),
        ExprKind::Field(f) => Num::Field(*f),
        ExprKind::Avg { field, n } => Num::Mean(layout.window(*field, *n)),
        ExprKind::ChangePct => Num::ChangePct,
        ExprKind::Neg(e) => Num::Neg(Box::new(num(e, layout))),
        ExprKind::Arith { op, lhs, rhs } => {
            Num::Arith(*op, Box::new(num(lhs, layout)), Box::new(num(rhs, layout)))
        }
        // A condition where a number belongs cannot come out of the parser; it is unknown.
        _ => Num::Arith(
            ArithOp::Div,
            Box::new(Num::Const(Ratio::int(0))),
            Box::new(Num::Const(Ratio::int(0))),
        ),
    }
}

impl Num {
    /// The value at the current bar (`back = 0`) or at the previous bar (`back = 1`).
    #[inline]
    fn value(&self, s: &SeriesState, back: u8) -> Option<Ratio> {
        match self {
            Num::Const(r) => Some(*r),
            Num::Field(f) => s.field(*f, back),
            Num::Mean(w) => s.mean(*w, back),
            Num::ChangePct => s.change_pct(back),
            Num::Neg(e) => e.value(s, back)?.checked_neg(),
            Num::Arith(op, a, b) => {
                let (a, b) = (a.value(s, back)?, b.value(s, back)?);
                match op {
                    ArithOp::Add => a.checked_add(b),
                    ArithOp::Sub => a.checked_sub(b),
                    ArithOp::Mul => a.checked_mul(b),
                    ArithOp::Div => a.checked_div(b),
                }
            }
        }
    }
}

#[inline]
fn compare(op: CmpOp, a: Ratio, b: Ratio) -> Option<bool> {
    let ord = a.cmp_exact(b);
    Some(match op {
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
    })
}

/// Kleene conjunction: false wins over unknown.
fn and(a: Option<bool>, b: impl FnOnce() -> Option<bool>) -> Option<bool> {
    match a {
        Some(false) => Some(false),
        _ => match (a, b()) {
            (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
    }
}

impl Pred {
    fn truth(&self, s: &SeriesState) -> Option<bool> {
        match self {
            Pred::Compare(first, rest) => {
                let mut acc = Some(true);
                let mut lhs = first.value(s, 0);
                for (op, e) in rest {
                    let rhs = e.value(s, 0);
                    let r = match (lhs, rhs) {
                        (Some(a), Some(b)) => compare(*op, a, b),
                        _ => None,
                    };
                    acc = and(acc, || r);
                    if acc == Some(false) {
                        return acc;
                    }
                    lhs = rhs;
                }
                acc
            }
            Pred::MeanCompare(first, rest) => {
                let mut acc = Some(true);
                let mut lhs = s.mean(*first, 0);
                for &(op, w) in rest {
                    let rhs = s.mean(w, 0);
                    let r = match (lhs, rhs) {
                        (Some(a), Some(b)) => compare(op, a, b),
                        _ => None,
                    };
                    acc = and(acc, || r);
                    if acc == Some(false) {
                        return acc;
                    }
                    lhs = rhs;
                }
                acc
            }
            Pred::CrossMeans { up, a, b } => {
                let (gt, le) = if *up {
                    (CmpOp::Gt, CmpOp::Le)
                } else {
                    (CmpOp::Lt, CmpOp::Ge)
                };
                let now = compare(gt, s.mean(*a, 0)?, s.mean(*b, 0)?);
                and(now, || compare(le, s.mean(*a, 1)?, s.mean(*b, 1)?))
            }
            Pred::And(a, b) => and(a.truth(s), || b.truth(s)),
            Pred::Or(a, b) => {
                let not_a = a.truth(s).map(|v| !v);
                and(not_a, || b.truth(s).map(|v| !v)).map(|v| !v)
            }
            Pred::Not(a) => a.truth(s).map(|v| !v),
            Pred::Cross { up, a, b } => {
                let (gt, le) = if *up {
                    (CmpOp::Gt, CmpOp::Le)
                } else {
                    (CmpOp::Lt, CmpOp::Ge)
                };
                let now = compare(gt, a.value(s, 0)?, b.value(s, 0)?);
                and(now, || compare(le, a.value(s, 1)?, b.value(s, 1)?))
            }
            Pred::Aligned { bullish, means } => {
                // Unknown while any average is unknown, as `Alignment::of`.
                if means.iter().any(|&w| s.mean(w, 0).is_none()) {
                    return None;
                }
                let want = if *bullish {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
                let mut prev: Option<Ratio> = None;
                for &w in means {
                    let cur = s.mean(w, 0)?;
                    if prev.is_some_and(|p| p.cmp_exact(cur) != want) {
                        return Some(false);
                    }
                    prev = Some(cur);
                }
                Some(true)
            }
        }
    }
}
