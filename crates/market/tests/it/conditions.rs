//! The condition language: parsing, errors with positions (never a panic), exact evaluation, crossings,
//! presets, and backtests.

use jiff::civil::{DateTime, date};
use market::backtest::backtest;
use market::candle::{Candle, Period};
use market::condition::{Condition, ErrorKind, Expected, ParseError};
use market::preset::Preset;
use proptest::prelude::*;

fn err(src: &str) -> ParseError {
    Condition::parse(src).expect_err(src)
}

#[test]
fn the_issue_examples_parse() {
    let cases = [
        (
            "30m: ma(20) > ma(60) > ma(120) > ma(240)",
            Period::M30,
            "ma(20) > ma(60) > ma(120) > ma(240)",
        ),
        (
            "D: cross_up(ma(5), ma(20))",
            Period::Day,
            "cross_up(ma(5), ma(20))",
        ),
        (
            "5m: volume > 3 * avg(volume, 20)",
            Period::M5,
            "volume > 3 * avg(volume, 20)",
        ),
        ("D: change_pct >= 5", Period::Day, "change_pct >= 5"),
        (
            "close > ma(20) and not bearish()",
            Period::Day,
            "close > ma(20) and not bearish(20, 60, 120, 240)",
        ),
        ("30m: 정배열", Period::M30, "bullish(20, 60, 120, 240)"),
        (
            "1m: (close > 2.5 or low <= -1) AND !(high == 3)",
            Period::M1,
            "(close > 2.5 or low <= -1) and not high == 3",
        ),
        (
            "W: 이평선돌파 && volume != 0",
            Period::Week,
            "cross_up(close, ma(20)) and volume != 0",
        ),
    ];
    for (src, period, canonical) in cases {
        let c = Condition::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(c.period, period, "{src}");
        assert_eq!(c.expr.to_string(), canonical, "{src}");
        // The canonical text parses back to the same thing.
        let again = Condition::parse(&c.to_string()).unwrap();
        assert_eq!(again.expr.to_string(), canonical);
        assert_eq!(again.period, period);
    }
}

#[test]
fn presets_resolve_by_either_name() {
    for p in Preset::ALL {
        assert_eq!(Preset::from_name(p.korean()), Some(p));
        assert_eq!(Preset::from_name(p.english()), Some(p));
        let by_name = Condition::parse(p.korean()).unwrap();
        let by_source = Condition::parse(p.source()).unwrap();
        assert_eq!(by_name.expr.to_string(), by_source.expr.to_string());
    }
    assert_eq!(Preset::from_name("이평선 돌파"), Some(Preset::MaBreakout));
}

#[test]
fn errors_say_where_and_what() {
    let e = err("30m: ma(20) > ");
    assert_eq!(e.position, 14);
    assert_eq!(
        e.kind,
        ErrorKind::Unexpected {
            expected: Expected::Operand,
            found: String::new()
        }
    );
    assert!(
        e.message_en()
            .contains("at character 15: expected a value or condition"),
        "{}",
        e.message_en()
    );
    assert!(
        e.message_ko().starts_with("15번째 글자: 값이나 조건"),
        "{}",
        e.message_ko()
    );

    let e = err("ma(20 > 3");
    assert_eq!(
        (e.position, e.kind),
        (
            6,
            ErrorKind::Unexpected {
                expected: Expected::ClosingParen,
                found: ">".into()
            }
        )
    );
    let e = err("2h: close > 1");
    assert_eq!(
        (e.position, e.kind),
        (0, ErrorKind::UnknownPeriod { name: "2h".into() })
    );
    let e = err("close and ma(5) > 1");
    assert_eq!((e.position, e.kind), (0, ErrorKind::NeedCondition));
    let e = err("ma(5) > (close > 1)");
    assert_eq!((e.position, e.kind), (8, ErrorKind::NeedNumber));
    let e = err("close > 1 and foo");
    assert_eq!(
        (e.position, e.kind),
        (14, ErrorKind::UnknownName { name: "foo".into() })
    );
    let e = err("ma(0) > 1");
    assert_eq!(
        (e.position, e.kind),
        (3, ErrorKind::WindowOutOfRange { value: "0".into() })
    );
    let e = err("ma(2.5) > 1");
    assert_eq!(e.position, 3);
    let e = err("정배열 # 1");
    assert_eq!(
        (e.position, e.kind),
        (4, ErrorKind::UnexpectedChar { found: '#' })
    );
    let e = err("close > 1 close");
    assert_eq!(
        (e.position, e.kind),
        (
            10,
            ErrorKind::Unexpected {
                expected: Expected::End,
                found: "close".into()
            }
        )
    );
    let e = err("avg(price2, 3) > 1");
    assert_eq!(
        (e.position, e.kind),
        (
            4,
            ErrorKind::Unexpected {
                expected: Expected::Field,
                found: "price2".into()
            }
        )
    );
    let e = err("close");
    assert_eq!((e.position, e.kind), (0, ErrorKind::NeedCondition));
    let e = err(&format!("{}close > 1{}", "(".repeat(100), ")".repeat(100)));
    assert!(matches!(e.kind, ErrorKind::TooDeep { .. }), "{e}");
    let e = err("close > 1234567890123456789");
    assert_eq!((e.position, e.kind), (8, ErrorKind::NumberTooLong));
    // Display carries both languages.
    let shown = err("").to_string();
    assert!(
        shown.contains("character 1") && shown.contains("1번째 글자"),
        "{shown}"
    );
}

fn language_soup() -> impl Strategy<Value = String> {
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
        ":",
        "정배열",
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
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    /// The parser never panics, on near-miss programs or on arbitrary text, and every error points
    /// inside (or just past the end of) the source.
    #[test]
    fn parser_never_panics_on_language_soup(src in language_soup()) {
        if let Err(e) = Condition::parse(&src) {
            prop_assert!(e.position <= src.chars().count(), "{} at {}", src, e.position);
            prop_assert!(!e.message_en().is_empty() && !e.message_ko().is_empty());
        }
    }

    #[test]
    fn parser_never_panics_on_any_text(src in any::<String>()) {
        if let Err(e) = Condition::parse(&src) {
            prop_assert!(e.position <= src.chars().count());
        }
    }

    /// Whatever parses prints to a canonical form that parses to the same canonical form.
    #[test]
    fn canonical_text_round_trips(src in language_soup()) {
        if let Ok(c) = Condition::parse(&src) {
            let again = Condition::parse(&c.to_string()).unwrap();
            prop_assert_eq!(again.to_string(), c.to_string());
        }
    }
}

fn bars(closes: &[(i64, u64)]) -> Vec<Candle> {
    let t0 = date(2026, 1, 5).at(0, 0, 0, 0);
    closes
        .iter()
        .enumerate()
        .map(|(i, &(c, v))| {
            let t: DateTime = t0
                .checked_add(jiff::SignedDuration::from_hours(24 * i as i64))
                .unwrap();
            Candle {
                time: t,
                open: c,
                high: c,
                low: c,
                close: c,
                volume: v,
            }
        })
        .collect()
}

fn fired(src: &str, series: &[(i64, u64)]) -> Vec<usize> {
    let c = Condition::parse(src).unwrap();
    backtest(&c, &bars(series))
        .signals
        .iter()
        .map(|s| s.index)
        .collect()
}

#[test]
fn comparisons_are_exact_at_ties() {
    // avg(volume, 3) at bar 2 = (10 + 20 + 30) / 3 = 20 (the current bar included); 30 == 1.5 × 20.
    let s = [(100, 10), (100, 20), (100, 30)];
    assert_eq!(fired("volume > 1.5 * avg(volume, 3)", &s), Vec::<usize>::new());
    assert_eq!(fired("volume >= 1.5 * avg(volume, 3)", &s), vec![2]);
    assert_eq!(fired("volume == 3 / 2 * avg(volume, 3)", &s), vec![2]);
    // avg(volume, 2) at bar 2 = 25 = 2.5 × 10; at bar 1 it is 15.
    assert_eq!(fired("avg(volume, 2) == 2.5 * 10", &s), vec![2]);
    // 1,000 → 1,050 is exactly +5%.
    let d = [(1000, 1), (1050, 1), (1102, 1)];
    assert_eq!(fired("change_pct >= 5", &d), vec![1]);
    assert_eq!(fired("change_pct > 5", &d), Vec::<usize>::new());
    // 1050 → 1102 is +4.952…%: not 5.
    assert_eq!(fired("change_pct < 5 and change_pct > 4.95", &d), vec![2]);
    // MA(3) of 10, 11, 12 is 11 exactly, equal to MA(1) of 11.
    assert_eq!(fired("ma(3) == 11", &[(10, 1), (11, 1), (12, 1)]), vec![2]);
    assert_eq!(
        fired("ma(3) / 3 == 11 / 3", &[(10, 1), (11, 1), (12, 1)]),
        vec![2]
    );
}

#[test]
fn crossings_on_a_hand_checked_sequence() {
    //  i:      0   1   2   3   4   5   6   7
    // close:  10   9   8   9  11  12  10   8
    // ma(2):    9.5 8.5 8.5 10 11.5 11  9
    // ma(3):        9  8.67 9.33 10.67 11 10
    // ma2 > ma3 at 4 (10 > 9.33) after ma2 <= ma3 at 3 (8.5 <= 8.67): cross up at 4.
    // ma2 < ma3 at 6? 11 == 11 (not below); at 7: 9 < 10 after 11 >= 11 at 6: cross down at 7.
    let s: Vec<(i64, u64)> = [10, 9, 8, 9, 11, 12, 10, 8].iter().map(|&c| (c, 1)).collect();
    assert_eq!(fired("cross_up(ma(2), ma(3))", &s), vec![4]);
    assert_eq!(fired("cross_down(ma(2), ma(3))", &s), vec![7]);
    // The tie at 6 neither crosses down nor fires "ma2 > ma3".
    assert_eq!(fired("ma(2) > ma(3)", &s), vec![4]);
    // Close against ma(3): 8 <= 9 at 2, then 9 > 8.67 at 3: crosses up at 3 (and stays above until 6).
    assert_eq!(fired("cross_up(close, ma(3))", &s), vec![3]);
}

#[test]
fn backtest_reports_forward_returns_and_a_summary() {
    // Fires at 1 (crossing 100) and at 4 after dipping back; forward returns from there.
    let s: Vec<(i64, u64)> = [90, 110, 121, 99, 100, 150, 150, 150]
        .iter()
        .map(|&c| (c, 1))
        .collect();
    let c = Condition::parse("close >= 100").unwrap();
    let r = backtest(&c, &bars(&s));
    assert_eq!(r.count, 2);
    assert_eq!(r.signals[0].index, 1);
    let close_to = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
    let f = r.signals[0].forward_returns;
    assert!(
        close_to(f[0], 10.0) && close_to(f[1], 4000.0 / 110.0) && f[2].is_none(),
        "{f:?}"
    );
    assert_eq!(r.signals[1].index, 4);
    assert_eq!(r.signals[1].forward_returns, [Some(50.0), None, None]);
    assert_eq!(r.horizons[0].samples, 2);
    assert_eq!(r.horizons[0].hit_rate, Some(1.0));
    assert!(close_to(r.horizons[0].mean_return, 30.0));
    assert_eq!(r.horizons[1].samples, 1);
    assert_eq!(
        (
            r.horizons[2].samples,
            r.horizons[2].hit_rate,
            r.horizons[2].mean_return
        ),
        (0, None, None)
    );
    assert_eq!(r.signals[0].values, vec![("close".to_string(), 110.0)]);
}
