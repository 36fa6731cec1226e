//! Evaluating market-scope conditions after a sweep: 10 conditions over 2,500 listings with 500
//! sessions of daily history each (issue 22: ≤ 20 ms). Prints the time to load the history and the
//! median and worst of 20 sweeps (each revises every stock's forming bar and evaluates every
//! condition on it), then each condition backtested over the whole history (`ScanBacktester`: matches
//! and entries per day, forward returns against the universe).
//!
//! `cargo run --release -p market --example scan_bench`

use std::time::Instant;

use jiff::civil::{Date, Time, date};
use market::krx::Calendar;
use market::scan::{MarketScan, ScanBacktester, SweepBar};
use market::{Candle, Condition, StockCode};

const STOCKS: usize = 2_500;
const DAYS: usize = 500;
const SWEEPS: usize = 20;

const CONDITIONS: [&str; 10] = [
    "D: 정배열",
    "D: volume > 2 * avg(volume, 20)",
    "D: cross_up(ma(5), ma(20))",
    "D: close > ma(240)",
    "D: change_pct > 5",
    "D: close > ma(60) and volume > avg(volume, 60)",
    "D: close < ma(20) and close > ma(120)",
    "W: close > ma(20)",
    "M: close > ma(12)",
    "D: 골든크로스",
];

/// A deterministic generator (no dependency): xorshift.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn bar(d: Date, close: i64, volume: u64) -> Candle {
    Candle {
        time: d.to_datetime(Time::midnight()),
        open: close,
        high: close + close / 100,
        low: close - close / 100,
        close,
        volume,
    }
}

fn main() {
    let calendar = Calendar::krx();
    let today = date(2026, 11, 20);
    let days: Vec<Date> = {
        let first = calendar.trading_days_before(today, DAYS);
        calendar
            .trading_days(first, today)
            .filter(|d| *d < today)
            .collect()
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut last = Vec::with_capacity(STOCKS);
    let histories: Vec<(StockCode, Vec<Candle>)> = (0..STOCKS)
        .map(|i| {
            let code = StockCode::parse(&format!("{:06}", 100_000 + i)).unwrap();
            let mut price = 1_000.0 + 100_000.0 * rng.next();
            let bars = days
                .iter()
                .map(|d| {
                    price *= 1.0 + (rng.next() - 0.5) * 0.06;
                    bar(*d, price as i64, (10_000.0 * (0.5 + rng.next())) as u64)
                })
                .collect();
            last.push(price);
            (code, bars)
        })
        .collect();
    let mut scans: Vec<MarketScan> = CONDITIONS
        .iter()
        .map(|c| MarketScan::new(Condition::parse(c).unwrap()).unwrap())
        .collect();
    let t = Instant::now();
    for scan in &mut scans {
        for (code, bars) in &histories {
            scan.load_history(*code, bars, today, calendar);
        }
    }
    let load = t.elapsed();
    let mut times = Vec::new();
    let mut matches = 0;
    for s in 0..SWEEPS {
        let bars: Vec<SweepBar> = histories
            .iter()
            .zip(&last)
            .map(|((code, _), p)| SweepBar {
                code: *code,
                today: bar(
                    today,
                    (p * (1.0 + (rng.next() - 0.5) * 0.04)) as i64,
                    1_000 * (s as u64 + 1),
                ),
            })
            .collect();
        let at = today.to_datetime(Time::constant(9, 0, 0, 0));
        let t = Instant::now();
        for scan in &mut scans {
            scan.sweep(at, &bars, false);
        }
        times.push(t.elapsed());
        matches = scans.iter().map(|s| s.members().len()).sum();
    }
    times.sort();
    println!(
        "{} conditions × {STOCKS} listings × {} days: history loaded in {:.0} ms; a sweep's evaluation: median {:.2} ms, worst {:.2} ms ({SWEEPS} sweeps; {matches} matches in the last)",
        CONDITIONS.len(),
        days.len(),
        load.as_secs_f64() * 1e3,
        times[SWEEPS / 2].as_secs_f64() * 1e3,
        times[SWEEPS - 1].as_secs_f64() * 1e3,
    );
    // The backtest of a market scan: each condition over every listing's whole history (daily
    // conditions on the daily bars; W and M on the bars aggregated from them, as the service does).
    let mut bt_times = Vec::new();
    for c in CONDITIONS {
        let condition = Condition::parse(c).unwrap();
        let t = Instant::now();
        let mut tester = ScanBacktester::new(&condition).unwrap();
        for (_, bars) in &histories {
            if condition.period == market::Period::Day {
                tester.add(bars);
            } else {
                tester.add(&market::candle::aggregate(bars, condition.period, calendar));
            }
        }
        let r = tester.finish();
        bt_times.push((c, t.elapsed(), r.entries, r.days.len()));
    }
    for (c, took, entries, days) in &bt_times {
        println!(
            "backtest {c:<48} {:>7.1} ms ({entries} entries over {days} days)",
            took.as_secs_f64() * 1e3
        );
    }
}
