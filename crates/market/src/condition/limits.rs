//! The bounds every condition must stay within. No human-written condition comes near them (the
//! longest presets and examples use a few dozen characters, a handful of terms and 3-6 levels), but
//! outside input can be anything: these keep parsing, compiling and evaluating a condition bounded in
//! time, memory and, above all, stack.
//!
//! | limit | value | refused with |
//! |---|---|---|
//! | source length | [`MAX_CHARS`] characters | [`ErrorKind::TooLong`] |
//! | terms (numbers and names) | [`MAX_TERMS`] | [`ErrorKind::TooManyTerms`] |
//! | operators (`+ - * /`, comparisons, `and or not`) | [`MAX_OPERATORS`] | [`ErrorKind::TooManyOperators`] |
//! | operands in one chain (`a and b and …`, `a + b + …`, `a > b > …`) | [`MAX_CHAIN`] | [`ErrorKind::ChainTooLong`] |
//! | nesting depth | [`MAX_DEPTH`] levels | [`ErrorKind::TooDeep`] |
//!
//! **Depth** counts every kind of nesting: each parenthesis, `not`, unary minus and function call is
//! a level, and so is each operator node of the syntax tree, so `a and b and c` (a left-deep tree
//! `(a and b) and c`) is three levels deep with its comparisons. The depth of the syntax tree (plus
//! one per parenthesis) is what is bounded, and every recursive walk of a condition (the parser's
//! descent, [`super::Program::compile`], evaluation, `Display`, `Clone`, `Drop`) recurses at most
//! once per level: a parsed condition never needs more than [`MAX_DEPTH`] nested calls of any of
//! them. [`super::Program::compile`] checks the depth again (without recursing) for expressions built
//! by hand.
//!
//! [`ErrorKind::TooLong`]: super::ErrorKind::TooLong
//! [`ErrorKind::TooManyTerms`]: super::ErrorKind::TooManyTerms
//! [`ErrorKind::TooManyOperators`]: super::ErrorKind::TooManyOperators
//! [`ErrorKind::ChainTooLong`]: super::ErrorKind::ChainTooLong
//! [`ErrorKind::TooDeep`]: super::ErrorKind::TooDeep

/// The longest source accepted, in characters (whitespace and the period prefix included).
pub const MAX_CHARS: usize = 4_000;

/// The most terms accepted: numbers and names (`close`, `ma`, `20`, `정배열` are one each).
pub const MAX_TERMS: usize = 256;

/// The most operators accepted: `+ - * /`, the comparisons, `and`, `or`, `not` (and `&& || !`).
pub const MAX_OPERATORS: usize = 256;

/// The most operands in one chain of operators of the same level: `a and b and …`, `a or b or …`,
/// `a + b - …`, `a * b / …`, `a > b > …`.
pub const MAX_CHAIN: usize = 32;

/// The deepest nesting accepted (see the module docs for what counts as a level).
pub const MAX_DEPTH: usize = 64;
