//! Condition errors a person can act on: messages count characters from 1 while `position` stays the
//! 0-based offset the UI puts its caret at; Korean period names; "did you mean …?" for a name or
//! period a few edits from a known one.

use market::candle::Period;
use market::condition::{Condition, ErrorKind, ParseError};

fn err(src: &str) -> ParseError {
    Condition::parse(src).expect_err(src)
}

#[test]
fn messages_count_from_one_and_the_position_from_zero() {
    // The `#` is the 5th character: offset 4.
    let e = err("정배열 # 1");
    assert_eq!(e.position, 4);
    assert_eq!(e.message_en(), "at character 5: unexpected character '#'");
    assert_eq!(e.message_ko(), "5번째 글자: 알 수 없는 문자 '#'");
    let e = err("");
    assert_eq!(e.position, 0);
    assert!(
        e.message_en().starts_with("at character 1: "),
        "{}",
        e.message_en()
    );
    assert!(e.message_ko().starts_with("1번째 글자: "), "{}", e.message_ko());
    // The JSON the API can pass on: the 0-based position, the kind, no suggestion when there is none.
    let json = serde_json::to_value(err("ma(20 > 3")).unwrap();
    assert_eq!(json["position"], 6);
    assert_eq!(json["kind"], "unexpected");
    assert!(json.get("suggestion").is_none(), "{json}");
}

#[test]
fn korean_period_names_are_accepted() {
    let cases = [
        ("1분", Period::M1),
        ("3분", Period::M3),
        ("5분", Period::M5),
        ("10분", Period::M10),
        ("15분", Period::M15),
        ("30분", Period::M30),
        ("60분", Period::M60),
        ("일", Period::Day),
        ("주", Period::Week),
        ("월", Period::Month),
        ("1분봉", Period::M1),
        ("30분봉", Period::M30),
        ("60분봉", Period::M60),
        ("일봉", Period::Day),
        ("주봉", Period::Week),
        ("월봉", Period::Month),
    ];
    for (name, period) in cases {
        assert_eq!(Period::parse(name), Ok(period), "{name}");
        let c = Condition::parse(&format!("{name}: 정배열 and volume > 1000"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(c.period, period, "{name}");
        // Printed back with the canonical prefix, which parses to the same period.
        assert!(c.to_string().starts_with(&format!("{}: ", period.as_str())));
        assert_eq!(Condition::parse(&c.to_string()).unwrap().period, period);
        // Without a space before the colon too.
        assert_eq!(
            Condition::parse(&format!("{name}:close>1")).unwrap().period,
            period
        );
    }
    for p in Period::ALL {
        assert_eq!(Period::parse(p.korean()), Ok(p));
        assert!(Period::NAMES.contains(&p.as_str()) && Period::NAMES.contains(&p.korean()));
    }
    for name in Period::NAMES {
        assert!(Period::parse(name).is_ok(), "{name}");
    }
    // `분` alone, `2분`, `년` are no periods.
    for bad in ["분", "2분", "년", "일일"] {
        let e = err(&format!("{bad}: close > 1"));
        assert_eq!(
            e.kind,
            ErrorKind::UnknownPeriod {
                name: bad.to_string()
            },
            "{bad}"
        );
        assert_eq!(e.position, 0);
    }
}

#[test]
fn unknown_names_close_to_known_ones_get_a_suggestion() {
    let e = err("30m: 정배얼");
    assert_eq!(e.position, 5);
    assert_eq!(
        e.kind,
        ErrorKind::UnknownName {
            name: "정배얼".into()
        }
    );
    assert_eq!(e.suggestion.as_deref(), Some("정배열"));
    assert_eq!(
        e.message_en(),
        "at character 6: unknown name '정배얼' — did you mean '정배열'?"
    );
    assert_eq!(
        e.message_ko(),
        "6번째 글자: '정배얼'을(를) 알 수 없습니다. '정배열'을(를) 찾으셨나요?"
    );
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["suggestion"], "정배열");
    assert_eq!(json["name"], "정배얼");

    let suggested = |src: &str| err(src).suggestion;
    assert_eq!(suggested("clsoe > 1").as_deref(), Some("close"));
    assert_eq!(
        suggested("Volume > avg(volume, 5) and 골든크로즈").as_deref(),
        Some("골든크로스")
    );
    assert_eq!(suggested("역배얄").as_deref(), Some("역배열"));
    assert_eq!(suggested("cross_upp(close, ma(5))").as_deref(), Some("cross_up"));
    assert_eq!(suggested("golden_crss").as_deref(), Some("golden_cross"));
    assert_eq!(
        suggested("close > 1 adn close < 5").as_deref(),
        None,
        "not a name: `1 adn` is"
    );
    // Nothing near: the message lists what exists instead.
    let e = err("close > 1 and foo");
    assert_eq!((e.position, e.suggestion.clone()), (14, None));
    assert!(
        e.message_en().contains("(fields: open, high"),
        "{}",
        e.message_en()
    );
    assert!(
        e.message_ko().contains("'foo'을(를) 알 수 없습니다 (항목:"),
        "{}",
        e.message_ko()
    );
}

#[test]
fn unknown_periods_close_to_known_ones_get_a_suggestion() {
    let e = err("d: close > 1");
    assert_eq!(e.kind, ErrorKind::UnknownPeriod { name: "d".into() });
    assert_eq!(e.suggestion.as_deref(), Some("D"));
    assert_eq!(
        e.message_en(),
        "at character 1: unknown period 'd' — did you mean 'D'?"
    );
    assert_eq!(
        e.message_ko(),
        "1번째 글자: 알 수 없는 주기 'd'. 'D'을(를) 찾으셨나요?"
    );
    assert_eq!(err("30분붕: close > 1").suggestion.as_deref(), Some("30분봉"));
    let e = err("2h: close > 1");
    assert_eq!(e.suggestion, None);
    assert!(e.message_en().contains("1분 … 60분"), "{}", e.message_en());
}
