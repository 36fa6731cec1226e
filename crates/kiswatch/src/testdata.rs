//! Recorded KIS realtime frames from the repository's `testdata/kis/`, decoded by the `kis` parsers.

use std::path::PathBuf;

use kis::realtime::messages::{Message, decode_frame};
use kis::realtime::{Execution, OrderBook};

fn read(name: &str) -> String {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/kis")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every record of every frame (one frame per non-empty line) of a sample file.
pub fn messages(name: &str) -> Vec<Message> {
    read(name)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .flat_map(|l| decode_frame(l, |_| None).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

/// The trade captured from the real server on 2026-07-24 (005930 at 250,500, down 19,500).
pub fn execution() -> Execution {
    match messages("ws-frame-H0STCNT0-captured-20260724.txt").remove(0) {
        Message::Execution(e) => e,
        other => panic!("not an execution: {other:?}"),
    }
}

/// The order book captured from the real server (005930 at 12:07:55, best ask 71,500).
pub fn order_book() -> OrderBook {
    match messages("ws-frame-H0STASP0-captured-b.txt").remove(0) {
        Message::OrderBook(b) => b,
        other => panic!("not an order book: {other:?}"),
    }
}
