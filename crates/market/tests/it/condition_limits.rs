//! No input can crash the condition language: the source length, terms, operators, chains and nesting
//! are bounded, each refused with an error that names the limit and the value, and parsing, compiling
//! and evaluating never recurse without bound. Every check runs on a thread with a small stack
//! ([`SMALL_STACK`]), so an unbounded recursion would overflow it and fail the test.
//!
//! A long-running version of the property tests is `fuzz_conditions_for_a_while` (ignored by default):
//! `FUZZ_SECS=600 cargo test -p market --release --test it condition_limits -- --ignored --nocapture`.

use jiff::SignedDuration;
use jiff::civil::date;
use market::backtest::backtest;
use market::candle::Candle;
use market::code::StockCode;
use market::condition::lexer::tokenize;
use market::condition::limits::{MAX_CHAIN, MAX_CHARS, MAX_DEPTH, MAX_OPERATORS, MAX_TERMS};
use market::condition::{Chain, Condition, ErrorKind, Program};
use market::state::{Layout, SeriesState};
use market::trigger::{Tick, TriggerEngine};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// The stack the checks run on: far less than a thread's default (2 MiB) or the main thread's (8 MiB).
const SMALL_STACK: usize = 256 * 1024;

/// Runs `f` on a fresh thread with [`SMALL_STACK`] and returns what it returns; a panic there fails
/// the caller, an overflow aborts the test binary.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let handle = std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn a small-stack thread");
    match handle.join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn bars(n: usize) -> Vec<Candle> {
    let t0 = date(2026, 11, 20).at(9, 0, 0, 0);
    (0..n)
        .map(|i| {
            let p = 1_000 + (i as i64 % 7) * 13 - (i as i64 % 3) * 20;
            Candle {
                time: t0.saturating_add(SignedDuration::from_mins(i as i64)),
                open: p - 5,
                high: p + 9,
                low: p - 11,
                close: p,
                volume: 100 + (i as u64 % 5) * 40,
            }
        })
        .collect()
}

/// Parse → print → parse again → compile → evaluate bar by bar → the trigger engine → backtest,
/// all on the small stack. Returns the parse result (the error's kind, if any).
fn exercise(src: String) -> Result<(), ErrorKind> {
    on_small_stack(move || {
        let chars = src.chars().count();
        let condition = match Condition::parse(&src) {
            Ok(c) => c,
            Err(e) => {
                assert!(e.position <= chars, "{} at {}", e.position, chars);
                assert!(!e.message_en().is_empty() && !e.message_ko().is_empty());
                return Err(e.kind);
            }
        };
        assert!(
            condition.expr.depth() <= MAX_DEPTH,
            "a parsed tree is {} deep",
            condition.expr.depth()
        );
        let printed = condition.to_string();
        let again = Condition::parse(&printed);
        // The canonical text may be longer than the source (presets spelled out, parentheses added),
        // so it may pass a limit the source did not; otherwise it parses to the same text.
        if let Ok(again) = again {
            assert_eq!(again.to_string(), printed);
        }
        let mut layout = Layout::new();
        let program = Program::compile(&condition.expr, &mut layout);
        let mut state = SeriesState::new(&layout);
        for bar in bars(6) {
            state.open(bar);
            let _ = program.holds(&state);
            let _ = program.values(&state);
        }
        let mut engine = TriggerEngine::default();
        let stock = engine
            .add_stock(StockCode::parse("005930").expect("a code"))
            .expect("a stock");
        engine
            .add_condition(1, condition.clone(), Default::default())
            .expect("a condition");
        let mut out = Vec::new();
        for bar in bars(4) {
            engine.on_tick(
                Tick {
                    stock,
                    time: bar.time,
                    price: bar.close,
                    volume: bar.volume,
                },
                &mut out,
            );
        }
        let _ = backtest(&condition, &bars(6));
        Ok(())
    })
}

fn is_limit(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::TooLong { .. }
            | ErrorKind::TooManyTerms { .. }
            | ErrorKind::TooManyOperators { .. }
            | ErrorKind::ChainTooLong { .. }
            | ErrorKind::TooDeep { .. }
    )
}

fn repeat_joined(item: &str, sep: &str, n: usize) -> String {
    vec![item; n].join(sep)
}

#[test]
fn the_reported_crashes_are_refused_with_the_limit_and_the_value() {
    // 8,000 comparisons joined by `and` (~110 KB).
    let src = format!("1m: {}", repeat_joined("close > 1", " and ", 8_000));
    let chars = src.chars().count();
    let e = on_small_stack(move || Condition::parse(&src).expect_err("too long"));
    assert_eq!(
        e.kind,
        ErrorKind::TooLong {
            chars,
            max: MAX_CHARS
        }
    );
    assert_eq!(e.position, MAX_CHARS);
    assert_eq!(
        e.message_en(),
        format!("at character 4,001: the condition has 111,999 characters; at most 4,000 are accepted")
    );
    assert_eq!(chars, 111_999);
    assert!(
        e.message_ko().contains("111,999자") && e.message_ko().contains("최대 4,000자"),
        "{}",
        e.message_ko()
    );

    // `D: close > 1 + 1 + …` with 10,000 terms.
    let src = format!("D: close > {}", repeat_joined("1", " + ", 10_000));
    let e = on_small_stack(move || Condition::parse(&src).expect_err("too long"));
    assert!(matches!(e.kind, ErrorKind::TooLong { .. }), "{e}");

    // The same shapes within the length limit stop at the terms, the chain or the depth.
    let src = format!("D: close > {}", repeat_joined("1", "+", 1_000));
    let e = on_small_stack(move || Condition::parse(&src).expect_err("too many terms"));
    assert_eq!(
        e.kind,
        ErrorKind::TooManyTerms {
            terms: 1_001,
            max: MAX_TERMS
        }
    );
    assert_eq!(
        e.message_en(),
        "at character 522: the condition has 1,001 terms (numbers and names); at most 256 are accepted"
    );
    assert_eq!(
        e.message_ko(),
        "522번째 글자: 조건에 항(숫자와 이름)이 1,001개 있습니다. 최대 256개까지 허용됩니다"
    );

    let src = format!("D: {} close > 1", "!".repeat(1_000));
    let e = on_small_stack(move || Condition::parse(&src).expect_err("too many operators"));
    assert_eq!(
        e.kind,
        ErrorKind::TooManyOperators {
            operators: 1_001,
            max: MAX_OPERATORS
        }
    );

    let src = format!("1m: {}", repeat_joined("close > 1", " and ", 40));
    let e = on_small_stack(move || Condition::parse(&src).expect_err("a long chain"));
    assert_eq!(
        e.kind,
        ErrorKind::ChainTooLong {
            chain: Chain::And,
            length: 40,
            max: MAX_CHAIN
        }
    );
    // It points at the 33rd comparison.
    assert_eq!(e.position, 4 + 32 * "close > 1 and ".len());
    assert!(
        e.message_en()
            .ends_with("40 terms are joined by 'and' in one chain; at most 32 are accepted"),
        "{}",
        e.message_en()
    );
    assert!(
        e.message_ko()
            .ends_with("'and'로 이어진 항이 40개입니다. 한 번에 최대 32개까지 허용됩니다"),
        "{}",
        e.message_ko()
    );

    let src = format!("{}close > 1{}", "(".repeat(100), ")".repeat(100));
    let e = on_small_stack(move || Condition::parse(&src).expect_err("too deep"));
    assert_eq!(
        e.kind,
        ErrorKind::TooDeep {
            depth: 65,
            max: MAX_DEPTH
        }
    );
    assert_eq!(e.position, 64);
    assert!(
        e.message_en()
            .contains("nests 65 levels deep here; at most 64 are accepted"),
        "{}",
        e.message_en()
    );
}

#[test]
fn each_chain_and_nesting_has_its_limit() {
    let chain = |src: String, chain: Chain| {
        let e = on_small_stack(move || Condition::parse(&src).expect_err("a long chain"));
        assert!(
            matches!(e.kind, ErrorKind::ChainTooLong { chain: c, length: 33, max: MAX_CHAIN } if c == chain),
            "{e}"
        );
    };
    chain(repeat_joined("close > 1", " or ", 33), Chain::Or);
    chain(repeat_joined("close > 1", " && ", 33), Chain::And);
    chain(repeat_joined("close", " > ", 33), Chain::Comparison);
    chain(format!("close > {}", repeat_joined("1", " - ", 33)), Chain::Sum);
    chain(
        format!("close > {}", repeat_joined("2", " / ", 33)),
        Chain::Product,
    );
    // At the limit they parse.
    for src in [
        repeat_joined("close > 1", " or ", 32),
        repeat_joined("close", " > ", 32),
        format!("close > {}", repeat_joined("1", " * ", 32)),
    ] {
        assert_eq!(exercise(src.clone()), Ok(()), "{src}");
    }

    let deep = |src: String| {
        let e = on_small_stack(move || Condition::parse(&src).expect_err("too deep"));
        assert!(
            matches!(e.kind, ErrorKind::TooDeep { depth, max: MAX_DEPTH } if depth > MAX_DEPTH),
            "{e}"
        );
    };
    deep(format!("{}close > 1", "not ".repeat(70)));
    deep(format!("{}close > 1", "! ".repeat(63)));
    deep(format!("close > {}1", "-".repeat(70)));
    deep(format!("{}1, 2){}", "cross_up(".repeat(70), ", 1)".repeat(69)));
    deep(format!("close > {}1{}", "(".repeat(63), ")".repeat(63)));
    // Chains nest too: 32 `or`s of 32 `and`s of sums are well past 64 levels.
    let and = format!("({})", repeat_joined("close > 1 + 1", " and ", 3));
    let or = repeat_joined(&and, " or ", 3);
    assert_eq!(exercise(or), Ok(()));
    // The deepest trees accepted, of each kind, run on the small stack.
    for src in [
        format!("{}close > 1", "not ".repeat(62)),
        format!("close > {}1", "-".repeat(62)),
        format!("{}close > 1{}", "(".repeat(62), ")".repeat(62)),
        format!("cross_up({}1{}, 1)", "(".repeat(61), ")".repeat(61)),
        format!("close > {}1{}", "(-".repeat(31), ")".repeat(31)),
        format!("{}close > 1{}", "(not ".repeat(31), ")".repeat(31)),
    ] {
        let parsed = exercise(src.clone());
        assert_eq!(parsed, Ok(()), "{src}");
    }
}

#[test]
fn a_tree_built_by_hand_too_deep_compiles_to_never() {
    use market::condition::Expr;
    use market::condition::ast::ExprKind;
    // 100,000 nested `not`s: deeper than any parser output. Built, measured, compiled and evaluated on
    // a big stack-free path: only `depth` and `compile` look at it.
    on_small_stack(|| {
        let mut e = Condition::parse("close > 1").expect("parses").expr;
        for _ in 0..100_000 {
            e = Expr::new(ExprKind::Not(Box::new(e)), 0);
        }
        assert_eq!(e.depth(), 100_002);
        let mut layout = Layout::new();
        let program = Program::compile(&e, &mut layout);
        let mut state = SeriesState::new(&layout);
        state.open(bars(1)[0]);
        assert!(!program.holds(&state));
        // Dropping it recursively would overflow: take it apart iteratively.
        let mut cur = Some(e);
        while let Some(x) = cur.take() {
            if let ExprKind::Not(inner) = x.kind {
                cur = Some(*inner);
            }
        }
    });
}

/// Valid conditions, the seeds of the mutations.
const CORPUS: [&str; 14] = [
    "30m: ma(20) > ma(60) > ma(120) > ma(240)",
    "D: cross_up(ma(5), ma(20))",
    "5m: volume > 3 * avg(volume, 20)",
    "D: change_pct >= 5",
    "close > ma(20) and not bearish()",
    "30m: 정배열 and volume > 1000",
    "1m: (close > 2.5 or low <= -1) AND !(high == 3)",
    "W: 이평선돌파 && volume != 0",
    "30분: 골든크로스 or 데드크로스",
    "일봉: close / ma(20) - 1 >= -0.05 * (high - low) / close",
    "5m: bullish(5, 10, 20) and cross_down(close, ma(5) + 2 * (ma(10) - ma(5)))",
    "60m: -(-close) < -(-ma(3)) || not (volume > avg(volume, 3) * 1.5)",
    "M: close >= 1 and close >= 2 and close >= 3 or open == 4",
    "15m: ((((close > 1))))",
];

/// Token texts to insert: everything the language knows and some it does not.
const POOL: [&str; 36] = [
    "(",
    ")",
    ",",
    ":",
    "+",
    "-",
    "*",
    "/",
    ">",
    ">=",
    "<",
    "<=",
    "==",
    "!=",
    "!",
    "and",
    "or",
    "not",
    "&&",
    "||",
    "close",
    "volume",
    "ma",
    "avg",
    "cross_up",
    "bullish",
    "2.5",
    "20",
    "0",
    "1000",
    "30m",
    "D",
    "정배열",
    "정배얼",
    "#",
    "🙂",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Insert the pool's token at a place (both taken modulo their lengths).
    Insert(usize, usize),
    Delete(usize),
    /// Repeat `len` tokens starting at a place `times` more times, right after them.
    Duplicate(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Insert(a, b)),
        3 => any::<usize>().prop_map(Mutation::Delete),
        2 => (any::<usize>(), 1usize..8, 1usize..40).prop_map(|(a, l, t)| Mutation::Duplicate(a, l, t)),
        1 => (any::<usize>(), 1usize..8, 40usize..3_000).prop_map(|(a, l, t)| Mutation::Duplicate(a, l, t)),
    ]
}

fn mutated() -> impl Strategy<Value = String> {
    (
        prop::sample::select(CORPUS.to_vec()),
        prop::collection::vec(mutation(), 1..8),
    )
        .prop_map(|(base, mutations)| {
            let mut toks: Vec<String> = tokenize(base)
                .expect("the corpus tokenizes")
                .into_iter()
                .map(|t| t.text)
                .filter(|t| !t.is_empty())
                .collect();
            for m in mutations {
                match m {
                    Mutation::Insert(at, which) => {
                        let at = at % (toks.len() + 1);
                        toks.insert(at, POOL[which % POOL.len()].to_string());
                    }
                    Mutation::Delete(at) => {
                        if !toks.is_empty() {
                            let at = at % toks.len();
                            toks.remove(at);
                        }
                    }
                    Mutation::Duplicate(at, len, times) => {
                        if toks.is_empty() {
                            continue;
                        }
                        let at = at % toks.len();
                        let end = (at + len).min(toks.len());
                        let piece: Vec<String> = toks[at..end].to_vec();
                        let copies: Vec<String> = (0..times).flat_map(|_| piece.iter().cloned()).collect();
                        toks.splice(end..end, copies);
                    }
                }
            }
            toks.join(" ")
        })
}

/// A chain or nesting of one kind, 1 to 10,000 long (mostly near the limits).
fn long_chain() -> impl Strategy<Value = String> {
    let len = prop_oneof![1usize..70, 1usize..600, 1usize..10_001];
    (0usize..12, len, any::<bool>()).prop_map(|(kind, n, spaced)| {
        let sp = if spaced { " " } else { "" };
        match kind {
            0 => format!("1m: {}", repeat_joined("close > 1", " and ", n)),
            1 => repeat_joined("close > 1", if spaced { " or " } else { "||" }, n),
            2 => format!("D: close > {}", repeat_joined("1", &format!("{sp}+{sp}"), n)),
            3 => format!("close > {}", repeat_joined("2", &format!("{sp}*{sp}"), n)),
            4 => format!("{}close > 1", "not ".repeat(n)),
            5 => format!("close > {}1", format!("-{sp}").repeat(n)),
            6 => format!("{}close > 1{}", "(".repeat(n), ")".repeat(n)),
            7 => format!("close > {}1{}", "(".repeat(n), ")".repeat(n)),
            8 => repeat_joined("close", &format!("{sp}>{sp}"), n.max(2)),
            9 => format!("cross_up({}1{}, 1)", "(1 + ".repeat(n), ")".repeat(n)),
            10 => format!("{}close > 1{}", "(not ".repeat(n), ")".repeat(n)),
            _ => format!("close > {}1{}", "(1 + -".repeat(n), ")".repeat(n)),
        }
    })
}

/// Random near-programs of the language's pieces.
fn soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "ma(",
        "avg(",
        "volume",
        "close",
        ",",
        ")",
        "(",
        " > ",
        ">=",
        "<",
        "==",
        "!=",
        "!",
        " and ",
        " or ",
        "not ",
        "cross_up(",
        "cross_down(",
        "bullish(",
        "bearish()",
        "20",
        "2.5",
        ".5",
        "0",
        "-",
        "+",
        "*",
        "/",
        "30m:",
        "D:",
        "30분:",
        "일봉:",
        ":",
        "정배열",
        "정배얼",
        "골든크로스",
        "change_pct",
        " ",
        "1.2.3",
        "999999999999999999999",
        "&&",
        "||",
        "#",
        "é",
        "🙂",
        "x",
    ]);
    prop::collection::vec(pieces, 0..64).prop_map(|v| v.concat())
}

fn any_input() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => mutated(),
        2 => long_chain(),
        2 => soup(),
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(Config { cases: 512, ..Config::default() })]

    /// Whatever the input, parse → compile → evaluate neither panics nor overflows a small stack, and a
    /// refusal of an input longer than the limit is a limit error.
    #[test]
    fn no_input_crashes_the_language(src in any_input()) {
        let long = src.chars().count() > MAX_CHARS;
        let result = exercise(src);
        if long {
            let too_long = matches!(result, Err(ErrorKind::TooLong { .. }));
            prop_assert!(too_long, "{:?}", result);
        }
    }

    /// A chain either parses or is refused by a limit, never by anything else.
    #[test]
    fn long_chains_parse_or_hit_a_limit(src in long_chain()) {
        match exercise(src.clone()) {
            Ok(()) => {}
            Err(kind) => prop_assert!(is_limit(&kind), "{src}: {kind:?}"),
        }
    }
}

/// The property of `no_input_crashes_the_language`, for `FUZZ_SECS` seconds (default 60), many cases
/// per batch. Ignored by default; see the crate README.
#[test]
#[ignore]
fn fuzz_conditions_for_a_while() {
    let secs: u64 = std::env::var("FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let cases = std::cell::Cell::new(0u64);
    let refused = std::cell::Cell::new(0u64);
    let mut batch = 0u64;
    while std::time::Instant::now() < deadline {
        let mut runner = TestRunner::new(Config {
            cases: 1_000,
            // A fresh seed each batch, so the batches do not repeat one another.
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x6b69_7377_6174_6368 ^ batch),
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&any_input(), |src| {
            if exercise(src).is_err() {
                refused.set(refused.get() + 1);
            }
            cases.set(cases.get() + 1);
            Ok(())
        });
        if let Err(e) = result {
            panic!("after {} cases: {e}", cases.get());
        }
        batch += 1;
    }
    println!(
        "fuzz_conditions_for_a_while: {} cases in {secs} s, {} refused by the parser, no crash",
        cases.get(),
        refused.get()
    );
}
