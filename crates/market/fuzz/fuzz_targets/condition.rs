//! Any bytes as a condition: parse, print and parse again, compile, evaluate over a few bars, run the
//! trigger engine and a backtest. All of it runs on a thread with a small stack (256 KiB), so a
//! recursion that some input could drive without bound overflows it and the fuzzer reports a crash;
//! a panic anywhere is a crash too.
#![no_main]

use jiff::SignedDuration;
use jiff::civil::date;
use libfuzzer_sys::fuzz_target;
use market::backtest::backtest;
use market::candle::Candle;
use market::code::StockCode;
use market::condition::{Condition, Program};
use market::state::{Layout, SeriesState};
use market::trigger::{Tick, TriggerEngine};

const SMALL_STACK: usize = 256 * 1024;

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

fn exercise(src: &str) {
    let condition = match Condition::parse(src) {
        Ok(c) => c,
        Err(e) => {
            assert!(e.position <= src.chars().count());
            let _ = (e.message_en(), e.message_ko());
            return;
        }
    };
    assert!(condition.expr.depth() <= market::condition::limits::MAX_DEPTH);
    if let Ok(again) = Condition::parse(&condition.to_string()) {
        assert_eq!(again.to_string(), condition.to_string());
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
    let Ok(code) = StockCode::parse("005930") else { return };
    let Ok(stock) = engine.add_stock(code) else { return };
    if engine.add_condition(1, condition.clone(), Default::default()).is_err() {
        return;
    }
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
}

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data).into_owned();
    let worker = std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(move || exercise(&src))
        .expect("spawn the small-stack thread");
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
});
