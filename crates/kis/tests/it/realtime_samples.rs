//! Every `ws-*` sample in `testdata/kis` through the realtime parsers.

use std::path::PathBuf;

use kis::realtime::control::{self, AckOutcome, Control};
use kis::realtime::crypto::FrameCipher;
use kis::realtime::messages::{self, Message};
use kis::realtime::{ParseError, TradeSide};
use market::krx::Sign;

fn samples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/kis"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(samples().join(name)).unwrap()
}

/// The frames of a sample file, one per non-empty line.
fn frames(name: &str) -> Vec<String> {
    read(name)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn decode(text: &str) -> Result<Vec<Message>, ParseError> {
    messages::decode_frame(text, |_| None)
}

fn executions(name: &str) -> Vec<kis::realtime::Execution> {
    frames(name)
        .iter()
        .flat_map(|f| decode(f).unwrap())
        .map(|m| match m {
            Message::Execution(e) => e,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn every_ws_sample_has_a_test() {
    let known = [
        "ws-frame-H0STASP0-captured-a.txt",
        "ws-frame-H0STASP0-captured-b.txt",
        "ws-frame-H0STCNT0-SYNTHETIC-46fields.txt",
        "ws-frame-H0STCNT0-captured-20230324.txt",
        "ws-frame-H0STCNT0-captured-20260724.txt",
        "ws-frame-H0STCNT0-thirdparty-test-20fields.txt",
        "ws-frame-H0STCNT0-truncated.txt",
        "ws-pingpong.json",
        "ws-subscribe-ack-H0STASP0.json",
        "ws-subscribe-ack-H0STCNI9.json",
        "ws-subscribe-request.json",
    ];
    let mut found: Vec<String> = std::fs::read_dir(samples())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ws-"))
        .collect();
    found.sort();
    assert_eq!(found, known);
}

#[test]
fn captured_executions_2023() {
    let e = executions("ws-frame-H0STCNT0-captured-20230324.txt");
    assert_eq!(e.len(), 1);
    let e = &e[0];
    assert_eq!(e.code.as_str(), "005930");
    assert_eq!(e.datetime().to_string(), "2023-03-24T11:26:16");
    assert_eq!((e.price, e.sign, e.change), (62700, Sign::Up, 400));
    assert_eq!(e.change_rate.to_string(), "0.64");
    assert_eq!((e.volume, e.acc_volume), (125, 9_694_968));
    assert_eq!(e.acc_turnover, 607_878_273_600);
    assert_eq!(e.strength.to_string(), "93.01");
    assert_eq!(e.side, TradeSide::Buy);
    assert_eq!(e.vi_base_price, Some(62700));
}

#[test]
fn captured_executions_2026() {
    let e = executions("ws-frame-H0STCNT0-captured-20260724.txt");
    assert_eq!(e.len(), 1);
    let e = &e[0];
    assert_eq!((e.price, e.sign, e.change), (250500, Sign::Down, -19500));
    assert_eq!(e.weighted_average_price.to_string(), "257548.62");
    assert_eq!((e.total_ask_quantity, e.total_bid_quantity), (101158, 466092));
}

#[test]
fn synthetic_two_record_frame_yields_both_records() {
    let files = frames("ws-frame-H0STCNT0-SYNTHETIC-46fields.txt");
    assert_eq!(files.len(), 2);
    let single = decode(&files[0]).unwrap();
    let double = decode(&files[1]).unwrap();
    assert_eq!(single.len(), 1);
    assert_eq!(double.len(), 2);
    assert_eq!(double[0], single[0]);
    assert_eq!(double[1], single[0]);
    let Message::Execution(e) = &double[1] else {
        panic!("not an execution")
    };
    assert_eq!((e.price, e.change, e.volume), (71500, -300, 15));
    assert_eq!(e.business_date.to_string(), "2024-01-02");
}

#[test]
fn third_party_twenty_field_frame_is_an_error() {
    let f = &frames("ws-frame-H0STCNT0-thirdparty-test-20fields.txt")[0];
    let err = decode(f).unwrap_err();
    assert_eq!(
        err,
        ParseError::FieldCount {
            tr_id: "H0STCNT0".into(),
            count: 1,
            expected: 46,
            got: 20
        }
    );
}

#[test]
fn truncated_frame_is_an_error() {
    let f = &frames("ws-frame-H0STCNT0-truncated.txt")[0];
    let err = decode(f).unwrap_err();
    assert!(
        matches!(
            err,
            ParseError::FieldCount {
                count: 4,
                expected: 184,
                got: 5,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn captured_order_books() {
    for (name, time, ask1, bid1, acc) in [
        (
            "ws-frame-H0STASP0-captured-a.txt",
            "11:30:19",
            77900,
            77800,
            10_358_640,
        ),
        (
            "ws-frame-H0STASP0-captured-b.txt",
            "12:07:55",
            71500,
            71400,
            7_504_606,
        ),
    ] {
        let msgs = decode(&frames(name)[0]).unwrap();
        assert_eq!(msgs.len(), 1);
        let Message::OrderBook(b) = &msgs[0] else {
            panic!("not an order book")
        };
        assert_eq!(b.code.as_str(), "005930");
        assert_eq!(b.time.to_string(), time);
        assert_eq!((b.asks[0].price, b.bids[0].price), (ask1, bid1));
        assert_eq!(b.acc_volume, acc);
        // Asks rise away from the touch, bids fall, one tick (100) apart for this price band.
        for i in 1..10 {
            assert_eq!(b.asks[i].price - b.asks[i - 1].price, 100, "{name}");
            assert_eq!(b.bids[i - 1].price - b.bids[i].price, 100, "{name}");
        }
        let asks: u64 = b.asks.iter().map(|l| l.quantity).sum();
        let bids: u64 = b.bids.iter().map(|l| l.quantity).sum();
        assert_eq!((asks, bids), (b.total_ask_quantity, b.total_bid_quantity));
        // Continuous trading: no expected execution, its change is minus the previous close.
        assert_eq!(b.expected_price, 0);
        assert_eq!(b.expected_sign, Sign::Down);
        assert_eq!(b.expected_change_rate.to_string(), "-100.00");
    }
    let b = decode(&frames("ws-frame-H0STASP0-captured-a.txt")[0]).unwrap();
    let Message::OrderBook(b) = &b[0] else { panic!() };
    assert_eq!(b.asks[0].quantity, 265_881);
    assert_eq!(b.bids[0].quantity, 14_941);
    assert_eq!(b.bids[9].quantity, 214_927);
    assert_eq!(b.expected_change, -77200);
}

#[test]
fn pingpong() {
    assert_eq!(
        control::parse(read("ws-pingpong.json").trim()).unwrap(),
        Control::PingPong
    );
}

#[test]
fn subscribe_ack_with_cipher_key() {
    let Control::Ack(ack) = control::parse(read("ws-subscribe-ack-H0STASP0.json").trim()).unwrap() else {
        panic!("not an ack")
    };
    assert_eq!((ack.tr_id.as_str(), ack.tr_key.as_str()), ("H0STASP0", "005930"));
    assert_eq!(ack.outcome, AckOutcome::Subscribed);
    assert_eq!(ack.code, "OPSP0000");
    let (key, iv) = ack.cipher.clone().unwrap();
    assert!(FrameCipher::new(&key, &iv).is_ok());
    assert!(!format!("{ack:?}").contains(&key));
}

#[test]
fn notice_ack_without_msg_cd() {
    let Control::Ack(ack) = control::parse(read("ws-subscribe-ack-H0STCNI9.json").trim()).unwrap() else {
        panic!("not an ack")
    };
    assert_eq!((ack.tr_id.as_str(), ack.tr_key.as_str()), ("H0STCNI9", "MYHTSID"));
    assert_eq!(ack.outcome, AckOutcome::Subscribed);
    // The fixture's placeholder key/iv are too short for AES-256: a clear error, not a panic.
    let (key, iv) = ack.cipher.unwrap();
    assert!(matches!(
        FrameCipher::new(&key, &iv),
        Err(ParseError::CipherKey { .. })
    ));
}

#[test]
fn subscribe_request_is_not_a_server_message() {
    // The request template has no body.rt_cd/msg1; it must not be mistaken for a success.
    match control::parse(read("ws-subscribe-request.json").trim()) {
        Ok(Control::Ack(a)) => assert!(!a.outcome.is_subscribed()),
        Ok(other) => panic!("{other:?}"),
        Err(_) => {}
    }
}
